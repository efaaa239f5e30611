#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Where blocking work runs: on an OS thread of its own, never on Swift concurrency's pool.
///
/// The cooperative pool has one thread per core (two on the reference host). A blocking system
/// call on one of its threads (`flock`, `waitpid`, `poll`, a blocking `read`, a semaphore wait,
/// a `usleep` loop) takes that thread from every other task; with as many blocked callers as
/// cores, the task that would unblock them (a lock holder awaiting a subprocess, say) is never
/// resumed and the whole process hangs. So an `async` function that must block calls
/// ``run(_:)-(()->T)``: the body runs on a new thread and the awaiting task is resumed from there,
/// leaving the pool free. Creating a thread costs tens of microseconds, far less than any wait
/// worth offloading.
public enum DedicatedThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread and returns at once (output relays, reapers).
    /// If no thread can be made, `body` runs here and now rather than being lost.
    public static func start(_ body: @escaping @Sendable () -> Void) {
        spawn(body)
    }

    /// Runs `body` on a new thread and resumes the caller with its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            spawn { c.resume(returning: body()) }
        }
    }

    /// Runs a throwing `body` on a new thread and resumes the caller with its result or error.
    public static func run<T: Sendable>(
        _ body: @escaping @Sendable () throws(IntermodalError) -> T
    ) async throws(IntermodalError) -> T {
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<T, IntermodalError>, Never>) in
            spawn {
                do throws(IntermodalError) { c.resume(returning: .success(try body())) } catch { c.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    /// Blocking work started now and joined later (deletions that wait for the disk while the
    /// caller does other blocking work), from a synchronous caller that may block on the join.
    public final class Joinable: Sendable {
        private final class Failure: Sendable {
            let error = Mutex<IntermodalError?>(nil)
        }

        private let thread: Mutex<pthread_t?>
        private let failure: Failure

        fileprivate init(_ body: @escaping @Sendable () throws(IntermodalError) -> Void) {
            let failure = Failure()
            self.failure = failure
            let work: () -> Void = {
                do throws(IntermodalError) { try body() } catch { failure.error.withLock { $0 = error } }
            }
            thread = Mutex(DedicatedThread.spawn(work, detached: false))
        }

        /// Waits for the body to finish; rethrows what it threw.
        public func join() throws(IntermodalError) {
            if let handle = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) { pthread_join(handle, nil) }
            if let error = failure.error.withLock({ $0 }) { throw error }
        }
    }

    /// Starts `body` on a thread of its own, to be joined; if no thread can be made it runs here
    /// and now.
    public static func joinable(_ body: @escaping @Sendable () throws(IntermodalError) -> Void) -> Joinable {
        Joinable(body)
    }

    /// The new thread (nil when detached, or when none could be made and `body` ran here).
    @discardableResult
    private static func spawn(_ body: @escaping () -> Void, detached: Bool = true) -> pthread_t? {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
            return nil
        }
        if detached { pthread_detach(thread); return nil }
        return thread
    }
}
