#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

extension ProcFS {
    /// Waits (at most `limit` nanoseconds) until the process that has just executed its program
    /// is off the CPU: sleeping, stopped or exited. Poststart hooks run after this, so that they
    /// see a program that has started (a shell's first command done, a server at its first
    /// wait), not one the kernel has only loaded: runtime-tools' poststart test has the process
    /// and the hook append to one file and expects the process's line first. A program that
    /// computes without pause is waited for only up to `limit`.
    static func awaitOffCPU(_ pid: Int32, startTime: UInt64, limit: UInt64 = 50_000_000) {
        let deadline = MonotonicInstant.now.nanoseconds + limit
        while MonotonicInstant.now.nanoseconds < deadline {
            guard let s = stat(pid), s.startTime == startTime, s.state == "R" else { return }
            usleep(100)
        }
    }
}
