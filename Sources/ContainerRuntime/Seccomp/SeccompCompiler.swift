#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import CSeccomp
import IntermodalCore
import Synchronization
import SystemPackage

/// Compiled programs by profile, for this process.
enum SeccompCache {
    static let shared = Mutex<[SeccompProfile: SeccompProgram]>([:])
}

extension SeccompProfile {
    /// Compiles the profile with libseccomp and exports the BPF, so that the container's child
    /// only has to hand the bytes to the kernel (no libseccomp calls between clone and execve).
    ///
    /// Syscall names libseccomp does not know are skipped (and listed in
    /// ``SeccompProgram/skippedSyscalls``), as runc does, so one profile serves several kernels;
    /// unknown actions, operators, architectures and flags are errors naming them.
    public func compile() throws(IntermodalError) -> SeccompProgram {
        // A harness starting hundreds of containers with one profile compiles it once: the
        // profile fully determines the program (libseccomp's output depends on nothing else).
        if let cached = SeccompCache.shared.withLock({ $0[self] }) { return cached }
        let program = try compileUncached()
        SeccompCache.shared.withLock { cache in
            if cache.count >= 32 { cache.removeAll() }
            cache[self] = program
        }
        return program
    }

    /// Compiles without consulting the cache.
    func compileUncached() throws(IntermodalError) -> SeccompProgram {
        let flagBits = try SeccompNames.flags(flags)
        let defaultAct = try SeccompNames.action(defaultAction, errnoRet: defaultErrnoRet, field: "linux.seccomp.defaultAction")
        guard let ctx = seccomp_init(defaultAct) else {
            throw IntermodalError(.systemError, "seccomp_init(\(defaultAction)) failed")
        }
        defer { seccomp_release(ctx) }

        for arch in architectures {
            let token = try SeccompNames.architecture(arch)
            let rc = seccomp_arch_add(ctx, token)
            // The native architecture is always in the filter already.
            if rc != 0 && rc != -EEXIST {
                throw IntermodalError(.systemError, "seccomp_arch_add(\(arch))", cause: Errno(rawValue: -rc))
            }
        }

        var skipped: [String] = []
        let native = seccomp_arch_native()
        var highestNative: Int32 = -1
        for (i, rule) in syscalls.enumerated() {
            let field = "linux.seccomp.syscalls[\(i)]"
            let act = try SeccompNames.action(rule.action, errnoRet: rule.errnoRet, field: "\(field).action")
            var conditions: [scmp_arg_cmp] = []
            var perIndex = [Int](repeating: 0, count: 6)
            for (j, arg) in rule.args.enumerated() {
                guard arg.index < 6 else {
                    throw IntermodalError(.invalidArgument, "\(field).args[\(j)].index \(arg.index) is not a syscall argument (0...5)")
                }
                let op = try SeccompNames.comparison(arg.op, field: "\(field).args[\(j)].op")
                perIndex[Int(arg.index)] += 1
                conditions.append(scmp_arg_cmp(arg: arg.index, op: op, datum_a: arg.value, datum_b: arg.valueTwo))
            }
            // libseccomp rejects a rule whose action is the default one; it would change nothing.
            if act == defaultAct { continue }
            // Several conditions on one argument cannot be ANDed by libseccomp: add each as its own rule.
            let groups: [[scmp_arg_cmp]] = perIndex.contains { $0 > 1 } ? conditions.map { [$0] } : [conditions]
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR {
                    if !skipped.contains(name) { skipped.append(name) }
                    continue
                }
                highestNative = max(highestNative, seccomp_syscall_resolve_name_arch(native, name))
                for group in groups {
                    let rc = group.withUnsafeBufferPointer {
                        seccomp_rule_add_array(ctx, act, number, UInt32($0.count), $0.count == 0 ? nil : $0.baseAddress)
                    }
                    if rc != 0 {
                        throw IntermodalError(
                            .invalidArgument, "\(field): libseccomp refused the rule for \(name) (\(rule.action))",
                            cause: Errno(rawValue: -rc))
                    }
                }
            }
        }
        if !skipped.isEmpty {
            IntermodalLog.logger("seccomp").debug("ignoring syscalls unknown to libseccomp: \(skipped.joined(separator: ", "))")
        }
        var bpf = try export(ctx)
        // Like runc: a syscall newer than every one the profile names gets ENOSYS instead of the
        // default denial, so that libc falls back (clone3 -> clone) instead of failing outright.
        let allowsByDefault = defaultAct == 0x7fff_0000 || defaultAct == 0x7ffc_0000
        if !allowsByDefault && highestNative >= 0 {
            bpf = Self.enosysStub(arch: native, highest: UInt32(highestNative)) + bpf
        }
        // BPF_MAXINSNS: the kernel refuses longer programs, so say it here, at create time.
        guard bpf.count / 8 <= 4096 else {
            throw IntermodalError(
                .invalidArgument, "the seccomp profile compiles to \(bpf.count / 8) BPF instructions; the kernel allows 4096")
        }
        return SeccompProgram(bpf: bpf, flags: flagBits, skippedSyscalls: skipped)
    }

    /// Classic BPF put in front of libseccomp's program (its jumps are relative and forward, so
    /// they stay valid): on the native architecture, a syscall number above `highest` returns
    /// ENOSYS. x32 calls (bit 30 on x86_64) go to libseccomp's program unchanged.
    static func enosysStub(arch: UInt32, highest: UInt32) -> [UInt8] {
        func insn(_ code: UInt16, _ jt: UInt8, _ jf: UInt8, _ k: UInt32) -> [UInt8] {
            [UInt8(code & 0xff), UInt8(code >> 8), jt, jf,
             UInt8(k & 0xff), UInt8((k >> 8) & 0xff), UInt8((k >> 16) & 0xff), UInt8(k >> 24)]
        }
        return insn(0x20, 0, 0, 4)                          // ld [4]: seccomp_data.arch
            + insn(0x15, 0, 4, arch)                        // jeq native, else past the stub
            + insn(0x20, 0, 0, 0)                           // ld [0]: seccomp_data.nr
            + insn(0x45, 2, 0, 0x4000_0000)                 // jset x32 bit: past the stub
            + insn(0x25, 0, 1, highest)                     // jgt highest: to the ret, else past
            + insn(0x06, 0, 0, 0x0005_0000 | UInt32(ENOSYS)) // ret ERRNO(ENOSYS)
    }

    /// seccomp_export_bpf writes to a file descriptor: a pipe made large enough for any filter
    /// the kernel accepts, non-blocking so that a runaway filter fails instead of hanging.
    private func export(_ ctx: scmp_filter_ctx) throws(IntermodalError) -> [UInt8] {
        var fds: [Int32] = [-1, -1]
        // Close-on-exec from the start: no program another thread starts may inherit an end.
        guard makePipe(&fds) else { throw .system("pipe for seccomp_export_bpf") }
        defer { close(fds[0]); if fds[1] >= 0 { close(fds[1]) } }
        let F_SETPIPE_SZ: Int32 = 1031
        _ = fcntl(fds[1], F_SETPIPE_SZ, 1 << 20)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        let rc = seccomp_export_bpf(ctx, fds[1])
        guard rc == 0 else {
            throw IntermodalError(.systemError, "seccomp_export_bpf", cause: Errno(rawValue: -rc))
        }
        close(fds[1])
        fds[1] = -1
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("read the exported seccomp filter")
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        guard bytes.count % 8 == 0, !bytes.isEmpty else {
            throw IntermodalError(.internalError, "seccomp_export_bpf produced \(bytes.count) bytes, not whole instructions")
        }
        return bytes
    }
}
