#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// Ends the test process with a clear message when a scenario outlives its deadline. It runs on
/// a thread of its own: a starved cooperative pool, the very failure these tests look for, could
/// never run a timer task (Swift Testing's time limits included). Deadlines are minutes, not
/// seconds: a hang lasts forever, while the whole suite running beside these tests can keep both
/// pool threads busy with CPU-bound work for a minute on a loaded 2-core host.
final class Watchdog: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var finished = false

    init(seconds: Int, what: String) {
        pthread_mutex_init(lock, nil)
        DedicatedThread.start { [self] in
            let deadline = MonotonicInstant.now.nanoseconds + UInt64(seconds) * 1_000_000_000
            while MonotonicInstant.now.nanoseconds < deadline {
                usleep(100_000)
                if isFinished { return }
            }
            StandardStreams.writeError("HANG: \(what) did not finish within \(seconds) s: the cooperative pool is starved; aborting the test process\n")
            abort()
        }
    }

    private var isFinished: Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return finished
    }

    /// The scenario finished in time.
    func disarm() {
        pthread_mutex_lock(lock)
        finished = true
        pthread_mutex_unlock(lock)
    }
}

/// More concurrent callers than the pool has threads: enough to starve it if any of them blocks.
var moreCallersThanCores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) * 2 + 2 }
