#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// An OCI runtime's CLI (`runc`, `crun`) on a bundle of the image made by our bundle generator:
/// `RUNTIME --root STATE run --bundle B ID`, timed from outside like every CLI.
public actor OCIRuntimeBackend: Backend {
    public nonisolated let name: String
    public nonisolated let kind = BackendKind.peer
    private var executable: FilePath?
    private var context: BenchContext?
    private var stateRoot: FilePath?
    private var rootfs: FilePath?
    /// A bundle (config.json only; the root file system is shared) per argument vector.
    private var bundles: [BundleKey: FilePath] = [:]
    private var counter = 0
    /// crun 1.8 refuses hybrid cgroups: there it runs in a mount namespace without the cgroup2 mount.
    private var mountNamespace: CInt?
    private var ociVersion: String?
    private var idle: Set<String> = []

    public init(name: String) { self.name = name }

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        guard let exe = HostCommand.find(name) else {
            throw IntermodalError(.notFound, "\(name) is not installed (apt-get install \(name))")
        }
        executable = exe
        self.context = context
        var adjustments: [String] = []
        if name == "crun" {
            // crun before 1.9 (which has no `features` command to say what it takes) refuses
            // spec versions newer than 1.0.2, whatever the host's cgroups.
            if (try? await HostCommand.run(exe.string, ["features"]))?.succeeded != true {
                ociVersion = "1.0.2"
                adjustments.append("ociVersion 1.0.2 in crun's config.json: this crun (no `features` command) refuses newer spec versions")
            }
            if Self.hybridCgroups {
                mountNamespace = try await Self.namespaceWithoutCgroup2()
                adjustments.append("crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted: crun 1.8 refuses this host's hybrid cgroups (the namespace is entered before the spawn, so it costs crun nothing)")
            }
        }
        context.journal.add(.directory(context.workDirectory.string))
        stateRoot = context.workDirectory.appending("state")
        try FileSystem.createDirectory(stateRoot!)
        let dir = context.workDirectory.appending("rootfs")
        try await context.store.flatten(context.image, into: dir)
        rootfs = dir
        let version = await HostFacts.version(exe.string)
        return Readiness(version: version, adjustments: adjustments)
    }

    static var hybridCgroups: Bool {
        FileSystem.exists("/sys/fs/cgroup/unified") && KernelInterfaces.isCgroup2("/sys/fs/cgroup") != true
    }

    /// A mount namespace, kept open by its descriptor, in which cgroup v1 is all there is.
    static func namespaceWithoutCgroup2() async throws(IntermodalError) -> CInt {
        let fd = await DedicatedThread.run { ThreadMountNamespace.makePrivate(hiding: "/sys/fs/cgroup/unified") }
        guard fd >= 0 else { throw .system("cannot make a mount namespace for crun") }
        return fd
    }

    /// What a bundle differs by: the command, a volume, whether it has its own network namespace.
    struct BundleKey: Hashable {
        var arguments: [String]
        var volume: FilePath?
        var hostNetwork = false
    }

    private func bundle(for arguments: [String], volume: FilePath? = nil, hostNetwork: Bool = false) throws(IntermodalError) -> FilePath {
        let key = BundleKey(arguments: arguments, volume: volume, hostNetwork: hostNetwork)
        if let b = bundles[key] { return b }
        guard let context, let rootfs else { throw IntermodalError(.invalidState, "\(name): not prepared") }
        let dir = context.workDirectory.appending("bundle-\(bundles.count)")
        try FileSystem.createDirectory(dir)
        var spec = try PeerBundle.spec(
            image: context.image, process: .init(command: arguments), id: "bench-\(name)", rootfs: rootfs, ociVersion: ociVersion)
        spec.root?.path = rootfs.string
        // Unique per backend: runc and crun must not meet in one cgroup path.
        spec.linux?.cgroupsPath = "/intermodal-bench-\(name)-\(getpid())"
        if let volume {
            spec.mounts = (spec.mounts ?? []) + [Spec.Mount(destination: volumeMountPoint, type: "bind", source: volume.string, options: ["rbind", "rw"])]
        }
        if hostNetwork { spec.linux?.namespaces?.removeAll { $0.type == "network" } }
        try FileSystem.writeAtomically(try JSON.encode(spec, pretty: true), to: dir.appending("config.json"))
        bundles[key] = dir
        return dir
    }

    private func nextID() -> String {
        counter += 1
        return "intermodal-bench-\(name)-\(getpid())-\(counter)"
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        try await run(bundle: try bundle(for: arguments))
    }

    private func run(bundle b: FilePath) async throws(IntermodalError) -> InstanceRun {
        guard let context, let executable, let stateRoot else { throw IntermodalError(.invalidState, "\(name): not prepared") }
        let id = nextID()
        let t = try await ProcessTimer.run(
            [executable.string, "--root", stateRoot.string, "run", "--bundle", b.string, id],
            environment: ["PATH=\(InstanceProcess.defaultPath)"], mountNamespace: mountNamespace, timeout: context.timeout)
        return InstanceRun(status: t.status, output: t.output, spawnToExit: t.spawnToExit, spawnToFirstOutput: t.spawnToFirstOutput)
    }

    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        try await startDetached(bundle: try bundle(for: ["sleep", "3600"]))
    }

    private func startDetached(bundle b: FilePath) async throws(IntermodalError) -> IdleInstance {
        guard let context, let executable, let stateRoot else { throw IntermodalError(.invalidState, "\(name): not prepared") }
        let id = nextID()
        context.journal.add(.ociContainer(runtime: executable.string, stateRoot: stateRoot.string, id: id, hideCgroup2: mountNamespace != nil))
        let t = try await ProcessTimer.run(
            [executable.string, "--root", stateRoot.string, "run", "--detach", "--bundle", b.string, id],
            environment: ["PATH=\(InstanceProcess.defaultPath)"], mountNamespace: mountNamespace, timeout: context.timeout)
        guard t.status.code == 0 else {
            throw IntermodalError(.externalFailure, "\(name) run --detach failed: \(String(decoding: t.output, as: UTF8.self).trimmed)")
        }
        idle.insert(id)
        let state = try await ProcessTimer.run(
            [executable.string, "--root", stateRoot.string, "state", id],
            environment: ["PATH=\(InstanceProcess.defaultPath)"], mountNamespace: mountNamespace, timeout: context.timeout)
        let text = String(decoding: state.output, as: UTF8.self)
        guard let pid = Self.pid(inState: text) else {
            throw IntermodalError(.externalFailure, "\(name) state \(id): no pid in \(text.prefix(200))")
        }
        // No monitor stays behind: runc and crun exit once the container runs.
        return IdleInstance(
            id: id, processes: HostFacts.processTree(pid).map { .init(component: "container", pid: $0) },
            cgroupMemoryFile: HostFacts.cgroupMemoryFile(of: pid), handle: id)
    }

    /// `"pid": 1234` in a runtime's state JSON.
    static func pid(inState text: String) -> Int32? {
        guard let r = text.range(of: "\"pid\"") else { return nil }
        let digits = text[r.upperBound...].drop { !$0.isNumber }.prefix { $0.isNumber }
        return Int32(digits)
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let context, let executable, let stateRoot else { return }
        _ = try? await ProcessTimer.run(
            [executable.string, "--root", stateRoot.string, "delete", "--force", instance.handle],
            environment: ["PATH=\(InstanceProcess.defaultPath)"], mountNamespace: mountNamespace, timeout: context.timeout)
        idle.remove(instance.handle)
        context.journal.remove(.ociContainer(runtime: executable.string, stateRoot: stateRoot.string, id: instance.handle, hideCgroup2: mountNamespace != nil))
    }

    public func footprint() async -> [FootprintItem] {
        guard let rootfs else { return [] }
        return [FootprintItem(what: "bundle root file system (its own copy of the image)", bytes: await HostFacts.allocatedBytes(rootfs), perInstance: false)]
    }

    public func cleanup() async {
        for id in idle { await stopIdle(IdleInstance(id: id, processes: [], handle: id)) }
        if let context {
            try? FileSystem.removeTree(context.workDirectory)
            context.journal.remove(.directory(context.workDirectory.string))
        }
        if let fd = mountNamespace { close(fd) }
        mountNamespace = nil
    }
}

extension OCIRuntimeBackend: ThroughputCapable {
    public nonisolated var diskTargets: [DiskTarget: String] {
        [.root: "the bundle's root directory on the host's file system (no overlay: a raw runtime has no image layers)",
         .volume: "a bind mount of a host directory"]
    }
    /// A raw OCI runtime has no network of its own: its container gets the host's namespace.
    public nonisolated var networkPaths: [NetworkPath] { [.host] }

    public func run(_ arguments: [String], volume: FilePath) async throws(IntermodalError) -> InstanceRun {
        try await run(bundle: try bundle(for: arguments, volume: volume))
    }

    public func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance {
        guard path == .host else { throw IntermodalError(.unsupported, "\(name): only the host network") }
        let instance = try await startDetached(bundle: try bundle(for: arguments, hostNetwork: true))
        return ServiceInstance(id: instance.id, address: "127.0.0.1", ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, $0) }), handle: instance.handle)
    }

    public func stopService(_ service: ServiceInstance) async {
        await stopIdle(IdleInstance(id: service.id, processes: [], handle: service.handle))
    }
}
