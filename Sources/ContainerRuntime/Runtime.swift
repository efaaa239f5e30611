import IntermodalCore
import SystemPackage

/// Our OCI runtime as an in-process library: the same lifecycle as `intermodal-runtime`
/// (state under ``stateRoot``, interoperable with the CLI), used by the engine and the harness.
public struct Runtime: Sendable {
    /// Where per-container state directories live (`<stateRoot>/<id>/state.json`).
    public var stateRoot: FilePath

    public init(stateRoot: FilePath = IntermodalPaths.runtimeStateRoot) {
        self.stateRoot = stateRoot
    }

    /// Sets up the container described by `<bundle>/config.json` and holds its process until
    /// ``start(id:)``. On failure nothing is left behind.
    public func create(id: String, bundle: FilePath, io: ProcessIO = .inherit) async throws(IntermodalError) -> Container {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// Releases the process of a created container (it then runs the user's program).
    public func start(id: String) async throws(IntermodalError) {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// The container's current OCI state.
    public func state(id: String) throws(IntermodalError) -> ContainerState {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// Sends `signal` to the container's init process, or with `all` to every process in it.
    public func kill(id: String, signal: Int32, all: Bool = false) throws(IntermodalError) {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// Removes a stopped container (with `force`, kills it first): cgroups, state, hooks run.
    public func delete(id: String, force: Bool = false) async throws(IntermodalError) {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// The states of all containers under ``stateRoot``.
    public func list() throws(IntermodalError) -> [ContainerState] {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// create + start + wait + delete; output goes to `io`; returns exit status and phase timestamps.
    public func run(id: String, bundle: FilePath, io: ProcessIO = .inherit) async throws(IntermodalError) -> RunResult {
        throw IntermodalError(.unsupported, "not yet implemented")
    }

    /// Runs an extra process inside a running container's namespaces/cgroup (like `runc exec`).
    public func exec(id: String, process: Spec.Process, io: ProcessIO = .inherit) async throws(IntermodalError) -> ExitStatus {
        throw IntermodalError(.unsupported, "not yet implemented")
    }
}
