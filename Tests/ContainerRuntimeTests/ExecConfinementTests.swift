#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// `exec` never runs a process with less confinement than the container's own: its seccomp
/// filter, capabilities and no_new_privs; without the configuration it refuses.
// A bound for a hang, not a speed target: alone these take seconds, in a cold suite on 2 cores
// they waited 90-124 s for their turn (a run with a CPU hog beside it), past the 2 minutes they had.
@Suite("intermodal-runtime exec: confined like the container", .timeLimit(.minutes(10)))
struct ExecConfinementTests {
    static func confinedBundle() async throws -> RuntimeToolsBundle {
        try await RuntimeToolsBundle.make(["sleep", "300"]) { spec in
            spec.process?.noNewPrivileges = true
            var seccomp = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
            seccomp.syscalls = [Spec.Syscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1)]
            spec.linux?.seccomp = seccomp
        }
    }

    /// The hexadecimal value of `field` (CapBnd, CapEff, NoNewPrivs, Seccomp) in a status text.
    static func field(_ name: String, in status: String) -> String? {
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1)).trimmed
        }
        return nil
    }

    @Test("an exec'd process gets the container's capabilities, no_new_privs and seccomp filter")
    func execKeepsTheContainersConfinement() async throws {
        let b = try await Self.confinedBundle()
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        var r = try await b.cli(["run", "--detach", "--bundle", b.bundle.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        let pid = try #require(try await b.pid(id))
        let initStatus = try FileSystem.readString(FilePath("/proc/\(pid)/status"))
        r = try await b.cli(["exec", id, "cat", "/proc/self/status"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        for name in ["CapBnd", "CapEff", "CapPrm", "NoNewPrivs", "Seccomp"] {
            #expect(Self.field(name, in: r.standardOutput) == Self.field(name, in: initStatus), "\(name)")
        }
        #expect(Self.field("NoNewPrivs", in: r.standardOutput) == "1")
        #expect(Self.field("CapBnd", in: r.standardOutput) != "000001ffffffffff", "the runtime's full set leaked into exec")
        r = try await b.cli(["exec", id, "mkdir", "/made-by-exec"])
        #expect(r.exitCode != 0, "the container's seccomp filter forbids mkdir: \(r.standardOutput)")
        #expect(!FileSystem.exists(b.rootfs.appending("made-by-exec")))
        #expect(try await b.cli(["delete", "--force", id]).exitCode == 0)
    }

    @Test("exec refuses to run when the container's config.json is missing or unreadable")
    func execFailsClosed() async throws {
        let b = try await Self.confinedBundle()
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        var r = try await b.cli(["run", "--detach", "--bundle", b.bundle.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        let config = b.bundle.appending("config.json")
        let saved = b.bundle.appending("config.json.saved")
        #expect(rename(config.string, saved.string) == 0)
        let marker = b.rootfs.appending("ran")
        r = try await b.cli(["exec", id, "touch", "/ran"])
        #expect(r.exitCode == 255)   // exec's errors, as runc's
        #expect(r.standardError.contains("cannot exec in container \(id): its configuration cannot be read"), "\(r.standardError)")
        #expect(!FileSystem.exists(marker), "the process ran without the container's confinement")

        try FileSystem.writeAtomically("{\"ociVersion\": \"1.0.2\", \"root\": ", to: config)
        r = try await b.cli(["exec", id, "touch", "/ran"])
        #expect(r.exitCode == 255)   // exec's errors, as runc's
        #expect(r.standardError.contains("its configuration cannot be read"), "\(r.standardError)")
        #expect(!FileSystem.exists(marker))

        #expect(rename(saved.string, config.string) == 0)
        r = try await b.cli(["exec", id, "touch", "/ran"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(FileSystem.exists(marker))
        #expect(try await b.cli(["delete", "--force", id]).exitCode == 0)
    }
}
