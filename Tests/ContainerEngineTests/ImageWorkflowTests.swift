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
            #expect(try f.engine.list(all: true).filter { $0.buildStep }.isEmpty)
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
            #expect(try f.engine.list(all: true).isEmpty, "a build-step container was left")
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

