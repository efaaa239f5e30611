#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import IntermodalCore

/// The spec's seccomp names mapped to libseccomp values.
enum SeccompNames {
    /// The SCMP_ACT_* value; `errnoRet` only for the actions that carry a number.
    static func action(_ name: String, errnoRet: UInt32?, field: String) throws(IntermodalError) -> UInt32 {
        // SCMP_ACT_ERRNO(x) and SCMP_ACT_TRACE(x) are C function-like macros Swift cannot import.
        let errnoValue = (errnoRet ?? UInt32(EPERM)) & 0xffff
        switch name {
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | errnoValue
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | errnoValue
        default: break
        }
        if errnoRet != nil {
            throw IntermodalError(.invalidArgument, "\(field): errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not \(name)")
        }
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        case "SCMP_ACT_NOTIFY":
            throw IntermodalError(
                .unsupported, "\(field): SCMP_ACT_NOTIFY needs a seccomp listener (listenerPath), which this runtime does not support")
        default:
            throw IntermodalError(.invalidArgument, "\(field): unknown seccomp action \"\(name)\"")
        }
    }

    static func comparison(_ name: String, field: String) throws(IntermodalError) -> scmp_compare {
        switch name {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: throw IntermodalError(.invalidArgument, "\(field): unknown seccomp comparison \"\(name)\"")
        }
    }

    /// "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64".
    static func architecture(_ name: String) throws(IntermodalError) -> UInt32 {
        guard name.hasPrefix("SCMP_ARCH_") else {
            throw IntermodalError(.invalidArgument, "linux.seccomp.architectures: unknown architecture \"\(name)\"")
        }
        if name == "SCMP_ARCH_NATIVE" { return seccomp_arch_native() }
        let short = String(name.dropFirst("SCMP_ARCH_".count)).lowercased()
        let token = seccomp_arch_resolve_name(short)
        guard token != 0 else {
            throw IntermodalError(.invalidArgument, "linux.seccomp.architectures: unknown architecture \"\(name)\"")
        }
        return token
    }

    /// The name of syscall `number` on this machine's architecture, if libseccomp knows it.
    static func nativeSyscallName(_ number: Int32) -> String? {
        guard let name = seccomp_syscall_resolve_num_arch(seccomp_arch_native(), number) else { return nil }
        defer { free(name) }
        return String(cString: name)
    }

    /// SECCOMP_FILTER_FLAG_* bits (linux/seccomp.h).
    static func flags(_ names: [String]) throws(IntermodalError) -> UInt32 {
        var bits: UInt32 = 0
        for name in names {
            switch name {
            case "SECCOMP_FILTER_FLAG_TSYNC": bits |= 1
            case "SECCOMP_FILTER_FLAG_LOG": bits |= 2
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": bits |= 4
            case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": bits |= 32
            default: throw IntermodalError(.invalidArgument, "linux.seccomp.flags: unknown flag \"\(name)\"")
            }
        }
        return bits
    }
}
