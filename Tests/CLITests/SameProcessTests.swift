#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing

/// One image and one set of flags run the same program in a container and in a guest: both
/// resolve it through ``InstanceProcess``.
@Suite struct SameProcessTests {
    @Test func runAndVMRunAgreeOnEnvironmentDirectoryAndUser() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-same-process-test")
        defer { try? FileSystem.removeTree(root) }
        let made = try await BuiltProducts.intermodal(["image", "bootstrap", "busybox", "busybox:latest", "--root", root.string])
        #expect(made.exitCode == 0, "\(made.standardError)")
        let flags = ["-e", "GREETING=hello there", "-e", "PATH=/bin:/sbin", "-w", "/tmp", "-u", "1000:1000"]
        let script = ["sh", "-c", "env | sort; pwd; id"]
        let container = try await BuiltProducts.intermodal(["run", "--root", root.string, "--rm"] + flags + ["busybox"] + script)
        let guest = try await BuiltProducts.intermodal(["vm", "run", "--root", root.string, "--accel", "tcg", "--boot-timeout", "120"] + flags + ["busybox"] + script)
        #expect(container.exitCode == 0, "\(container.standardError)")
        #expect(guest.exitCode == 0, "\(guest.standardError)")
        // What a guest legitimately has of its own: its host name (a container's is its ID).
        func comparable(_ out: String) -> [String] {
            out.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("HOSTNAME=") }
        }
        #expect(comparable(container.standardOutput) == comparable(guest.standardOutput),
                "container:\n\(container.standardOutput)\nguest:\n\(guest.standardOutput)")
        #expect(container.standardOutput.contains("GREETING=hello there"))
        #expect(container.standardOutput.contains("\n/tmp\n"))
        #expect(container.standardOutput.contains("uid=1000 gid=1000"))
        #expect(guest.standardOutput.contains("HOSTNAME="))
    }
}
