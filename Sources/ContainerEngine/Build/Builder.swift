#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

extension Engine {
    /// `build`: runs a Dockerfile step by step. `RUN` executes in a container of the current image
    /// (host network, as `docker build`), `COPY`/`ADD` write into a snapshot of it, and each of these
    /// becomes a layer; other instructions change only the configuration (an empty-layer history
    /// entry). Every step is looked up in the layer cache first (printed as `CACHED`).
    ///
    /// An interrupted or failed build removes its step container; images of finished steps stay
    /// in the store, so the store is always consistent and the next build reuses them.
    public func build(_ options: BuildOptions) async throws(IntermodalError) -> BuildResult {
        let dockerfilePath = options.dockerfile ?? options.context.appending("Dockerfile")
        guard FileSystem.exists(dockerfilePath) else {
            throw IntermodalError(.notFound, "Dockerfile not found: \(dockerfilePath)")
        }
        let name = options.dockerfile?.string ?? "Dockerfile"
        let dockerfile = try Dockerfile.parse(try FileSystem.readString(dockerfilePath), name: name)
        var builder = try DockerfileBuilder(engine: self, dockerfile: dockerfile, options: options)
        await pruneAbandonedBuildSteps()
        return try await builder.run()
    }

    /// Build-step containers whose build died (killed, host crash) are removed before a new build.
    func pruneAbandonedBuildSteps() async {
        guard let records = try? registry.all() else { return }
        for record in records where record.buildStep {
            if let owner = record.ownerPID, Self.isAlive(owner) { continue }
            try? await remove(record.id, force: true)
        }
    }
}

/// The state of one build as it walks the instructions.
struct DockerfileBuilder {
    let engine: Engine
    let dockerfile: Dockerfile
    let options: BuildOptions
    let context: BuildContext
    let cache: BuildCache

    /// The image so far (nil after `FROM scratch` until a step makes one).
    var image: Image?
    var configuration = ImageConfiguration()
    /// `ARG`s declared before the first `FROM` (usable in `FROM` and re-declarable in a stage).
    var globalArguments: [String: String] = [:]
    /// `ARG`s declared in the current stage, with their values.
    var arguments: [String: String] = [:]
    var shell = ["/bin/sh", "-c"]
    /// Finished stages by name (`FROM ... AS name`), usable as a later `FROM`.
    var stages: [String: Image] = [:]
    var cachedSteps = 0
    var executedSteps = 0

    init(engine: Engine, dockerfile: Dockerfile, options: BuildOptions) throws(IntermodalError) {
        self.engine = engine
        self.dockerfile = dockerfile
        self.options = options
        context = try BuildContext(root: options.context)
        cache = try BuildCache(storeRoot: engine.root, store: engine.store)
    }

    mutating func run() async throws(IntermodalError) -> BuildResult {
        let total = dockerfile.instructions.count
        var currentStage: String?
        var seenFrom = false
        for (index, instruction) in dockerfile.instructions.enumerated() {
            if Interruption.isInterrupted {
                throw IntermodalError(.interrupted, "build interrupted before \(dockerfile.name):\(instruction.line)")
            }
            options.progress("Step \(index + 1)/\(total) : \(instruction.text)")
            do throws(IntermodalError) {
                if instruction.keyword == .from {
                    if let currentStage, let image { stages[currentStage] = image }
                    currentStage = try from(instruction)
                    seenFrom = true
                } else if !seenFrom {
                    try globalArgument(instruction)   // the parser allows only ARG before FROM
                } else {
                    try await step(instruction)
                }
            } catch {
                // Messages from deeper down get the file and line; parser errors have them already.
                if error.message.hasPrefix("\(dockerfile.name):") { throw error }
                throw IntermodalError(error.code, "\(dockerfile.name):\(instruction.line): \(error.message)", cause: error.cause)
            }
        }
        guard var result = image else {
            throw IntermodalError(.invalidArgument, "\(dockerfile.name): the build made no image (FROM scratch with no steps)")
        }
        if let tag = options.tag {
            try await engine.store.tag(result, as: tag)
            result = try engine.store.resolve(tag.localName)
        }
        options.progress("Successfully built \(Self.shortID(result))")
        if let tag = options.tag { options.progress("Successfully tagged \(tag.localName)") }
        return BuildResult(image: result, cachedSteps: cachedSteps, executedSteps: executedSteps)
    }

