#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Kernel, distribution and the capability bounding set of this process.
enum SystemProbe {
    static func kernel() -> ProbeResult {
        var u = utsname()
        guard uname(&u) == 0 else { return ProbeResult("kernel", .missing, "uname failed") }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        return ProbeResult("kernel", .ok, "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))")
    }

    static func distribution(osRelease: FilePath = "/etc/os-release") -> ProbeResult {
        guard let text = try? FileSystem.readString(osRelease) else {
            return ProbeResult("distribution", .warning, "\(osRelease) not readable")
        }
        let fields = parseOSRelease(text)
        return ProbeResult("distribution", .ok, fields["PRETTY_NAME"] ?? fields["NAME"] ?? "unknown")
    }

    /// `KEY=value` and `KEY="value"` lines of os-release(5).
    static func parseOSRelease(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = line[line.index(after: eq)...]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = value.dropFirst().dropLast()
            }
            out[String(line[..<eq])] = String(value)
        }
        return out
    }

    /// Whether CAP_SYS_RESOURCE is in our bounding set: without it an rlimit above the current
    /// hard limit fails, even for root (as on this project's reference host).
    static func capabilities(status: FilePath = "/proc/self/status") -> ProbeResult {
        guard let text = try? FileSystem.readString(status),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
            let mask = UInt64(line.dropFirst("CapBnd:".count).trimmed, radix: 16)
        else { return ProbeResult("capabilities", .warning, "CapBnd not readable from \(status)") }
        let uid = getuid()
        let sysResource: UInt64 = 1 << 24
        let sysAdmin: UInt64 = 1 << 21
        if uid != 0 || mask & sysAdmin == 0 {
            return ProbeResult(
                "capabilities", .missing, "not root with CAP_SYS_ADMIN (uid \(uid), bounding set \(String(mask, radix: 16)))",
                fix: "run intermodal as root", required: true)
        }
        if mask & sysResource == 0 {
            return ProbeResult(
                "capabilities", .warning,
                "root, but CAP_SYS_RESOURCE is not in the bounding set: rlimits above the hard limit will fail")
        }
        return ProbeResult("capabilities", .ok, "root with a full bounding set")
    }

    /// `net.ipv4.ip_forward`, which published ports need: `run -p` turns it on while a port is
    /// published (as Docker and podman do) and off again after the last, if it turned it on.
    static func ipForwarding(sysctl: FilePath = "/proc/sys/net/ipv4/ip_forward") -> ProbeResult {
        guard let value = (try? FileSystem.readString(sysctl))?.trimmed else {
            return ProbeResult("ip forwarding", .warning, "\(sysctl) not readable: run -p cannot route published ports")
        }
        return ProbeResult("ip forwarding", .ok, value == "1"
            ? "on (net.ipv4.ip_forward=1)"
            : "off (net.ipv4.ip_forward=\(value)); run -p turns it on while ports are published and off after the last, as Docker does")
    }
}
