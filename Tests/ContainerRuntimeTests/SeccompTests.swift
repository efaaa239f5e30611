#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing
@testable import ContainerRuntime

@Suite("Seccomp profiles compiled with libseccomp")
struct SeccompTests {
    /// One `struct sock_filter`.
    struct Instruction: Equatable {
        var code: UInt16, jt: UInt8, jf: UInt8, k: UInt32
    }

    static func instructions(_ p: SeccompProgram) -> [Instruction] {
        stride(from: 0, to: p.bpf.count, by: 8).map { i in
            let b = p.bpf
            return Instruction(
                code: UInt16(b[i]) | UInt16(b[i + 1]) << 8, jt: b[i + 2], jf: b[i + 3],
                k: UInt32(b[i + 4]) | UInt32(b[i + 5]) << 8 | UInt32(b[i + 6]) << 16 | UInt32(b[i + 7]) << 24)
        }
    }

    static let bpfRet: UInt16 = 0x06          // BPF_RET | BPF_K
    static let bpfLoadAbsWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let auditArchX86_64: UInt32 = 0xc000_003e
    static let auditArchI386: UInt32 = 0x4000_0003

    @Test func programShape() throws {
        let profile = SeccompProfile(
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [SeccompProfile.Rule(names: ["mkdirat", "mkdir"], action: "SCMP_ACT_ERRNO")])
        let program = try profile.compile()
        #expect(program.bpf.count % 8 == 0)
        #expect(program.instructionCount > 3 && program.instructionCount < 64)
        #expect(program.flags == 0)
        let insns = Self.instructions(program)
        // libseccomp starts by loading seccomp_data.arch (offset 4) and checking it.
        #expect(insns[0] == Instruction(code: Self.bpfLoadAbsWord, jt: 0, jf: 0, k: 4))
        #expect(insns.contains { $0.k == Self.auditArchX86_64 })
        // Returns: EPERM (SCMP_ACT_ERRNO defaults to EPERM, as in runc) and ALLOW.
        let returns = Set(insns.filter { $0.code == Self.bpfRet }.map(\.k))
        #expect(returns.contains(0x0005_0000 | UInt32(EPERM)))
        #expect(returns.contains(0x7fff_0000))
        #expect(insns.last?.code == Self.bpfRet)
    }

