#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// What the harness reads off the host while it measures: processes' memory, the host's memory
/// and load, disk usage. All of it from /proc and the file system, nothing estimated.
public enum HostFacts {
    /// `MemAvailable` from /proc/meminfo, in KiB.
    public static func memAvailableKiB() -> Int64? { meminfo("MemAvailable:") }
    public static func memTotalKiB() -> Int64? { meminfo("MemTotal:") }

    static func meminfo(_ key: String) -> Int64? {
        guard let text = try? FileSystem.readString("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            return Int64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// The 1, 5 and 15 minute load averages.
    public static func load() -> (Double, Double, Double) {
        let f = ((try? FileSystem.readString("/proc/loadavg")) ?? "").split(separator: " ").compactMap { Double($0) }
        return f.count >= 3 ? (f[0], f[1], f[2]) : (0, 0, 0)
    }

    /// `pid` and every process below it (by parent links in /proc).
    public static func processTree(_ pid: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for p in HostProcesses.all() {
            guard let ppid = HostProcesses.parent(of: p) else { continue }
            children[ppid, default: []].append(p)
        }
        var out: [Int32] = []
        var queue = [pid]
        while let p = queue.popLast() {
            out.append(p)
            queue += children[p] ?? []
        }
        return out
    }

    /// The memory cgroup's usage file of `pid`: cgroup v2's `memory.current`, or v1's
    /// `memory.usage_in_bytes` in the memory hierarchy.
    public static func cgroupMemoryFile(of pid: Int32) -> FilePath? {
        guard let text = try? FileSystem.readString(FilePath("/proc/\(pid)/cgroup")) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            if f[1].split(separator: ",").contains("memory") {
                let file = FilePath("/sys/fs/cgroup/memory" + f[2]).appending("memory.usage_in_bytes")
                if FileSystem.exists(file) { return file }
            }
            if f[0] == "0" && f[1].isEmpty {
                let file = FilePath("/sys/fs/cgroup" + f[2]).appending("memory.current")
                if FileSystem.exists(file) { return file }
            }
        }
        return nil
    }

    /// Blocks allocated under `path` (files counted once by inode), in bytes: what it costs on disk.
    public static func allocatedBytes(_ path: FilePath) async -> Int64 {
        guard let out = try? await HostCommand.check("du", ["-s", "-B1", "--", path.string]) else { return 0 }
        return Int64(out.split(separator: "\t").first ?? "0") ?? 0
    }

    /// The version line a tool prints (`--version`), trimmed to its first line.
    public static func version(_ tool: String, _ arguments: [String] = ["--version"]) async -> String? {
        guard let r = try? await HostCommand.run(tool, arguments), r.succeeded else { return nil }
        return (r.standardOutput + r.standardError).split(separator: "\n").first.map { String($0).trimmed }
    }
}
