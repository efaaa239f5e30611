#if canImport(Glibc)
import Glibc
#endif

/// A task executor with one OS thread of its own: long synchronous work (a fuzz loop, a tree of
/// thousands of levels) run under `withTaskExecutorPreference(executor) { ... }` keeps its task,
/// its task-local values and its `await`s, but leaves the cooperative pool's threads (one per
/// core) to every other task. The thread ends once the executor is released and its queue is empty.
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private final class Queue: @unchecked Sendable {
        var mutex = pthread_mutex_t()
        var ready = pthread_cond_t()
        var jobs: [UnownedJob] = []
        var closed = false
        init() {
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&ready, nil)
        }
    }

    private let queue = Queue()

    public init() {
        let queue = self.queue
        let executor = Unmanaged.passUnretained(self)
        // The thread holds the queue, not the executor, so the executor can be released; the
        // jobs it runs name the executor they run on, which is alive while any job is queued.
        DedicatedThread.start {
            while true {
                pthread_mutex_lock(&queue.mutex)
                while queue.jobs.isEmpty && !queue.closed { pthread_cond_wait(&queue.ready, &queue.mutex) }
                if queue.jobs.isEmpty { pthread_mutex_unlock(&queue.mutex); return }
                let job = queue.jobs.removeFirst()
                pthread_mutex_unlock(&queue.mutex)
                job.runSynchronously(on: executor.takeUnretainedValue().asUnownedTaskExecutor())
            }
        }
    }

    deinit {
        pthread_mutex_lock(&queue.mutex)
        queue.closed = true
        pthread_cond_signal(&queue.ready)
        pthread_mutex_unlock(&queue.mutex)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pthread_mutex_lock(&queue.mutex)
        queue.jobs.append(job)
        pthread_cond_signal(&queue.ready)
        pthread_mutex_unlock(&queue.mutex)
    }

    /// Runs `body` (synchronous work that would hold a pool thread for long) on a new executor's
    /// thread, in the calling task.
    public static func run<T>(_ body: () throws -> T) async rethrows -> T {
        let executor = DedicatedThreadExecutor()
        return try await withTaskExecutorPreference(executor) { () async throws -> T in try body() }
    }
}
