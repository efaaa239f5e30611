import IntermodalCore
import SystemPackage

/// How the host reaches a server in an instance, for the network and app workloads.
public enum NetworkPath: String, Sendable, Codable, CaseIterable {
    /// The instance's own address on a bridge: a container's veth on `intermodal0`, a guest's tap
    /// on it. No NAT.
    case bridge
    /// A port published on the host (`-p`): the host's address, DNAT to the instance.
    case published
    /// The instance shares the host's network namespace (natively: loopback).
    case host
}

/// Where the disk-io workload writes in an instance.
public enum DiskTarget: String, Sendable, Codable, CaseIterable {
    /// The instance's own root file system: overlayfs over the image's layers (our containers,
    /// podman, docker), the bundle's plain directory (runc, crun), the guest's virtio disk, or
    /// the host's file system (native).
    case root
    /// A host directory bind-mounted into the instance (`-v`), bypassing overlayfs.
    case volume
}

/// A server running in an instance, and where the host reaches each of its ports.
public struct ServiceInstance: Sendable {
    public var id: String
    /// The address the host connects to.
    public var address: String
    /// The instance's port -> the port the host connects to (the same but for published ports).
    public var ports: [Int: Int]
    /// Backend-private handle (a container name, a task key).
    public var handle: String

    public init(id: String, address: String, ports: [Int: Int], handle: String) {
        self.id = id
        self.address = address
        self.ports = ports
        self.handle = handle
    }

    public func port(_ instancePort: Int) -> Int { ports[instancePort] ?? instancePort }
}

/// What the throughput workloads ask of a backend beyond ``Backend/run(_:)``. A backend that
/// cannot offer one says so by its lists (the workload then records the gap as a note), never by
/// pretending.
public protocol ThroughputCapable: Backend {
    /// Where disk-io can write, with what each is on this backend (for the results' notes).
    nonisolated var diskTargets: [DiskTarget: String] { get }
    /// The network paths a server in this backend's instances can be reached by.
    nonisolated var networkPaths: [NetworkPath] { get }
    /// Runs `arguments` to completion with `volume` (a host directory) mounted at
    /// ``volumeMountPoint``.
    func run(_ arguments: [String], volume: FilePath) async throws(IntermodalError) -> InstanceRun
    /// Starts `arguments` (a server listening on `ports`) in a new instance reachable by `path`;
    /// returns once the instance runs (the workload waits for the ports itself).
    func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance
    /// Ends the service's instance and removes everything it used.
    func stopService(_ service: ServiceInstance) async
}

/// Where a volume appears inside an instance.
public let volumeMountPoint = "/volume"

extension ThroughputCapable {
    public func run(_ arguments: [String], volume: FilePath) async throws(IntermodalError) -> InstanceRun {
        throw IntermodalError(.unsupported, "\(name) has no volumes")
    }
}
