#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import Synchronization
import SystemPackage
import Testing

/// commit and build, for real, on the busybox image.
@Suite("Images from containers: commit and build", .serialized)
struct ImageWorkflowTests {
    @Test("commit: the new image has the added file, a deleted file stays deleted, and a history entry")
    func commit() async throws {
        try await EngineFixture.with { f in
            let (made, _) = try await f.run(["sh", "-c", "echo committed > /added.txt && rm /etc/group && mkdir -p /opt/d"])
            #expect(made.status.code == 0)
            let image = try await f.engine.commit(made.container.id, as: try ImageReference.parse("committed:v1"), comment: "test commit")
            #expect(image.layers.count == 2)
            let last = try #require(image.configuration.history?.last)
            #expect(last.createdBy == "sh -c echo committed > /added.txt && rm /etc/group && mkdir -p /opt/d")
            #expect(last.comment == "test commit")

            let (run, output) = try await f.run(
                ["sh", "-c", "cat /added.txt; test -e /etc/group || echo group-deleted; test -d /opt/d && echo dir"],
                image: "committed:v1")
            #expect(run.status.code == 0)
            #expect(output == "committed\ngroup-deleted\ndir\n")
            // The original image is untouched.
            let (original, originalOutput) = try await f.run(["sh", "-c", "test -e /etc/group && echo group-present"])
            #expect(original.status.code == 0)
            #expect(originalOutput == "group-present\n")
        }
    }

    @Test("build: instructions, .dockerignore, ADD of a tar; the rebuild is all CACHED; a change re-runs")
    func buildWithCache() async throws {
        try await EngineFixture.with { f in
            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-context")
            defer { try? FileSystem.removeTree(context) }
            try FileSystem.writeAtomically("""
                ARG BASE=busybox
                FROM ${BASE}
                ARG GREETING=hello
                ENV WHO=world \\
                    TOOL="build test"
                WORKDIR /app
                COPY greeting.txt ./
                COPY . /ctx/
                ADD files.tar /opt/
                RUN echo "$GREETING $WHO from $(cat greeting.txt)" > out.txt && rm /etc/group
                LABEL purpose=test
                EXPOSE 8080
                USER nobody
                CMD ["cat", "/app/out.txt"]
                """, to: context.appending("Dockerfile"))
            try FileSystem.writeAtomically("the context\n", to: context.appending("greeting.txt"))
            try FileSystem.writeAtomically("do not copy\n", to: context.appending("secret.txt"))
            try FileSystem.writeAtomically("secret.txt\n*.log\n", to: context.appending(".dockerignore"))
            try FileSystem.writeAtomically("log\n", to: context.appending("build.log"))
            let tarTree = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-tar")
            defer { try? FileSystem.removeTree(tarTree) }
            try FileSystem.createDirectory(tarTree.appending("from-tar"))
            try FileSystem.writeAtomically("inside the tar\n", to: tarTree.appending("from-tar/file"))
            try await HostCommand.check("tar", ["-cf", context.appending("files.tar").string, "-C", tarTree.string, "from-tar"])

            let lines = LineCollector()
            let tag = try ImageReference.parse("built:test")
            let first = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { lines.add($0) }))
            #expect(first.cachedSteps == 0)
            #expect(first.executedSteps >= 10)
            let config = try #require(first.image.configuration.config)
            #expect(config.cmd == ["cat", "/app/out.txt"])
            #expect(config.user == "nobody")
            #expect(config.workingDir == "/app")
            #expect(config.labels?["purpose"] == "test")
            #expect(config.exposedPorts?["8080/tcp"] != nil)
            #expect(config.env?.contains("TOOL=build test") == true)
            #expect(!(config.env?.contains { $0.hasPrefix("GREETING=") } ?? true), "ARG leaked into the image")
            let history = first.image.configuration.history ?? []
            #expect(history.contains { $0.createdBy?.hasPrefix("RUN ") == true && $0.emptyLayer != true })
            #expect(history.contains { $0.createdBy == "ENV WHO=world     TOOL=\"build test\"" && $0.emptyLayer == true })

