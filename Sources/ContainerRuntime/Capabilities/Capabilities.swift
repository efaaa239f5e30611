import IntermodalCore
import SystemPackage

/// Linux capability names and numbers (linux/capability.h), limited to what this kernel knows.
public enum Capabilities {
    /// Every capability name Linux has defined, indexed by number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
    public static let names: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ]

    /// The highest capability number the running kernel supports (`/proc/sys/kernel/cap_last_cap`);
    /// the table's last one if that file cannot be read.
    public static let lastSupported: Int32 = {
        guard let text = try? FileSystem.readString("/proc/sys/kernel/cap_last_cap"),
              let n = Int32(text.split(separator: "\n").first ?? "") else { return Int32(names.count - 1) }
        return min(n, Int32(names.count - 1))
    }()

    /// The CAP_* names this kernel knows, in number order.
    public static var all: [String] { Array(names[0...Int(lastSupported)]) }

    /// The number of a capability named as in the spec ("CAP_NET_RAW"; the prefix and case are
    /// forgiven, as Docker's `--cap-add net_raw`). Unknown names are an error naming them.
    public static func number(named name: String) throws(IntermodalError) -> Int32 {
        var upper = name.uppercased()
        if !upper.hasPrefix("CAP_") { upper = "CAP_" + upper }
        guard let index = names.firstIndex(of: upper) else {
            throw IntermodalError(.invalidArgument, "unknown capability \"\(name)\"")
        }
        return Int32(index)
    }

    /// The name of capability `number`, or nil beyond the table.
    public static func name(of number: Int32) -> String? {
        number >= 0 && Int(number) < names.count ? names[Int(number)] : nil
    }

    /// True when the running kernel knows capability `number`.
    public static func isSupported(_ number: Int32) -> Bool { number >= 0 && number <= lastSupported }

    /// The capability set bitmask for `names` (bit n = capability n). Names this kernel does not
    /// know are an error (`.unsupported`), unknown names an `.invalidArgument` error.
    public static func mask(of names: [String]) throws(IntermodalError) -> UInt64 {
        var mask: UInt64 = 0
        for name in names {
            let n = try number(named: name)
            guard isSupported(n) else {
                throw IntermodalError(
                    .unsupported, "capability \(name) (\(n)) is unknown to this kernel (cap_last_cap is \(lastSupported))")
            }
            mask |= 1 << UInt64(n)
        }
        return mask
    }
}