    @Test func extraArchitecturesAndFlags() throws {
        let native = try SeccompProfile(defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [SeccompProfile.Rule(names: ["ptrace"], action: "SCMP_ACT_KILL_PROCESS")]).compile()
        let multi = try SeccompProfile(
            defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            syscalls: [SeccompProfile.Rule(names: ["ptrace"], action: "SCMP_ACT_KILL_PROCESS")]).compile()
        #expect(multi.instructionCount > native.instructionCount)
        #expect(Self.instructions(multi).contains { $0.k == Self.auditArchI386 })
        #expect(!Self.instructions(native).contains { $0.k == Self.auditArchI386 })
        #expect(multi.flags == 2 | 4)
        let nativeByName = try SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_NATIVE"],
            syscalls: [SeccompProfile.Rule(names: ["ptrace"], action: "SCMP_ACT_KILL_PROCESS")]).compile()
        #expect(nativeByName == native)
        #expect(Self.instructions(native).contains { $0.code == Self.bpfRet && $0.k == 0x8000_0000 })
    }

    @Test func denyByDefaultProfilesAnswerNewerSyscallsWithENOSYS() throws {
        let allowList = try SeccompProfile(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            SeccompProfile.Rule(names: ["read", "write", "exit_group", "rseq"], action: "SCMP_ACT_ALLOW"),
        ]).compile()
        let insns = Self.instructions(allowList)
        let rseq = UInt32(334)   // the highest syscall the profile names, on x86_64
        #expect(insns[0] == Instruction(code: Self.bpfLoadAbsWord, jt: 0, jf: 0, k: 4))
        #expect(insns[1] == Instruction(code: 0x15, jt: 0, jf: 4, k: Self.auditArchX86_64))
        #expect(insns[4] == Instruction(code: 0x25, jt: 0, jf: 1, k: rseq))
        #expect(insns[5] == Instruction(code: Self.bpfRet, jt: 0, jf: 0, k: 0x0005_0000 | UInt32(ENOSYS)))
        // An allow-by-default profile needs no stub.
        let denyList = try SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompProfile.Rule(names: ["rseq"], action: "SCMP_ACT_ERRNO"),
        ]).compile()
        #expect(!Self.instructions(denyList).contains { $0.code == 0x25 && $0.k == rseq })
    }

    /// Calls syscall `number` with no arguments (Glibc's `syscall` is variadic: called through a
    /// fixed-arity pointer, as the runtime's device filter does).
    static func rawSyscall(_ number: Int) -> (result: Int, errno: Int32) {
        typealias Fn = @convention(c) (Int) -> Int
        let fn = unsafeBitCast(dlsym(nil, "syscall")!, to: Fn.self)
        let r = fn(number)
        return (r, r < 0 ? errno : 0)
    }

    @Test func theKernelAnswersENOSYSAboveTheProfilesSyscallsAndTheDefaultBelow() throws {
        // Every x86_64 syscall up to rseq (334) but mkdirat, default EPERM.
        let names = (0...334).compactMap { SeccompNames.nativeSyscallName(Int32($0)) }.filter { $0 != "mkdirat" }
        #expect(names.count > 300)
        let program = try SeccompProfile(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            SeccompProfile.Rule(names: names, action: "SCMP_ACT_ALLOW"),
        ]).compile()
        let outcome = Outcome()
        Self.onFreshThread {
            outcome.installed = Self.install(program)
            guard outcome.installed == 0 else { return }
            outcome.results["1000"] = Self.rawSyscall(1000).errno                     // beyond the profile
            outcome.results["mkdirat"] = mkdirat(AT_FDCWD, "/nonexistent/x", 0o700) == 0 ? 0 : errno  // listed? no: default
            outcome.results["getpid"] = Self.rawSyscall(39).result > 0 ? 0 : -1       // allowed
        }
        #expect(outcome.installed == 0)
        #expect(outcome.results == ["1000": ENOSYS, "mkdirat": EPERM, "getpid": 0])
    }

    @Test func compilingTwiceGivesTheSameProgram() throws {
        let profile = SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 7)])
        let first = try profile.compile()
        #expect(try profile.compile() == first)             // from the cache
        #expect(try profile.compileUncached() == first)     // libseccomp again, same bytes
    }

    @Test func unknownSyscallNamesAreSkippedLikeRunc() throws {
        let p = try SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompProfile.Rule(names: ["intermodal_no_such_syscall", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1),
        ]).compile()
        #expect(p.skippedSyscalls == ["intermodal_no_such_syscall"])
        #expect(Self.instructions(p).contains { $0.code == Self.bpfRet && $0.k == 0x0005_0001 })
    }

    @Test(arguments: [
        (SeccompProfile(defaultAction: "SCMP_ACT_FLY"), "SCMP_ACT_FLY", IntermodalError.Code.invalidArgument),
        (SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_Z80"]), "SCMP_ARCH_Z80", .invalidArgument),
        (SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_FAST"]), "SECCOMP_FILTER_FLAG_FAST", .invalidArgument),
        (SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", args: [SeccompProfile.Arg(index: 2, value: 1, op: "SCMP_CMP_ABOUT")]),
        ]), "SCMP_CMP_ABOUT", .invalidArgument),
        (SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", args: [SeccompProfile.Arg(index: 6, value: 1, op: "SCMP_CMP_EQ")]),
        ]), "args[0].index 6", .invalidArgument),
        (SeccompProfile(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            SeccompProfile.Rule(names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 3),
        ]), "errnoRet", .invalidArgument),
        (SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_NOTIFY"),
        ]), "SCMP_ACT_NOTIFY", .unsupported),
    ])
    func badProfilesAreClearErrors(profile: SeccompProfile, named: String, code: IntermodalError.Code) {
        do {
            _ = try profile.compile()
            Issue.record("compiled a profile with \(named)")
        } catch {
            #expect(error.code == code)
            #expect(error.message.contains(named), "\(error.message)")
        }
    }

    // MARK: Enforcement by the kernel

    /// Runs `body` on a new POSIX thread and waits for it. A seccomp filter installed there
    /// without TSYNC binds only that thread, which then ends: the test process stays unfiltered.
    static func onFreshThread(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create")
        pthread_join(thread, nil)
    }

    /// Hands the program to the kernel exactly as the runtime's child will:
    /// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sock_fprog). prctl is variadic in C, so it is
    /// called through a fixed-arity pointer (the integer arguments travel in the same registers).
    static func install(_ program: SeccompProgram) -> Int32 {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(nil, "prctl") else { return -2 }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        return program.bpf.withUnsafeBytes { bpf -> Int32 in
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 16 bytes on x86_64.
            var fprog: (UInt64, UInt) = (UInt64(program.instructionCount), UInt(bitPattern: bpf.baseAddress))
            return withUnsafeMutablePointer(to: &fprog) { p in
                prctl(22 /* PR_SET_SECCOMP */, 2 /* SECCOMP_MODE_FILTER */, UInt(bitPattern: p), 0, 0)
            }
        }
    }

    final class Outcome: @unchecked Sendable {
        var installed: Int32 = -1
        var results: [String: Int32] = [:]
    }

    @Test func theKernelEnforcesTheExportedProgramWithArgumentComparisons() throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-seccomp")
        defer { try? FileSystem.removeTree(dir) }
        let program = try SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            // mkdirat(dirfd, path, mode): mode 0700 -> ENOTTY
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(ENOTTY),
                                args: [SeccompProfile.Arg(index: 2, value: 0o700, op: "SCMP_CMP_EQ")]),
            // "others execute" bit set with others read clear (mask 0o005 == 0o001) -> EREMOTE
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EREMOTE),
                                args: [SeccompProfile.Arg(index: 2, value: 0o005, valueTwo: 0o001, op: "SCMP_CMP_MASKED_EQ")]),
            // Two conditions on one argument: each its own rule (either one matches) -> EXDEV
            SeccompProfile.Rule(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV), args: [
                SeccompProfile.Arg(index: 2, value: 0o711, op: "SCMP_CMP_EQ"),
                SeccompProfile.Arg(index: 2, value: 0o722, op: "SCMP_CMP_EQ"),
            ]),
        ]).compile()

        let outcome = Outcome()
        let base = dir.string
        Self.onFreshThread {
            outcome.installed = Self.install(program)
            guard outcome.installed == 0 else { return }
            for mode: mode_t in [0o700, 0o701, 0o711, 0o722, 0o755] {
                let path = "\(base)/d\(String(mode, radix: 8))"
                outcome.results[String(mode, radix: 8)] = mkdirat(AT_FDCWD, path, mode) == 0 ? 0 : errno
            }
        }
        #expect(outcome.installed == 0, "prctl(PR_SET_SECCOMP) failed: errno \(errno)")
        #expect(outcome.results == ["700": ENOTTY, "701": EREMOTE, "711": EXDEV, "722": EXDEV, "755": 0])
        #expect(FileSystem.isDirectory(dir.appending("d755")))
        #expect(!FileSystem.exists(dir.appending("d700")))
        // The filter bound only that thread: here mkdirat with mode 0700 still works.
        #expect(mkdirat(AT_FDCWD, "\(base)/after", 0o700) == 0)
    }
}