            let (run, output) = try await f.run([], image: "built:test")
            #expect(run.status.code == 0)
            #expect(output == "hello world from the context\n")
            let (check, listing) = try await f.run(
                ["sh", "-c", "ls /ctx | sort | tr '\\n' ' '; cat /opt/from-tar/file; test -e /etc/group || echo no-group"],
                options: RunOptions(user: "root"), image: "built:test")
            #expect(check.status.code == 0)
            #expect(listing == "Dockerfile files.tar greeting.txt inside the tar\nno-group\n")

            // Rebuild: every step from the cache, the same image.
            let again = LineCollector()
            let second = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { again.add($0) }))
            #expect(second.executedSteps == 0)
            #expect(second.cachedSteps == first.executedSteps)
            #expect(second.image.configDigest == first.image.configDigest)
            #expect(again.lines.filter { $0.contains("CACHED") }.count == second.cachedSteps)

            // A changed file invalidates its COPY and every later step, not the earlier ones.
            try FileSystem.writeAtomically("changed\n", to: context.appending("greeting.txt"))
            let third = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { _ in }))
            #expect(third.cachedSteps == 3)   // ARG GREETING, ENV, WORKDIR
            let (_, changed) = try await f.run([], image: "built:test")
            #expect(changed == "hello world from changed\n")
            // --build-arg changes what RUN sees.
            let fourth = try await f.engine.build(BuildOptions(context: context, tag: tag, buildArguments: ["GREETING": "bonjour"], progress: { _ in }))
            #expect(fourth.executedSteps > 0)
            let (_, greeted) = try await f.run([], image: "built:test")
            #expect(greeted == "bonjour world from changed\n")
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).filter(\.buildStep).isEmpty, "a build-step container was left")
        }
    }

    @Test("a failing RUN and a malformed Dockerfile: errors with file and line, nothing left behind (CLI)")
    func buildErrors() async throws {
        try await EngineFixture.with { f in
            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-context")
            defer { try? FileSystem.removeTree(context) }
            let before = try f.engine.store.list().count
            try FileSystem.writeAtomically("FROM busybox\n# fine so far\nRUNN echo typo\n", to: context.appending("Dockerfile"))
            let malformed = try await f.cli(["build", "-t", "broken:x", context.string])
            #expect(malformed.exitCode == 125)
            #expect(malformed.standardError.contains("Dockerfile:3: unknown instruction 'RUNN'"), "\(malformed.standardError)")

            try FileSystem.writeAtomically("FROM busybox\nRUN echo step-one\nRUN exit 7\n", to: context.appending("Custom.dockerfile"))
            let failing = try await f.cli(["build", "-t", "broken:x", "-f", context.appending("Custom.dockerfile").string, context.string])
            #expect(failing.exitCode == 125)
            #expect(failing.standardError.contains("Custom.dockerfile:3: RUN exit 7: the command returned a non-zero code: 7"), "\(failing.standardError)")
            #expect(failing.standardOutput.contains("step-one"))
            #expect((try? f.engine.store.resolve("broken:x")) == nil)
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).isEmpty, "a build-step container was left")
            // The finished step stays in the store as cache; nothing else was added.
            #expect(try f.engine.store.list().count == before + 1)
            let mounts = try FileSystem.readString("/proc/self/mountinfo")
            #expect(!mounts.contains(f.root.string))
        }
    }
}

/// Collects progress lines from a build (called from the build's task).
final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    func add(_ line: String) { storage.withLock { $0.append(line) } }
}


/// The no-overlay fallback: a flattened copy per container, and commit still works.
@Suite("Containers without overlayfs (copy fallback)", .serialized)
struct CopyFallbackTests {
    @Test("copy-mode containers start from the image, keep changes apart, and commit to a runnable image")
    func copyMode() async throws {
        try await EngineFixture.with { f in
            var engine = f.engine
            engine.useOverlay = false
            let first = try await engine.run(image: "busybox", options: RunOptions(command: ["sh", "-c", "echo copy > /copied && rm /etc/group"]), output: .log)
            #expect(first.status.code == 0)
            #expect(first.container.rootfsMode == .copy)
            #expect(!FileSystem.exists(engine.directory(of: first.container).upper))
            let second = try await engine.run(image: "busybox", options: RunOptions(command: ["sh", "-c", "test -e /copied || echo fresh"]), output: .log)
            #expect(try FileSystem.readString(FilePath(second.container.logPath)) == "fresh\n")
            _ = try await engine.commit(first.container.id, as: try ImageReference.parse("copied:v1"))
            let (run, output) = try await f.run(["sh", "-c", "cat /copied; test -e /etc/group || echo no-group"], image: "copied:v1")
            #expect(run.status.code == 0)
            #expect(output == "copy\nno-group\n")
        }
    }
}

