import ContainerRuntime
import ImageStore
import IntermodalCore
import Synchronization
import SystemPackage

/// What `build` is asked to do.
public struct BuildOptions: Sendable {
    /// The build context directory (`COPY` sources are relative to it).
    public var context: FilePath
    /// The Dockerfile; `<context>/Dockerfile` when nil.
    public var dockerfile: FilePath?
    /// The name to give the result.
    public var tag: ImageReference?
    /// `--build-arg K=V`: values for `ARG`s.
    public var buildArguments: [String: String]
    /// Ignore the layer cache (every step runs).
    public var noCache: Bool
    /// Where progress lines go (`Step 2/5 : RUN ...`, ` ---> CACHED ...`).
    public var progress: @Sendable (String) -> Void
    /// Lets another thread (a signal handler) stop the build cleanly.
    public var interruption: BuildInterruption?

    public init(
        context: FilePath, dockerfile: FilePath? = nil, tag: ImageReference? = nil,
        buildArguments: [String: String] = [:], noCache: Bool = false,
        progress: @escaping @Sendable (String) -> Void = { StandardStreams.writeOutput($0 + "\n") },
        interruption: BuildInterruption? = nil
    ) {
        self.context = context
        self.dockerfile = dockerfile
        self.tag = tag
        self.buildArguments = buildArguments
        self.noCache = noCache
        self.progress = progress
        self.interruption = interruption
    }
}

/// The outcome of a build.
public struct BuildResult: Sendable {
    public var image: Image
    /// Steps whose image came from the layer cache, and steps that ran.
    public var cachedSteps: Int
    public var executedSteps: Int
}

/// A flag a signal handler sets to stop a build between steps; the step container running at that
/// moment is killed so the build does not wait for it. The builder then removes it and throws
/// `.interrupted`; images stored by finished steps stay (and serve as cache next time).
public final class BuildInterruption: Sendable {
    private struct State {
        var interrupted = false
        var runningContainer: String?
        var runtime: Runtime?
    }
    private let state = Mutex(State())

    public init() {}

    public var isInterrupted: Bool { state.withLock { $0.interrupted } }

    public func interrupt() {
        let (id, runtime) = state.withLock { s -> (String?, Runtime?) in
            s.interrupted = true
            return (s.runningContainer, s.runtime)
        }
        if let id, let runtime { try? runtime.kill(id: id, signal: 9, all: true) }
    }

    /// Registers the step container (nil when it is done). Returns true when the build was
    /// already interrupted: the caller must not start it. Flag and container are read and written
    /// under one lock, so an interrupt either sees the container or is seen here.
    @discardableResult
    func running(_ id: String?, runtime: Runtime) -> Bool {
        state.withLock {
            $0.runningContainer = id
            $0.runtime = runtime
            return $0.interrupted
        }
    }
}
