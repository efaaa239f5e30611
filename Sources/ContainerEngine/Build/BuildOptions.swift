import ContainerRuntime
import ImageStore
import IntermodalCore
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
    /// SIGINT and SIGTERM stop a build cleanly once ``Interruption/install()`` was called: the
    /// step container running then is killed, removed, and `.interrupted` is thrown; images stored
    /// by finished steps stay (and serve as cache next time).
    public var progress: @Sendable (String) -> Void

    public init(
        context: FilePath, dockerfile: FilePath? = nil, tag: ImageReference? = nil,
        buildArguments: [String: String] = [:], noCache: Bool = false,
        progress: @escaping @Sendable (String) -> Void = { StandardStreams.writeOutput($0 + "\n") }
    ) {
        self.context = context
        self.dockerfile = dockerfile
        self.tag = tag
        self.buildArguments = buildArguments
        self.noCache = noCache
        self.progress = progress
    }
}

/// The outcome of a build.
public struct BuildResult: Sendable {
    public var image: Image
    /// Steps whose image came from the layer cache, and steps that ran.
    public var cachedSteps: Int
    public var executedSteps: Int
}