/// SIGINT in the middle of a `RUN`: the step container is killed and removed, the build fails with
/// "interrupted", finished steps stay usable as cache, and nothing stays mounted.
@Suite("Interrupted build", .serialized)
struct InterruptedBuildTests {
    @Test("Ctrl-C during RUN leaves the store consistent and nothing behind")
    func interrupt() async throws {
        try await EngineFixture.with { f in
            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-context")
            defer { try? FileSystem.removeTree(context) }
            try FileSystem.writeAtomically("FROM busybox\nRUN echo first > /first\nRUN echo started; sleep 60\n", to: context.appending("Dockerfile"))
            let output = context.appending("build.out")
            let pid = try spawn([EngineFixture.intermodal.string, "build", "--root", f.root.string, "-t", "slow:x", context.string], output: output)
            var sawStart = false
            for _ in 0..<1200 where !sawStart {
                try await Task.sleep(for: .milliseconds(100))
                sawStart = ((try? FileSystem.readString(output)) ?? "").split(separator: "\n").contains("started")
            }
            #expect(sawStart, "the RUN step never started: \((try? FileSystem.readString(output)) ?? "")")
            kill(pid, SIGINT)
            var status: Int32 = 0
            let began = ContinuousClock.now
            while waitpid(pid, &status, WNOHANG) == 0 {
                guard ContinuousClock.now - began < .seconds(30) else { kill(pid, SIGKILL); break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let text = (try? FileSystem.readString(output)) ?? ""
            // 128 + SIGINT, as every interrupted command exits (the build goes through the same
            // Interruption as import and vm run; its own flag made it exit 125 before). That it
            // exited by itself (not SIGKILLed after 30 s above) shows it did not wait for the step.
            #expect((status >> 8) & 0xff == 130, "\(text)")
            #expect(text.contains("interrupted"), "\(text)")
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).isEmpty)
            #expect(!(try FileSystem.readString("/proc/self/mountinfo")).contains(f.root.string))
            #expect((try? f.engine.store.resolve("slow:x")) == nil)
            // The store still works, and the finished first step is reused.
            try FileSystem.writeAtomically("FROM busybox\nRUN echo first > /first\nRUN cat /first\n", to: context.appending("Dockerfile"))
            let lines = LineCollector()
            let rebuilt = try await f.engine.build(BuildOptions(context: context, tag: try ImageReference.parse("slow:x"), progress: { lines.add($0) }))
            #expect(rebuilt.cachedSteps == 1)
            #expect(rebuilt.executedSteps == 1)
        }
    }

    private func spawn(_ argv: [String], output: FilePath) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.string, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw IntermodalError.system("cannot start \(argv[0])", errno: rc) }
        return pid
    }
}