    // MARK: - Instructions

    /// `FROM image [AS name]`: start a stage. Returns the stage name.
    private mutating func from(_ instruction: Instruction) throws(IntermodalError) -> String? {
        let words = try words(instruction, variables: globalArguments)
        let reference = words[0]
        let stageName = words.count == 3 ? words[2].lowercased() : nil
        if let stage = stages[reference.lowercased()] {
            image = stage
        } else if reference == "scratch" {
            image = nil
        } else {
            image = try engine.store.resolve(reference)
        }
        configuration = image?.configuration ?? ImageConfiguration()
        if image == nil { configuration.config = ImageConfiguration.ContainerConfig(env: ["PATH=\(InstanceProcess.defaultPath)"]) }
        arguments = [:]
        shell = ["/bin/sh", "-c"]
        options.progress(" ---> \(image.map(Self.shortID) ?? "scratch")")
        return stageName
    }

    /// `ARG` before the first `FROM`: a value for `FROM` lines, re-declarable inside stages.
    private mutating func globalArgument(_ instruction: Instruction) throws(IntermodalError) {
        let text = instruction.rawArguments
        let name = String(text.prefix { $0 != "=" })
        let value = text.contains("=") ? try shellWords(globalArguments).expand(String(text.drop { $0 != "=" }.dropFirst())) : ""
        globalArguments[name] = options.buildArguments[name] ?? value
    }

    private mutating func step(_ instruction: Instruction) async throws(IntermodalError) {
        var config = configuration.config ?? ImageConfiguration.ContainerConfig()
        let variables = expansionVariables(config)
        switch instruction.keyword {
        case .from:
            return
        case .arg:
            guard case .shell(let text) = instruction.arguments else { return }
            let name = String(text.prefix { $0 != "=" })
            var value: String? = text.contains("=") ? try shellWords(variables).expand(String(text.drop { $0 != "=" }.dropFirst())) : nil
            if let given = options.buildArguments[name] { value = given }
            arguments[name] = value ?? globalArguments[name] ?? ""
            try await metadata(instruction, createdBy: "ARG \(text)", config: config)
        case .env:
            for (key, value) in try pairs(instruction, variables: variables, legacy: true) {
                var env = EnvironmentList(config.env ?? [])
                env[key] = value
                config.env = env.entries
            }
            try await metadata(instruction, createdBy: "ENV \(instruction.rawArguments)", config: config)
        case .label:
            var labels = config.labels ?? [:]
            for (key, value) in try pairs(instruction, variables: variables, legacy: false) { labels[key] = value }
            config.labels = labels
            try await metadata(instruction, createdBy: "LABEL \(instruction.rawArguments)", config: config)
        case .workdir:
            let dir = try shellWords(variables).expand(instruction.rawArguments)
            config.workingDir = dir.hasPrefix("/") ? dir : (config.workingDir ?? "/").appendingPathComponent(dir)
            try await metadata(instruction, createdBy: "WORKDIR \(config.workingDir!)", config: config)
        case .user:
            config.user = try shellWords(variables).expand(instruction.rawArguments)
            try await metadata(instruction, createdBy: "USER \(config.user!)", config: config)
        case .cmd:
            config.cmd = commandWords(instruction)
            try await metadata(instruction, createdBy: "CMD \(Self.describe(config.cmd!))", config: config)
        case .entrypoint:
            config.entrypoint = commandWords(instruction)
            // Docker: a new ENTRYPOINT drops the CMD inherited from the base image.
            if image?.configuration.config?.cmd == config.cmd { config.cmd = nil }
            try await metadata(instruction, createdBy: "ENTRYPOINT \(Self.describe(config.entrypoint!))", config: config)
        case .expose:
            var ports = config.exposedPorts ?? [:]
            for port in try shellWords(variables).words(instruction.rawArguments) {
                ports[port.contains("/") ? port : port + "/tcp"] = ImageConfiguration.EmptyObject()
            }
            config.exposedPorts = ports
            try await metadata(instruction, createdBy: "EXPOSE \(instruction.rawArguments)", config: config)
        case .stopsignal:
            config.stopSignal = try shellWords(variables).expand(instruction.rawArguments)
            try await metadata(instruction, createdBy: "STOPSIGNAL \(config.stopSignal!)", config: config)
        case .volume:
            var volumes = config.volumes ?? [:]
            let list: [String]
            if case .exec(let w) = instruction.arguments { list = w } else { list = try shellWords(variables).words(instruction.rawArguments) }
            for v in list { volumes[v] = ImageConfiguration.EmptyObject() }
            config.volumes = volumes
            try await metadata(instruction, createdBy: "VOLUME \(list)", config: config)
        case .shell:
            if case .exec(let w) = instruction.arguments { shell = w }
            options.progress(" ---> (shell \(shell.joined(separator: " ")))")
        case .maintainer:
            configuration.author = instruction.rawArguments
            try await metadata(instruction, createdBy: "MAINTAINER \(instruction.rawArguments)", config: config)
        case .run:
            try await runStep(instruction, config: config)
        case .copy, .add:
            try await copyStep(instruction, variables: variables)
        }
    }

