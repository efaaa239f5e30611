#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// A temporary store with a busybox image, an engine on it, and the built `intermodal` binary.
/// `tearDown` removes every container (mounts, veths, cgroups) and the store; call it in `defer`.
struct EngineFixture {
    let root: FilePath
    let engine: Engine

    /// The directory of the test bundle, where SwiftPM also puts the package's executables.
    static var productsDirectory: FilePath {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink("/proc/self/exe", &buffer, 4096)
        return FilePath(String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)).removingLastComponent()
    }

    static var intermodal: FilePath { productsDirectory.appending("intermodal") }

    /// `base`: where the store goes (default `$TMPDIR` or `/tmp`); `/dev/shm` for tests that make
    /// and free thousands of directories (this host's disk discards each freed one synchronously).
    init(image: String = "busybox:latest", in base: FilePath? = nil) async throws {
        root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-engine-test", in: base)
        do {
            // The store's own runtime state root: nothing shared with the host's or other tests' containers.
            engine = try Engine(root: root, monitorExecutable: Self.intermodal)
            _ = try await engine.store.bootstrapBusybox(name: try ImageReference.parse(image))
        } catch {
            try? FileSystem.removeTree(root)
            throw error
        }
    }

    /// A fixture for `body`, torn down afterwards whether the body succeeded or threw.
    static func with(image: String = "busybox:latest", in base: FilePath? = nil, _ body: (EngineFixture) async throws -> Void) async throws {
        let fixture = try await EngineFixture(image: image, in: base)
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    func tearDown() async {
        if let records = try? await engine.list(all: true, includeBuildSteps: true) {
            for record in records { try? await engine.remove(record.id, force: true) }
        }
        // Whatever failed above must not stay mounted: unmount anything under the root, then delete.
        if let mounts = try? FileSystem.readString("/proc/self/mountinfo") {
            for line in mounts.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count > 4, fields[4].hasPrefix(root.string) { umount2(String(fields[4]), Int32(MNT_DETACH)) }
            }
        }
        try? FileSystem.removeTree(root)
        // The store's runtime state root on the tmpfs (empty once every container is removed).
        rmdir(engine.runtime.stateRoot.string)
        rmdir(engine.runtime.stateRoot.removingLastComponent().string)
    }

    /// Runs the CLI against this store (`--root` given), as a user would.
    func cli(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        guard let command = arguments.first else { fatalError("no command") }
        return try await HostCommand.run(
            Self.intermodal.string, [command, "--root", root.string] + arguments.dropFirst(), input: input)
    }

    /// Runs a container in-process with its output going to its log; returns outcome and output.
    func run(_ command: [String], options: RunOptions = RunOptions(), image: String = "busybox") async throws -> (RunOutcome, String) {
        var options = options
        options.command = command
        let outcome = try await engine.run(image: image, options: options, output: .log)
        let log = options.autoRemove ? "" : try FileSystem.readString(FilePath(outcome.container.logPath))
        return (outcome, log)
    }
}
