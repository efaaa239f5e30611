#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

extension ProcFS {
    /// Waits until the process that has just executed its program is off the CPU (sleeping,
    /// stopped or exited), or has run `cpuBudget` nanoseconds of CPU time, or `limit` has passed.
    /// Poststart hooks run after this, so that they see a program that has started (a shell's
    /// first command done, a server at its first wait), not one the kernel has only loaded:
    /// runtime-tools' poststart test has the process and the hook append to one file and expects
    /// the process's line first. CPU time rather than wall time bounds a busy program, so that a
    /// loaded host (the program runnable but not yet run) does not cut the wait short.
    static func awaitOffCPU(_ pid: Int32, startTime: UInt64, cpuBudget: UInt64 = 20_000_000, limit: UInt64 = 1_000_000_000) {
        let start = MonotonicInstant.now.nanoseconds
        let ranBefore = cpuTime(pid)
        while MonotonicInstant.now.nanoseconds - start < limit {
            guard let s = stat(pid), s.startTime == startTime, s.state == "R" else { return }
            if let before = ranBefore, let now = cpuTime(pid), now &- before >= cpuBudget { return }
            usleep(100)
        }
    }

    /// Nanoseconds the process has spent on a CPU (first field of /proc/<pid>/schedstat).
    static func cpuTime(_ pid: Int32) -> UInt64? {
        let fd = open("/proc/\(pid)/schedstat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let end = buf[0..<n].firstIndex(of: UInt8(ascii: " ")) else { return nil }
        return UInt64(String(decoding: buf[0..<end], as: UTF8.self))
    }
}