extension ImageWorkflowTests {
    @Test("ADD of a hostile tar (a symlink out of the root, then a file through it) writes nothing outside the image")
    func hostileAdd() async throws {
        try await EngineFixture.with { f in
            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-context")
            defer { try? FileSystem.removeTree(context) }
            let outside = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-outside")
            defer { try? FileSystem.removeTree(outside) }
            // escape -> <outside>; escape/pwned: a classic tar traversal through a symlink.
            let staging = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-tar-staging")
            defer { try? FileSystem.removeTree(staging) }
            symlink(outside.string, staging.appending("escape").string)
            try await HostCommand.check("tar", ["-cf", context.appending("evil.tar").string, "-C", staging.string, "escape"])
            let payload = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-tar-payload")
            defer { try? FileSystem.removeTree(payload) }
            try FileSystem.createDirectory(payload.appending("escape"))
            try FileSystem.writeAtomically("pwned\n", to: payload.appending("escape/pwned"))
            try await HostCommand.check("tar", ["-rf", context.appending("evil.tar").string, "-C", payload.string, "escape/pwned"])
            try FileSystem.writeAtomically("FROM busybox\nADD evil.tar /x/\n", to: context.appending("Dockerfile"))
            // The store's unpacker either refuses the entry or keeps it inside the image (an absolute
            // link target means the image's own root); either way nothing reaches the host.
            let built = try? await f.engine.build(BuildOptions(context: context, tag: try ImageReference.parse("evil:x"), progress: { _ in }))
            #expect(!FileSystem.exists(outside.appending("pwned")), "ADD wrote outside the image")
            #expect(try FileSystem.list(outside).isEmpty)
            if built != nil {
                let (run, listing) = try await f.run(["sh", "-c", "find / -name pwned -xdev 2>/dev/null"], image: "evil:x")
                #expect(run.status.code == 0)
                #expect(listing.contains("pwned"), "the entry should have landed inside the image: \(listing)")
            }
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).filter(\.buildStep).isEmpty)
        }
    }

    @Test("build: COPY through a symlink of the context that points outside it copies nothing from the host")
    func contextSymlinkStaysInside() async throws {
        try await EngineFixture.with { f in
            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-context")
            defer { try? FileSystem.removeTree(context) }
            let outside = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-outside")
            defer { try? FileSystem.removeTree(outside) }
            try FileSystem.writeAtomically("host-secret\n", to: outside.appending("token"))
            // sec -> <outside>, an absolute link: Docker resolves it inside the context (sec/token
            // is then <context><outside>/token, absent here), never on the host.
            symlink(outside.string, context.appending("sec").string)
            try FileSystem.writeAtomically("FROM busybox\nCOPY sec/token /token\n", to: context.appending("Dockerfile"))
            let leaked = try? await f.engine.build(BuildOptions(context: context, tag: try ImageReference.parse("leak:x"), progress: { _ in }))
            if leaked != nil {
                let (_, out) = try await f.run(["cat", "/token"], image: "leak:x")
                #expect(!out.contains("host-secret"), "the host's file was copied into the image")
            }
            #expect(leaked == nil, "COPY of a path through a link out of the context must fail as not found")
            // The same through a glob, and through `..` inside the link's target.
            symlink("../../../../../../../../..\(outside.string)", context.appending("up").string)
            try FileSystem.writeAtomically("FROM busybox\nCOPY up/tok* /\n", to: context.appending("Dockerfile"))
            let globbed = try? await f.engine.build(BuildOptions(context: context, tag: try ImageReference.parse("leak:y"), progress: { _ in }))
            #expect(globbed == nil, "a glob through a link out of the context matches nothing")
            // A link inside the context still works as a directory of the context.
            try FileSystem.createDirectory(context.appending("real"))
            try FileSystem.writeAtomically("inside\n", to: context.appending("real/file"))
            symlink("/real", context.appending("alias").string)
            try FileSystem.writeAtomically("FROM busybox\nCOPY alias/file /file\n", to: context.appending("Dockerfile"))
            _ = try await f.engine.build(BuildOptions(context: context, tag: try ImageReference.parse("inside:x"), progress: { _ in }))
            let (_, out) = try await f.run(["cat", "/file"], image: "inside:x")
            #expect(out.contains("inside"))
        }
    }
}

extension ImageWorkflowTests {
    @Test("multi-stage: COPY --from an earlier stage; only the last stage is the result; rebuild is cached")
    func multiStage() async throws {
        try await EngineFixture.with { f in
            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-build-context")
            defer { try? FileSystem.removeTree(context) }
            try FileSystem.writeAtomically("""
                FROM busybox AS builder
                RUN mkdir -p /out && echo built-in-stage > /out/artifact && ln -s artifact /out/link && echo stage-only > /stage-marker
                FROM busybox
                COPY --from=builder /out/artifact /app/
                COPY --from=builder /out /copied/
                CMD ["sh", "-c", "cat /app/artifact; ls /copied | tr '\\\\n' ' '; readlink /copied/link; test -e /stage-marker || echo no-marker"]
                """, to: context.appending("Dockerfile"))
            let tag = try ImageReference.parse("multi:stage")
            let first = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { _ in }))
            #expect(first.executedSteps == 4)
            let (run, output) = try await f.run([], image: "multi:stage")
            #expect(run.status.code == 0)
            #expect(output == "built-in-stage\nartifact link artifact\nno-marker\n")
            let second = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { _ in }))
            #expect(second.executedSteps == 0)
            #expect(second.image.configDigest == first.image.configDigest)
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).filter(\.buildStep).isEmpty)

            try FileSystem.writeAtomically("FROM busybox AS a\nFROM busybox\nCOPY --from=a /no/such/file /x\n", to: context.appending("Dockerfile"))
            do {
                _ = try await f.engine.build(BuildOptions(context: context, progress: { _ in }))
                Issue.record("copying a missing file from a stage succeeded")
            } catch let error as IntermodalError {
                #expect(error.message.hasPrefix("Dockerfile:3: /no/such/file: not found in a"), "\(error.message)")
            }
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).filter(\.buildStep).isEmpty)
        }
    }
}

