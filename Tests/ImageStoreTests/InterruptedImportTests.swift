import Foundation
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// `import` interrupted by a signal at many points of its work (issue 14, item 4).
@Suite("Interrupted imports leave nothing behind", .serialized)
struct InterruptedImportTests {
    /// A plain tar of 48 MiB of random data in 96 files: unpacking it and archiving it again with
    /// gzip takes the import a second or more, long enough to be interrupted at many points.
    static func bigArchive(in t: TemporaryStore) async throws -> FilePath {
        let tree = try t.directory("big")
        try await sh("for i in $(seq 96); do head -c 524288 /dev/urandom > \(tree)/f$i; done; tar -C \(tree) -cf \(t.root)/big.tar .")
        return t.root.appending("big.tar")
    }

    /// Starts `intermodal import`, waits `delay` ms, sends `signal`; returns the exit status text
    /// once it ended (`exit N` or `signal N`).
    static func interruptedImport(_ archive: FilePath, root: FilePath, tag: String, delay: Int, signal: String) async throws -> String {
        let script = """
            \(ImageCLI.path) import \(archive) big:\(tag) --root \(root) >/dev/null 2>&1 & p=$!
            sleep \(Double(delay) / 1000)
            kill -\(signal) $p 2>/dev/null
            wait $p; echo $?
            """
        return try await sh(script).trimmed
    }

    @Test(arguments: ["INT", "TERM"])
    func aSignalRollsTheImportBack(signal: String) async throws {
        let t = try TemporaryStore()
        let root = t.root.appending("cli")
        let archive = try await Self.bigArchive(in: t)
        _ = try await ImageCLI.run(["image", "bootstrap", "busybox", "bb", "--root", root.string])
        var interrupted = 0
        for delay in [30, 120, 250, 400, 600, 800, 1100, 1500] {
            let status = try await Self.interruptedImport(archive, root: root, tag: "\(delay)", delay: delay, signal: signal)
            // Without a lease-taking command in between: the process cleaned up itself.
            let left = try FileSystem.list(root.appending("tmp"))
            #expect(left.isEmpty, "\(signal) at \(delay) ms (exit \(status)) left \(left) in tmp")
            let store = try ImageStore(root: root)
            #expect(try store.verify().isEmpty)
            #expect(store.check().filter { $0.severity == .damage }.isEmpty, "system check after \(signal) at \(delay) ms: \(store.check())")
            let named = try store.list().flatMap(\.names).map(\.localName)
            if status == "0" {
                #expect(named.contains("big:\(delay)"), "a finished import is named")
            } else {
                interrupted += 1
                #expect(status == (signal == "INT" ? "130" : "143"), "an interrupted import exits 128 + signal, not \(status)")
                #expect(!named.contains("big:\(delay)"), "an interrupted import is not named")
            }
        }
        #expect(interrupted >= 3, "the signal came while the import worked at least a few times")
    }

    @Test func whatAKill9LeftIsReclaimedByTheNextCommandThatTakesTheLock() async throws {
        let t = try TemporaryStore()
        let root = t.root.appending("cli")
        let archive = try await Self.bigArchive(in: t)
        let small = t.root.appending("small.tar")
        try await sh("mkdir -p \(t.root)/small && echo hi > \(t.root)/small/f && tar -C \(t.root)/small -cf \(small) .")
        _ = try await ImageCLI.run(["import", small.string, "small:first", "--root", root.string])
        var leftSomething = 0
        for delay in [20, 80, 160, 300, 450, 650, 900, 1200] {
            _ = try await Self.interruptedImport(archive, root: root, tag: "\(delay)", delay: delay, signal: "KILL")
            if !(try FileSystem.list(root.appending("tmp"))).isEmpty { leftSomething += 1 }
            let store = try ImageStore(root: root)
            #expect(try store.verify().isEmpty, "every named image intact after a kill at \(delay) ms")
            // The next command that takes the store's lease reclaims it: `save` names nothing, so
            // no garbage collection runs; the lease alone must do it.
            let next = try await ImageCLI.run(["save", "small:first", "-o", t.root.appending("saved-\(delay).tar").string, "--root", root.string])
            #expect(next.exitCode == 0, "\(next.standardError)")
            #expect(try FileSystem.list(root.appending("tmp")).isEmpty, "tmp reclaimed after a kill at \(delay) ms")
            #expect(store.check().filter { $0.severity == .damage }.isEmpty, "system check after a kill at \(delay) ms: \(store.check())")
        }
        #expect(leftSomething >= 3, "the kill came while the import had work in tmp at least a few times")
    }
}
