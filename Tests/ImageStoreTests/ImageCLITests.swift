import Foundation
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// The `intermodal` executable built next to the test bundle.
enum ImageCLI {
    static var path: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = FilePath(String(decoding: buffer[0..<max(0, n)].map(UInt8.init(bitPattern:)), as: UTF8.self))
        return exe.removingLastComponent().appending("intermodal").string
    }

    static func run(_ arguments: [String]) async throws -> CommandResult {
        try await HostCommand.run(path, arguments)
    }
}

@Suite("Image commands of the CLI")
struct ImageCLITests {
    @Test func courseWorkflowOnTheCommandLine() async throws {
        let t = try TemporaryStore()
        let root = t.root.appending("cli").string
        func cli(_ args: String...) async throws -> String {
            let r = try await ImageCLI.run(args + ["--root", root])
            #expect(r.exitCode == 0, "intermodal \(args.joined(separator: " ")): \(r.standardError)")
            return r.standardOutput
        }
        _ = try await cli("image", "bootstrap", "busybox", "bb:v1")
        _ = try await cli("tag", "bb:v1", "bb:latest")
        let images = try await cli("images")
        let lines = images.split(separator: "\n")
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"])
        #expect(lines.contains { $0.hasPrefix("bb ") && $0.contains(" v1 ") })
        #expect(images.contains("1 image, 1 distinct layer:"))
        let history = try await cli("history", "bb:v1")
        #expect(history.contains("CREATED BY") && history.contains("intermodal image bootstrap busybox"))
        let saved = t.root.appending("bb.tar").string
        _ = try await cli("save", "bb:v1", "-o", saved)
        _ = try await cli("rmi", "bb:v1")
        _ = try await cli("rmi", "bb:latest")
        #expect(try await cli("images", "-q").isEmpty)
        let loaded = try await cli("load", "-i", saved)
        #expect(loaded.contains("bb:v1"))
        let missing = try await ImageCLI.run(["history", "nope:1", "--root", root])
        #expect(missing.exitCode == 125)
        #expect(missing.standardError == "intermodal: error: no such image: nope:1\n")
    }

    @Test func interruptedImportLeavesTheStoreConsistent() async throws {
        let t = try TemporaryStore()
        let root = t.root.appending("cli")
        // A big archive (the cached Debian layer) so the import is still running when killed.
        let (blob, _) = try await DebianBootstrap().cachedLayer()
        _ = try await ImageCLI.run(["image", "bootstrap", "busybox", "bb", "--root", root.string])
        for delay in [300, 900, 1800] {
            let pid = try await sh("\(ImageCLI.path) import \(blob) big:\(delay) --root \(root) >/dev/null 2>&1 & echo $!").trimmed
            try await Task.sleep(for: .milliseconds(delay))
            _ = try? await sh("kill -9 \(pid)")
            try await Task.sleep(for: .milliseconds(100))
            let store = try ImageStore(root: root)
            #expect(try store.verify().isEmpty, "every referenced blob present and intact after a kill at \(delay) ms")
            #expect(try store.resolve("bb").layers.count == 1)
        }
        // Garbage collection clears what the killed imports left in tmp.
        let store = try ImageStore(root: root)
        try await store.collectGarbage()
        #expect(try FileSystem.list(root.appending("tmp")).isEmpty)
        let done = try await ImageCLI.run(["import", blob.string, "big:done", "--root", root.string])
        #expect(done.exitCode == 0, "\(done.standardError)")
        #expect(try store.verify().isEmpty)
    }
}
