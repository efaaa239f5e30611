#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import IntermodalCore
import SystemPackage

/// cgroup v2 has no devices.allow/deny files: device access is decided by an eBPF program of type
/// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This builds one from the same rules the v1
/// controller takes (later rules override earlier ones, as writing them in order to v1 does) and
/// attaches it, the way runc does.
enum DeviceFilter {
    /// One eBPF instruction (`struct bpf_insn`).
    struct Instruction: Equatable {
        var code: UInt8
        var dst: UInt8 = 0
        var src: UInt8 = 0
        var off: Int16 = 0
        var imm: Int32 = 0

        var bytes: [UInt8] {
            let o = UInt16(bitPattern: off), i = UInt32(bitPattern: imm)
            return [code, (src << 4) | (dst & 0x0f), UInt8(o & 0xff), UInt8(o >> 8),
                    UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24)]
        }
    }

    // Opcodes used (linux/bpf.h, linux/bpf_common.h).
    static let ldxMemW: UInt8 = 0x61   // BPF_LDX | BPF_MEM | BPF_W
    static let and32K: UInt8 = 0x54    // BPF_ALU | BPF_AND | BPF_K
    static let rsh32K: UInt8 = 0x74    // BPF_ALU | BPF_RSH | BPF_K
    static let mov32K: UInt8 = 0xb4    // BPF_ALU | BPF_MOV | BPF_K
    static let mov32X: UInt8 = 0xbc    // BPF_ALU | BPF_MOV | BPF_X
    static let jneK: UInt8 = 0x55      // BPF_JMP | BPF_JNE | BPF_K
    static let jeqK: UInt8 = 0x15      // BPF_JMP | BPF_JEQ | BPF_K
    static let exit: UInt8 = 0x95      // BPF_JMP | BPF_EXIT

    /// The access bits of a rule ("rwm" -> BPF_DEVCG_ACC_READ|WRITE|MKNOD).
    static func accessBits(_ access: String) -> Int32 {
        var bits: Int32 = 0
        if access.contains("m") { bits |= 1 }
        if access.contains("r") { bits |= 2 }
        if access.contains("w") { bits |= 4 }
        return bits
    }

    /// The program: R2 = device type, R3 = requested access, R4 = major, R5 = minor; then one
    /// block per rule, last rule first, each returning its verdict when it matches; no match denies.
    /// Rules before a match-all rule can never decide anything and are left out.
    static func program(for rules: [CgroupDeviceRule]) throws(IntermodalError) -> [Instruction] {
        var insns: [Instruction] = [
            Instruction(code: ldxMemW, dst: 2, src: 1, off: 0),
            Instruction(code: and32K, dst: 2, imm: 0xffff),
            Instruction(code: ldxMemW, dst: 3, src: 1, off: 0),
            Instruction(code: rsh32K, dst: 3, imm: 16),
            Instruction(code: ldxMemW, dst: 4, src: 1, off: 4),
            Instruction(code: ldxMemW, dst: 5, src: 1, off: 8),
        ]
        for rule in rules.reversed() {
            var block: [Instruction] = []   // jumps get their offsets once the block length is known
            var jumps: [Int] = []
            switch rule.type {
            case "a": break
            case "b", "c":
                jumps.append(block.count)
                block.append(Instruction(code: jneK, dst: 2, imm: rule.type == "b" ? 1 : 2))
            default:
                throw IntermodalError(.invalidArgument, "device rule type \"\(rule.type)\" is not one of a, b, c")
            }
            guard !rule.access.isEmpty, rule.access.allSatisfy({ "rwm".contains($0) }) else {
                throw IntermodalError(.invalidArgument, "device rule access \"\(rule.access)\" is not made of r, w, m")
            }
            let bits = accessBits(rule.access)
            if bits != 7 {
                block.append(Instruction(code: mov32X, dst: 1, src: 3))
                if rule.allow {
                    // Allow only when every requested access is allowed.
                    block.append(Instruction(code: and32K, dst: 1, imm: ~bits & 7))
                    jumps.append(block.count)
                    block.append(Instruction(code: jneK, dst: 1, imm: 0))
                } else {
                    // Deny when any requested access is denied.
                    block.append(Instruction(code: and32K, dst: 1, imm: bits))
                    jumps.append(block.count)
                    block.append(Instruction(code: jeqK, dst: 1, imm: 0))
                }
            }
            if let major = rule.major {
                jumps.append(block.count)
                block.append(Instruction(code: jneK, dst: 4, imm: Int32(truncatingIfNeeded: major)))
            }
            if let minor = rule.minor {
                jumps.append(block.count)
                block.append(Instruction(code: jneK, dst: 5, imm: Int32(truncatingIfNeeded: minor)))
            }
            block.append(Instruction(code: mov32K, dst: 0, imm: rule.allow ? 1 : 0))
            block.append(Instruction(code: exit))
            for j in jumps { block[j].off = Int16(block.count - j - 1) }
            insns += block
            // A rule matching everything ("a *:* rwm") ends the program: the verifier refuses
            // unreachable instructions, so nothing may follow it.
            if jumps.isEmpty { return insns }
        }
        insns.append(Instruction(code: mov32K, dst: 0, imm: 0))
        insns.append(Instruction(code: exit))
        return insns
    }

    /// The raw bpf(2) system call, through the C shim: glibc has no wrapper and `syscall` is
    /// variadic, which Swift cannot call (and a static binary has no `dlsym` to find it).
    private static func bpf(_ command: Int32, _ attr: inout [UInt8]) -> Int {
        let size = UInt32(attr.count)
        return attr.withUnsafeMutableBytes { KernelInterfaces.bpf(command, $0.baseAddress, size) }
    }

    private static func put32(_ value: UInt32, _ attr: inout [UInt8], at offset: Int) {
        for i in 0..<4 { attr[offset + i] = UInt8((value >> (8 * UInt32(i))) & 0xff) }
    }

    private static func put64(_ value: UInt64, _ attr: inout [UInt8], at offset: Int) {
        for i in 0..<8 { attr[offset + i] = UInt8((value >> (8 * UInt64(i))) & 0xff) }
    }

    /// BPF_PROG_LOAD of a cgroup device program; the fd, or -1 with errno set.
    private static func load(_ code: [UInt8], log: UnsafeMutablePointer<[UInt8]>?) -> Int {
        let license = Array("Apache-2.0".utf8CString)
        return code.withUnsafeBytes { insns in
            license.withUnsafeBytes { lic in
                var attr = [UInt8](repeating: 0, count: 128)
                put32(15, &attr, at: 0)                                   // BPF_PROG_TYPE_CGROUP_DEVICE
                put32(UInt32(code.count / 8), &attr, at: 4)               // insn_cnt
                put64(UInt64(UInt(bitPattern: insns.baseAddress)), &attr, at: 8)
                put64(UInt64(UInt(bitPattern: lic.baseAddress)), &attr, at: 16)
                put32(6, &attr, at: 68)                                   // expected_attach_type BPF_CGROUP_DEVICE
                guard let log else { return bpf(5 /* BPF_PROG_LOAD */, &attr) }
                return log.pointee.withUnsafeMutableBytes { buffer in
                    put32(1, &attr, at: 24)                               // log_level
                    put32(UInt32(buffer.count), &attr, at: 28)
                    put64(UInt64(UInt(bitPattern: buffer.baseAddress)), &attr, at: 32)
                    return bpf(5 /* BPF_PROG_LOAD */, &attr)
                }
            }
        }
    }

    /// Loads the program for `rules` and attaches it to the cgroup2 directory `cgroup`
    /// (BPF_F_ALLOW_MULTI, so a parent's program still applies too).
    static func attach(_ rules: [CgroupDeviceRule], to cgroup: String) throws(IntermodalError) {
        let code = try program(for: rules).flatMap(\.bytes)
        var progFD = load(code, log: nil)
        guard progFD >= 0 else {
            let e = errno
            // Load again with the verifier's log switched on, only to say why. (With the log on
            // from the start a long but valid program fails with ENOSPC when the log overflows.)
            var log = [UInt8](repeating: 0, count: 1 << 16)
            progFD = load(code, log: &log)
            if progFD >= 0 { close(Int32(progFD)) }
            let lines = String(decoding: log.prefix { $0 != 0 }, as: UTF8.self).split(separator: "\n").suffix(3)
            throw IntermodalError(
                .systemError,
                "load the device-control eBPF program for \(cgroup)" + (lines.isEmpty ? "" : " (verifier: \(lines.joined(separator: "; ")))"),
                cause: Errno(rawValue: e))
        }
        defer { close(Int32(progFD)) }
        let dirFD = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw .system("open \(cgroup) to attach the device-control program") }
        defer { close(dirFD) }
        var attr = [UInt8](repeating: 0, count: 128)
        put32(UInt32(dirFD), &attr, at: 0)            // target_fd
        put32(UInt32(progFD), &attr, at: 4)           // attach_bpf_fd
        put32(6, &attr, at: 8)                        // BPF_CGROUP_DEVICE
        put32(2, &attr, at: 12)                       // BPF_F_ALLOW_MULTI
        guard bpf(8 /* BPF_PROG_ATTACH */, &attr) == 0 else {
            throw .system("attach the device-control eBPF program to \(cgroup)")
        }
    }
}