extension ImageWorkflowTests {
    /// Makes `depth` directories `d` below `top`, each opened from its parent (the path is too
    /// long for path calls), with `leaf` holding "deep" at the bottom.
    static func makeDeepTree(_ top: FilePath, depth: Int) throws {
        try FileSystem.createDirectory(top)
        var fd = open(top.string, O_RDONLY | O_DIRECTORY)
        for _ in 0..<depth {
            mkdirat(fd, "d", 0o755)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            close(fd)
            fd = next
            guard fd >= 0 else { throw IntermodalError.system("cannot make the deep tree") }
        }
        let leaf = openat(fd, "leaf", O_CREAT | O_WRONLY, 0o644)
        _ = write(leaf, "deep\n", 5)
        close(leaf)
        close(fd)
    }

    /// The contents of `leaf` `depth` levels of `d` below `top`, read relative to each parent.
    static func deepLeaf(_ top: FilePath, depth: Int) -> String? {
        var fd = open(top.string, O_RDONLY | O_DIRECTORY)
        for _ in 0..<depth where fd >= 0 {
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            close(fd)
            fd = next
        }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let leaf = openat(fd, "leaf", O_RDONLY)
        guard leaf >= 0 else { return nil }
        defer { close(leaf) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(leaf, &buffer, 64)
        return n >= 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    /// Issue 14, item 2: COPY walked its source recursively by path, so a directory thousands of
    /// levels deep failed once paths passed PATH_MAX (and would overflow the stack further down).
    @Test("build: COPY of a directory 3,000 levels deep (paths twice PATH_MAX) copies it whole, and is cached")
    func copyOfADeepDirectory() async throws {
        let depth = 3_000
        try await EngineFixture.with(in: FileSystem.isDirectory("/dev/shm") ? "/dev/shm" : nil) { f in
            let context = f.root.appending("context")
            try Self.makeDeepTree(context.appending("deep"), depth: depth)
            try FileSystem.writeAtomically("FROM busybox\nCOPY deep /deep/\n", to: context.appending("Dockerfile"))
            let tag = try ImageReference.parse("deep:copy")
            let built = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { _ in }))
            #expect(built.executedSteps == 1)
            let layers = try await f.engine.store.unpackedLayers(of: built.image)
            let top = try #require(layers.last)
            #expect(Self.deepLeaf(top.appending("deep"), depth: depth) == "deep\n", "the leaf \(depth) levels down is in the COPY layer")
            let again = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { _ in }))
            #expect(again.cachedSteps == 1 && again.image.configDigest == built.image.configDigest, "the deep source hashes the same")
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).isEmpty)
            try await f.engine.store.remove("deep:copy")
            let findings = await f.engine.check()
            #expect(findings.filter { $0.severity == .damage }.isEmpty, "system check after the deep build: \(findings)")
        }
    }

    /// COPY below the destination goes relative to each directory now: a symbolic link the image
    /// has on the way is still followed inside the image's root, as the container would see it.
    @Test("build: COPY into a directory the image reaches through a symlink lands in its target")
    func copyThroughALinkInTheImage() async throws {
        try await EngineFixture.with { f in
            let context = f.root.appending("context")
            try FileSystem.createDirectory(context.appending("tree/link/sub"))
            try FileSystem.writeAtomically("through\n", to: context.appending("tree/link/sub/file"))
            try FileSystem.writeAtomically(
                "FROM busybox\nRUN mkdir -p /real/sub && ln -s /real /link\nCOPY tree /\n", to: context.appending("Dockerfile"))
            let tag = try ImageReference.parse("linked:copy")
            _ = try await f.engine.build(BuildOptions(context: context, tag: tag, progress: { _ in }))
            let (run, output) = try await f.run(["sh", "-c", "test -L /link && cat /real/sub/file"], image: "linked:copy")
            #expect(run.status.code == 0 && output == "through\n", "\(output)")
        }
    }
}
