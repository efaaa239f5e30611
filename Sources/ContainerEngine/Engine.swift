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
    let registry: ContainerRegistry
    let logger = IntermodalLog.logger("engine")

    public init(
        root: FilePath, runtime: Runtime = Runtime(), network: BridgeNetwork = BridgeNetwork(),
        monitorExecutable: FilePath? = nil
    ) throws(IntermodalError) {
        self.root = root
        self.store = try ImageStore(root: root)
        self.runtime = runtime
        self.network = network
        self.monitorExecutable = monitorExecutable
        self.registry = try ContainerRegistry(storeRoot: root)
    }

    /// A container by full ID, unique ID prefix or name.
    public func container(_ reference: String) throws(IntermodalError) -> ContainerRecord {
        try reconcile(try registry.find(reference))
    }

    /// The containers `ps` shows: running ones, or all with `all` (build steps are never shown).
    public func list(all: Bool = false) throws(IntermodalError) -> [ContainerRecord] {
        var result: [ContainerRecord] = []
        for record in try registry.all() where !record.buildStep {
            let current = (try? reconcile(record)) ?? record
            if all || current.status == .running { result.append(current) }
        }
        return result
    }

    /// The files of a container.
    public func directory(of record: ContainerRecord) -> ContainerDirectory { registry.directory(record.id) }
}
