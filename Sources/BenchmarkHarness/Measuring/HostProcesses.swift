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

    /// The parent's pid.
    static func parent(of pid: Int32) -> Int32? {
        ProcessStat.read(pid)?.parent
    }

    /// The start time: tells a reused pid apart.
    static func startTime(_ pid: Int32) -> UInt64? {
        ProcessStat.read(pid)?.startTime
    }

    /// Gone, or a zombie waiting to be reaped (by us, or late by a PID 1 that reaps slowly).
    static func hasExited(_ pid: Int32) -> Bool {
        ProcessStat.read(pid)?.hasEnded ?? true
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
            _ = Poll.blockingUntil(.seconds(5), .every(.milliseconds(10))) { found.allSatisfy(hasExited) }
        }
        return found
    }
}
