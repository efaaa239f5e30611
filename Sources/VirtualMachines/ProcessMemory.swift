import IntermodalCore
import SystemPackage

/// Resident (RSS) and proportional (PSS) memory of a host process, from `/proc/<pid>/smaps_rollup`.
public struct ProcessMemory: Sendable, Codable, Equatable {
    public var pid: Int32
    public var rssKiB: Int64
    public var pssKiB: Int64

    /// Reads the process's smaps_rollup; nil when it is gone or unreadable.
    public static func read(pid: Int32) -> ProcessMemory? {
        guard let text = try? FileSystem.readString(FilePath("/proc/\(pid)/smaps_rollup")) else { return nil }
        var rss: Int64?, pss: Int64?
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 2 else { continue }
            if f[0] == "Rss:" { rss = Int64(f[1]) }
            if f[0] == "Pss:" { pss = Int64(f[1]) }
        }
        guard let rss, let pss else { return nil }
        return ProcessMemory(pid: pid, rssKiB: rss, pssKiB: pss)
    }

    /// The QEMU process of a libvirt domain on this host: libvirtd's pid file for the system
    /// daemon, else the process whose command line names the guest (`-name guest=<name>`).
    public static func qemuPID(domain name: String) -> Int32? {
        for file in ["/run/libvirt/qemu/\(name).pid", "/var/run/libvirt/qemu/\(name).pid"] {
            if let text = try? FileSystem.readString(FilePath(file)), let pid = Int32(text.trimmed) { return pid }
        }
        guard let entries = try? FileSystem.list("/proc") else { return nil }
        let needle = Array("guest=\(name),".utf8)
        let needleEnd = Array("guest=\(name)\0".utf8)
        for e in entries {
            guard let pid = Int32(e), let cmd = try? FileSystem.readBytes(FilePath("/proc/\(e)/cmdline")) else { continue }
            if contains(cmd, needle) || contains(cmd, needleEnd) { return pid }
        }
        return nil
    }

    private static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        GuestKernel.find(needle, in: hay) != nil
    }
}
