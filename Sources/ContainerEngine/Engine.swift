#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import ImageStore
import IntermodalCore
import Logging
import SystemPackage

/// The Docker-style workflow on our own runtime: containers as writable overlay snapshots of
/// images, run in-process through ``Runtime``; `commit` and `build` turn them into new images.
///
/// Every method works from the records under `<root>/containers/`, so several `intermodal`
/// processes (a foreground `run`, a detached monitor, `ps`, `rm`) cooperate safely.
public struct Engine: Sendable {
    /// The store root (images under it, containers under `containers/`).
    public let root: FilePath
    public let store: ImageStore
    public let runtime: Runtime
    public let network: BridgeNetwork
    /// The `intermodal` executable that hosts detached containers (`run -d`); nil disables `-d`.
    public var monitorExecutable: FilePath?
    /// Snapshot images with overlayfs when the kernel allows it (true), or always copy them (false:
    /// the fallback path, also a baseline for measuring what overlayfs saves).
    public var useOverlay = true
    let registry: ContainerRegistry
    let logger = IntermodalLog.logger("engine")

    /// `runtime`: nil gives the store its own runtime state root (``runtimeStateRoot(forStore:)``),
    /// so two stores on one host never see or delete each other's containers.
    /// `layerSizeLimit`: the most one layer may expand to when unpacked (``ImageStore/layerSizeLimit``).
    public init(
        root: FilePath, runtime: Runtime? = nil, network: BridgeNetwork = BridgeNetwork(),
        monitorExecutable: FilePath? = nil, layerSizeLimit: Int64 = LayerSizeLimit.default
    ) throws(IntermodalError) {
        // Absolute, so that records, bundles and mounts mean the same from any working directory
        // (the detached monitor, `logs` run elsewhere).
        let root = FileSystem.absolute(root)
        self.root = root
        self.store = try ImageStore(root: root, layerSizeLimit: layerSizeLimit)
        self.runtime = runtime ?? Runtime(stateRoot: Self.runtimeStateRoot(forStore: root))
        self.network = network
        self.monitorExecutable = monitorExecutable
        self.registry = try ContainerRegistry(storeRoot: root)
    }

    /// Where the runtime keeps the state of this store's containers: a directory of its own on
    /// the tmpfs (`/run/intermodal-engine/stores/<hash of the root>/runtime`), gone at reboot with
    /// the containers it describes. `intermodal-runtime --root DIR` reads it.
    public static func runtimeStateRoot(forStore root: FilePath) -> FilePath {
        let key = String(Digest.hex(Digest.sha256(Array(root.string.utf8))).prefix(16))
        return FilePath("/run/intermodal-engine/stores").appending(key).appending("runtime")
    }

    /// A container by full ID, unique ID prefix or name.
    public func container(_ reference: String) async throws(IntermodalError) -> ContainerRecord {
        try await reconcile(try registry.find(reference))
    }

    /// The containers `ps` shows: running ones, or all with `all`. Build-step containers only
    /// with `includeBuildSteps` (for clean-up tools and tests).
    public func list(all: Bool = false, includeBuildSteps: Bool = false) async throws(IntermodalError) -> [ContainerRecord] {
        var result: [ContainerRecord] = []
        for record in try registry.all() where includeBuildSteps || !record.buildStep {
            let current = (try? await reconcile(record)) ?? record
            if all || current.status == .running { result.append(current) }
        }
        return result
    }

    /// The files of a container.
    public func directory(of record: ContainerRecord) -> ContainerDirectory { registry.directory(record.id) }
}

extension Engine {
    /// `inspect`: the records as a pretty JSON array, with each container's runtime config (`config.json`).
    public func inspect(_ references: [String]) async throws(IntermodalError) -> String {
        struct Inspection: Encodable {
            var container: ContainerRecord
            var directory: String
            var spec: Spec?
            var gateway: String?
        }
        var items: [Inspection] = []
        for reference in references {
            let record = try await container(reference)
            let dir = registry.directory(record.id)
            let spec = FileSystem.exists(dir.config) ? try? Spec.load(bundle: dir.path) : nil
            let gateway = record.network == .bridge && record.status == .running ? try? network.gateway() : nil
            items.append(Inspection(container: record, directory: dir.path.string, spec: spec, gateway: gateway))
        }
        return String(decoding: try JSON.encode(items, pretty: true), as: UTF8.self) + "\n"
    }

    /// `ps` text for one container's STATUS column: `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`.
    public static func statusText(_ record: ContainerRecord, now: Double = WallClock.now) -> String {
        if record.damaged == true { return "Unreadable record" }
        switch record.status {
        case .created: return record.error == nil ? "Created" : "Created (interrupted)"
        case .running: return "Up \(WallClock.humanDuration(now - (record.startedUnix ?? record.createdUnix)))"
        case .exited:
            let ago = WallClock.humanDuration(now - (record.finishedUnix ?? record.createdUnix))
            return "Exited (\(record.exitCode.map(String.init) ?? "?")) \(ago) ago"
        }
    }

    /// `ps` text for PORTS: the published ports of a running container as Docker shows them
    /// (`0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp`); empty otherwise.
    public static func portsText(_ record: ContainerRecord) -> String {
        guard record.status == .running else { return "" }
        return record.options.ports.map(\.description).joined(separator: ", ")
    }

    /// `ps` text for CREATED: `5 seconds ago`.
    public static func createdText(_ record: ContainerRecord, now: Double = WallClock.now) -> String {
        WallClock.humanDuration(now - record.createdUnix) + " ago"
    }
}
