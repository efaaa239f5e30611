import IntermodalCore
import SystemPackage
import Testing

@Suite struct BusyboxRootfsTests {
    @Test func populatedRootHasAppletsThatRun() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-test-busybox")
        defer { try? FileSystem.removeTree(root) }
        try await BusyboxRootfs.populate(at: root)
        #expect(FileSystem.exists(root.appending("bin/sh")))
        #expect(FileSystem.exists(root.appending("etc/passwd")))
        // The copied binary is the real thing: run an applet through it.
        let out = try await HostCommand.check(root.appending("bin/busybox").string, ["echo", "hello"])
        #expect(out == "hello\n")
    }

    @Test func missingBusyboxIsAClearError() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-test-busybox")
        defer { try? FileSystem.removeTree(root) }
        await #expect {
            try await BusyboxRootfs.populate(at: root, busybox: "/nonexistent/busybox")
        } throws: { error in
            (error as? IntermodalError)?.code == .notFound
        }
    }
}
