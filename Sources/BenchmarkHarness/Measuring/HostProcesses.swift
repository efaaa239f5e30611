#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The host's process table as /proc shows it: what the backends' cleanup and memory counting
/// look processes up by.
enum HostProcesses {
    /// Every process's pid, this one's included.
    static func all() -> [Int32] {
        ((try? FileSystem.list("/proc")) ?? []).compactMap { Int32($0) }
    }

    /// The command line, its arguments joined by spaces (nil once the process is gone).
    static func commandLine(_ pid: Int32) -> String? {
        guard let bytes = try? FileSystem.readBytes(FilePath("/proc/\(pid)/cmdline")) else { return nil }
        return String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// The processes other than this one whose command line contains `text`.
    static func mentioning(_ text: String) -> [Int32] {
        matching { $0.contains(text) }
    }

    /// The processes other than this one whose command line passes `test`.
    static func matching(_ test: (String) -> Bool) -> [Int32] {
        all().filter { $0 != getpid() && (commandLine($0).map(test) ?? false) }
    }

    /// The fields of /proc/PID/stat after the command's name, from the state (field 3) on.
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let stat = try? FileSystem.readString(FilePath("/proc/\(pid)/stat")),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// The parent's pid (field 4).
    static func parent(of pid: Int32) -> Int32? {
        statFields(pid).flatMap { $0.count > 1 ? Int32($0[1]) : nil }
    }

    /// The start time (field 22): tells a reused pid apart.
    static func startTime(_ pid: Int32) -> UInt64? {
        statFields(pid).flatMap { $0.count > 19 ? UInt64($0[19]) : nil }
    }

    /// Gone, or a zombie waiting to be reaped (by us, or late by a PID 1 that reaps slowly).
    static func hasExited(_ pid: Int32) -> Bool {
        statFields(pid).map { $0.first == "Z" } ?? true
    }

    /// The processes whose root directory (`chroot`) is `directory` or below it. A program that
    /// daemonizes (`redis-server --daemonize yes`) leaves its process group and session, but not
    /// its root: this is how a chroot's last process is found.
    static func rooted(under directory: FilePath) -> [Int32] {
        let prefix = directory.string.hasSuffix("/") ? directory.string : directory.string + "/"
        return all().filter { pid in
            guard pid != getpid(), let root = try? FileSystem.readLink(FilePath("/proc/\(pid)/root")) else { return false }
            let path = root.hasSuffix(" (deleted)") ? String(root.dropLast(10)) : root
            return path == directory.string || path.hasPrefix(prefix)
        }
    }

    /// SIGKILLs the processes rooted under `directory` and waits (off the pool, up to 5 s) until
    /// they are gone; returns the pids it killed.
    @discardableResult
    static func killRooted(under directory: FilePath) async -> [Int32] {
        let found = rooted(under: directory)
        guard !found.isEmpty else { return [] }
        for pid in found { kill(pid, SIGKILL) }
        await DedicatedThread.run {
            for _ in 0..<500 where found.contains(where: { !hasExited($0) }) { usleep(10_000) }
        }
        return found
    }
}