    /// A step that only changes the configuration: an image with an empty-layer history entry.
    private mutating func metadata(_ instruction: Instruction, createdBy: String, config: ImageConfiguration.ContainerConfig) async throws(IntermodalError) {
        var newConfiguration = configuration
        newConfiguration.config = config
        let key = BuildCache.key(parent: image, parts: ["meta", createdBy, configurationFingerprint(newConfiguration)])
        if let cached = cachedImage(key) { return adopt(cached, cached: true) }
        let made = try await engine.store.commit(
            base: image, upperDirectory: nil, configuration: newConfiguration,
            history: HistoryEntry(createdBy: createdBy, emptyLayer: true), tag: nil)
        try cache.record(key, image: made)
        adopt(made, cached: false)
    }

    /// `RUN`: a container of the current image runs the command; its changes become a layer.
    private mutating func runStep(_ instruction: Instruction, config: ImageConfiguration.ContainerConfig) async throws(IntermodalError) {
        let command: [String]
        switch instruction.arguments {
        case .shell(let text): command = shell + [text]
        case .exec(let words): command = words
        }
        // Build arguments reach RUN as environment (not stored in the image), unless ENV set them.
        let env = EnvironmentList(config.env ?? [])
        let argumentEnvironment = arguments.sorted { $0.key < $1.key }.filter { env[$0.key] == nil }.map { "\($0.key)=\($0.value)" }
        let createdBy = "RUN " + command.joined(separator: " ")
        let key = BuildCache.key(parent: image, parts: ["run", createdBy] + argumentEnvironment)
        if let cached = cachedImage(key) { return adopt(cached, cached: true) }
        guard let base = image else {
            throw IntermodalError(.invalidArgument, "RUN needs an image with a shell (the stage starts FROM scratch)")
        }
        let runOptions = RunOptions(
            command: command, entrypoint: [], environment: argumentEnvironment,
            workingDirectory: config.workingDir, user: config.user, network: .host, discardLog: true)
        let (record, spec) = try await engine.prepare(image: base.configDigest, options: runOptions, buildStep: true)
        options.progress(" ---> Running in \(record.shortID)")
        // A signal kills the step container, so that the wait on it ends.
        let runtime = engine.runtime, id = record.id
        let stopping = Interruption.register { try? runtime.kill(id: id, signal: SIGKILL, all: true) }
        defer { if let stopping { Interruption.unregister(stopping) } }
        let made: Image
        do throws(IntermodalError) {
            if stopping == nil { throw IntermodalError(.interrupted, "build interrupted before RUN started") }
            let outcome = try await engine.runCreated(record, spec: spec, output: .stream, forwardSignals: false)
            if Interruption.isInterrupted {
                throw IntermodalError(.interrupted, "build interrupted during RUN")
            }
            guard outcome.status.code == 0 else {
                throw IntermodalError(
                    .externalFailure,
                    "RUN \(instruction.rawArguments): the command returned a non-zero code: \(outcome.status.code)")
            }
            made = try await commitStep(record, createdBy: createdBy)
        } catch {
            try? await engine.remove(record.id, force: true)
            throw error
        }
        try? await engine.remove(record.id, force: true)
        try cache.record(key, image: made)
        adopt(made, cached: false)
    }

