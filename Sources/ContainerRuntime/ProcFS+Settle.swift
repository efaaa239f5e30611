#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// Waits on a process the runtime has just started.
enum ProcFS {
    /// Waits until the process that has just executed its program is off the CPU (sleeping,
    /// stopped or exited), or has run `cpuBudget` nanoseconds of CPU time, or `limit` has passed.
    /// Poststart hooks run after this, so that they see a program that has started (a shell's
    /// first command done, a server at its first wait), not one the kernel has only loaded:
    /// runtime-tools' poststart test has the process and the hook append to one file and expects
    /// the process's line first. CPU time rather than wall time bounds a busy program, so that a
    /// loaded host (the program runnable but not yet run) does not cut the wait short.
    static func awaitOffCPU(_ pid: Int32, startTime: UInt64, cpuBudget: UInt64 = 20_000_000, limit: Duration = .seconds(1)) {
        let ranBefore = ProcessStat.onCPUNanoseconds(pid)
        _ = Poll.blockingUntil(limit, .every(.microseconds(100))) { () -> Bool in
            guard let s = ProcessStat.read(pid), s.startTime == startTime, s.state == "R" else { return true }
            if let before = ranBefore, let now = ProcessStat.onCPUNanoseconds(pid), now &- before >= cpuBudget { return true }
            return false
        }
    }
}
