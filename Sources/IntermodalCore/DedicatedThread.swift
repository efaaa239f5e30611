#if canImport(Glibc)
import Glibc
#endif

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

    private static func spawn(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
        }
    }
}