    /// `COPY`/`ADD`: files from the context (or, with `COPY --from=STAGE`, from an earlier stage or
    /// an image) written into a snapshot of the current image.
    private mutating func copyStep(_ instruction: Instruction, variables: [String: String]) async throws(IntermodalError) {
        var words: [String]
        switch instruction.arguments {
        case .exec(let w): words = try w.map { (s: String) throws(IntermodalError) -> String in try shellWords(variables).expand(s) }
        case .shell(let text): words = try shellWords(variables).words(text)
        }
        guard words.count >= 2 else { throw IntermodalError(.invalidArgument, "\(instruction.keyword.rawValue) needs a source and a destination") }
        let destinationWord = words.removeLast()
        let isAdd = instruction.keyword == .add
        if isAdd, let url = words.first(where: { $0.hasPrefix("http://") || $0.hasPrefix("https://") }) {
            throw IntermodalError(.unsupported, "ADD from a URL (\(url)) is not supported: download it into the build context")
        }
        let chown = try instruction.flags["chown"].map { (s: String) throws(IntermodalError) -> String in try shellWords(variables).expand(s) }
        let createdBy = "\(instruction.keyword.rawValue) \(instruction.rawArguments)"
        let workdir = configuration.config?.workingDir ?? "/"

        // Where the files come from: the context (with .dockerignore), or another image's snapshot.
        var fromImage: Image?
        var sources: [String] = []
        let key: String
        if let from = try instruction.flags["from"].map({ (s: String) throws(IntermodalError) -> String in try shellWords(variables).expand(s) }) {
            let stage: Image
            if let named = stages[from.lowercased()] { stage = named } else { stage = try engine.store.resolve(from) }
            fromImage = stage
            for word in words {
                guard !PathPattern(word).isGlob else {
                    throw IntermodalError(.unsupported, "COPY --from with a wildcard (\(word)) is not supported: name the path")
                }
                sources.append(word)
            }
            key = BuildCache.key(parent: image, parts: ["copy-from", stage.configDigest, createdBy, chown ?? "", workdir])
        } else {
            for word in words { sources += try context.sources(word) }
            key = BuildCache.key(parent: image, parts: ["copy", createdBy, chown ?? "", try context.contentHash(sources), workdir])
        }
        if let cached = cachedImage(key) { return adopt(cached, cached: true) }

        // Destination: relative to WORKDIR; a directory when it ends in "/" or there are several sources.
        var destination = destinationWord.hasPrefix("/") ? destinationWord : workdir.appendingPathComponent(destinationWord)
        let intoDirectory = destinationWord.hasSuffix("/") || sources.count > 1 || destinationWord == "."
        if destination.count > 1 && destination.hasSuffix("/") { destination.removeLast() }
        let context = self.context

        var sourceContainer: ContainerRecord?
        if let fromImage {
            sourceContainer = try await engine.create(
                image: fromImage.configDigest,
                options: RunOptions(command: ["/bin/true"], entrypoint: [], network: .none, discardLog: true), buildStep: true)
        }
        let sourceRoot = sourceContainer.map { engine.directory(of: $0).rootfs }
        let made: Image
        do throws(IntermodalError) {
            made = try await withWritableRoot(createdBy: createdBy) { (rootfs) throws(IntermodalError) in
                var ownership = TreeCopy.Ownership.fixed(uid: 0, gid: 0)
                if let chown {
                    let user = try UserResolver.resolve(chown, rootfs: rootfs)
                    ownership = .fixed(uid: user.uid, gid: user.gid)
                }
                let resolvedDestination = try ScopedPath.resolve(destination, in: rootfs)
                let destinationIsDirectory = intoDirectory || FileSystem.isDirectory(resolvedDestination)
                for source in sources {
                    // A stage's paths are resolved inside that image, never on the host.
                    let hostPath: FilePath
                    if let sourceRoot {
                        hostPath = try ScopedPath.resolve(source, in: sourceRoot)
                    } else {
                        hostPath = try context.hostPath(source)
                    }
                    guard FileSystem.exists(hostPath) else {
                        throw IntermodalError(.notFound, "\(source): not found in \(instruction.flags["from"] ?? "the build context")")
                    }
                    if isAdd, !BuildContext.isRealDirectory(hostPath), TreeCopy.looksLikeArchive(hostPath) {
                        try await extract(hostPath, into: destination, rootfs: rootfs)
                        continue
                    }
                    var copier = TreeCopy(rootfs: rootfs, ownership: ownership)
                    let fromContext = sourceRoot == nil
                    copier.include = { !fromContext || !context.ignore.excludes($0) }
                    if BuildContext.isRealDirectory(hostPath) {
                        // A directory source copies its contents, not the directory itself.
                        try FileSystem.createDirectory(resolvedDestination)
                        for name in try FileSystem.list(hostPath) {
                            let rel = source.isEmpty ? name : "\(source)/\(name)"
                            guard copier.include(rel) else { continue }
                            try copier.copy(hostPath.appending(name), relative: rel, to: destination + "/" + name)
                        }
                    } else {
                        let name = hostPath.lastComponent?.string ?? source
                        try copier.copy(hostPath, relative: source, to: destinationIsDirectory ? destination + "/" + name : destination)
                    }
                }
            }
        } catch {
            if let sourceContainer { try? await engine.remove(sourceContainer.id, force: true) }
            throw error
        }
        if let sourceContainer { try? await engine.remove(sourceContainer.id, force: true) }
        try cache.record(key, image: made)
        adopt(made, cached: false)
    }

