#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// Seccomp profiles compiled by ``SeccompProfile/compile()`` and loaded by the runtime's child.
// A bound for a hang, not a speed target: alone these take seconds, in a cold suite on 2 cores
// they waited 90-124 s for their turn (a run with a CPU hog beside it), past the 2 minutes they had.
@Suite("real containers: seccomp", .timeLimit(.minutes(10)))
struct SeccompContainerTests {
    @Test("argument comparisons and errnoRet: chmod to 0700 fails with EACCES, to 0755 works")
    func argumentsAndErrnoRet() async throws {
        let script = """
            touch /tmp/f
            chmod 700 /tmp/f; echo rc700=$?
            chmod 755 /tmp/f; echo rc755=$?
            stat -c %a /tmp/f
            """
        let b = try await TestBundle.make(["sh", "-c", script]) { spec in
            spec.mounts?.append(Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"]))
            var s = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
            s.architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
            s.syscalls = [
                // chmod(path, mode): mode is argument 1; fchmodat(dirfd, path, mode): argument 2.
                Spec.Syscall(names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EACCES),
                             args: [Spec.SyscallArg(index: 1, value: 0o700, op: "SCMP_CMP_EQ")]),
                Spec.Syscall(names: ["fchmodat", "fchmodat2", "intermodal_unknown_syscall"], action: "SCMP_ACT_ERRNO",
                             errnoRet: UInt32(EACCES), args: [Spec.SyscallArg(index: 2, value: 0o700, op: "SCMP_CMP_EQ")]),
            ]
            spec.linux?.seccomp = s
        }
        defer { b.cleanup() }
        var status: IntermodalCore.ExitStatus?
        let out = try await TestBundle.capture { io in
            status = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io).status
        }
        #expect(status == IntermodalCore.ExitStatus(code: 0), "\(out)")
        #expect(out.contains("chmod: /tmp/f: Permission denied"), "\(out)")
        #expect(out.contains("rc700=1"), "\(out)")
        #expect(out.contains("rc755=0"), "\(out)")
        #expect(out.hasSuffix("755\n"), "\(out)")
    }

    @Test("SCMP_ACT_KILL_PROCESS ends the process with SIGSYS")
    func killProcess() async throws {
        let b = try await TestBundle.make(["uname", "-a"]) { spec in
            var s = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
            s.syscalls = [Spec.Syscall(names: ["uname"], action: "SCMP_ACT_KILL_PROCESS")]
            spec.linux?.seccomp = s
        }
        defer { b.cleanup() }
        var status: IntermodalCore.ExitStatus?
        let out = try await TestBundle.capture { io in
            status = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io).status
        }
        #expect(status?.signal == SIGSYS, "\(String(describing: status)): \(out)")
        #expect(!out.contains("Linux"), "uname printed: \(out)")
    }

    @Test("an unknown seccomp architecture fails create with a clear error, nothing left behind")
    func unknownArchitectureFailsCreate() async throws {
        let b = try await TestBundle.make(["true"]) { spec in
            var s = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
            s.architectures = ["SCMP_ARCH_Z80"]
            spec.linux?.seccomp = s
        }
        defer { b.cleanup() }
        do {
            _ = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: .inherit)
            Issue.record("ran with an unknown architecture")
        } catch {
            #expect("\(error)".contains("SCMP_ARCH_Z80"), "\(error)")
        }
        #expect(try b.runtime.list().isEmpty)
    }
}