    /// `ADD archive.tar.gz /dest`: the archive goes through the store's checked unpacker (entries
    /// with `../`, absolute paths or links escaping the root are refused, by name), as a temporary
    /// image that is flattened into a scratch directory and copied in through ``TreeCopy``. The host's
    /// `tar` is never used: it would follow a symlink from the archive out of the directory.
    private func extract(_ archive: FilePath, into destination: String, rootfs: FilePath) async throws(IntermodalError) {
        let scratch = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-add", in: engine.root)
        defer { try? FileSystem.removeTree(scratch) }
        let temporary = ImageReference(repository: "intermodal-build-add", tag: String(try Identifiers.newID().prefix(16)))
        do throws(IntermodalError) {
            let image = try await engine.store.importRootfs(
                archive: archive, name: temporary, createdBy: "ADD \(archive.lastComponent?.string ?? "")")
            try await engine.store.flatten(image, into: scratch.appending("tree"))
            try? await engine.store.remove(temporary.localName)
        } catch {
            try? await engine.store.remove(temporary.localName)
            throw error
        }
        try FileSystem.createDirectory(try ScopedPath.resolve(destination, in: rootfs))
        let copier = TreeCopy(rootfs: rootfs, ownership: .preserve)
        let tree = scratch.appending("tree")
        for name in try FileSystem.list(tree) {
            try copier.copy(tree.appending(name), relative: name, to: destination + "/" + name)
        }
    }

    /// Gives `body` a writable root of the current image and commits what it changed as a layer.
    private func withWritableRoot(
        createdBy: String, _ body: (FilePath) async throws(IntermodalError) -> Void
    ) async throws(IntermodalError) -> Image {
        guard let base = image else {
            // FROM scratch: the layer is simply a new tree.
            let tree = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-scratch", in: engine.root)
            defer { try? FileSystem.removeTree(tree) }
            try await body(tree)
            return try await engine.store.commit(
                base: nil, upperDirectory: tree, configuration: configuration,
                history: HistoryEntry(createdBy: createdBy), tag: nil)
        }
        let record = try await engine.create(
            image: base.configDigest, options: RunOptions(command: ["/bin/true"], entrypoint: [], network: .none, discardLog: true),
            buildStep: true)
        do throws(IntermodalError) {
            try await body(engine.directory(of: record).rootfs)
            let made = try await commitStep(record, createdBy: createdBy)
            try await engine.remove(record.id, force: true)
            return made
        } catch {
            try? await engine.remove(record.id, force: true)
            throw error
        }
    }

    /// The step container's changes as a layer on the current image, with the current configuration.
    private func commitStep(_ record: ContainerRecord, createdBy: String) async throws(IntermodalError) -> Image {
        let dir = engine.directory(of: record)
        let history = HistoryEntry(createdBy: createdBy)
        switch record.rootfsMode {
        case .overlay:
            return try await engine.store.commit(base: image, upperDirectory: dir.upper, configuration: configuration, history: history, tag: nil)
        case .copy:
            try RootfsSnapshot.unmount(dir)
            return try await engine.store.commit(base: nil, upperDirectory: dir.rootfs, configuration: configuration, history: history, tag: nil)
        }
    }

    // MARK: - Helpers

    private func cachedImage(_ key: String) -> Image? {
        guard !options.noCache, let hit = cache.lookup(key) else { return nil }
        return hit
    }

    private mutating func adopt(_ made: Image, cached: Bool) {
        image = made
        configuration = made.configuration
        if cached {
            cachedSteps += 1
            options.progress(" ---> CACHED \(Self.shortID(made))")
        } else {
            executedSteps += 1
            options.progress(" ---> \(Self.shortID(made))")
        }
    }

    /// Variables visible to expansion: the stage's ARGs, overridden by ENV (as in Docker).
    private func expansionVariables(_ config: ImageConfiguration.ContainerConfig) -> [String: String] {
        var v = arguments
        for (k, value) in EnvironmentList(config.env ?? []).dictionary { v[k] = value }
        return v
    }

    private func shellWords(_ variables: [String: String]) -> ShellWords {
        ShellWords(escape: dockerfile.escape, variables: variables)
    }

    private func words(_ instruction: Instruction, variables: [String: String]) throws(IntermodalError) -> [String] {
        let w = try shellWords(variables).words(instruction.rawArguments)
        guard !w.isEmpty else { throw IntermodalError(.invalidArgument, "\(instruction.keyword.rawValue) needs an argument") }
        return w
    }

    /// ENV/LABEL pairs: `K=V ...`, or for ENV the legacy `K V with spaces`.
    private func pairs(_ instruction: Instruction, variables: [String: String], legacy: Bool) throws(IntermodalError) -> [(String, String)] {
        let text = instruction.rawArguments
        let firstWord = String(text.prefix { !$0.isWhitespace })
        if legacy && !firstWord.contains("=") {
            let value = try shellWords(variables).expand(String(text.dropFirst(firstWord.count)).trimmed)
            return [(firstWord, value)]
        }
        var result: [(String, String)] = []
        for word in try shellWords(variables).words(text) {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw IntermodalError(.invalidArgument, "\(instruction.keyword.rawValue): '\(word)' is not KEY=VALUE")
            }
            result.append((String(word[..<eq]), String(word[word.index(after: eq)...])))
        }
        return result
    }

    /// CMD/ENTRYPOINT: exec form as is, shell form through the stage's shell.
    private func commandWords(_ instruction: Instruction) -> [String] {
        switch instruction.arguments {
        case .exec(let w): w
        case .shell(let text): shell + [text]
        }
    }

    /// What of the configuration a metadata step's cache entry must match.
    private func configurationFingerprint(_ c: ImageConfiguration) -> String {
        (try? JSON.encode(c.config, pretty: true)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func describe(_ words: [String]) -> String {
        "[" + words.map { "\"\($0)\"" }.joined(separator: " ") + "]"
    }

    static func shortID(_ image: Image) -> String {
        String((image.configDigest.hasPrefix("sha256:") ? image.configDigest.dropFirst(7) : Substring(image.configDigest)).prefix(12))
    }
}

/// Path joining for container paths (strings, not host paths).
extension String {
    /// `"/app" + "src"` -> `"/app/src"`; cleans `.` and `..` like a path.
    func appendingPathComponent(_ component: String) -> String {
        "/" + PathPattern.clean(self + "/" + component)
    }
}
