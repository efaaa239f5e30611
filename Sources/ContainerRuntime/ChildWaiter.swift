#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Synchronization

/// Reaps one child process on a small dedicated thread, so that the exit status is kept (and no
/// zombie lingers) whether or not anybody calls ``Container/wait()``.
final class ChildWaiter: Sendable {
    let pid: Int32
    private struct State {
        var status: ExitStatus?
        var exitedAt: MonotonicInstant?
        var continuations: [CheckedContinuation<ExitStatus, Never>] = []
        /// ``handOver()`` was called before the child exited: this waiter never reaps it.
        var handedOver = false
        /// The reaper thread has decided to reap (the child exited before any hand-over).
        var reaping = false
    }
    private let state = Mutex(State())
    /// Posted once when the status is known, for threads that block (the CLI).
    nonisolated(unsafe) private let done: UnsafeMutablePointer<sem_t> = {
        let p = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(p, 0, 0)
        return p
    }()

    deinit {
        sem_destroy(done)
        done.deallocate()
    }

    /// With `reaping` false the child is never reaped here (no thread): a process the caller
    /// leaves behind on purpose (`exec --detach`), whose exit status belongs to whoever adopts it.
    init(pid: Int32, reaping: Bool = true) {
        self.pid = pid
        guard reaping else {
            state.withLock { $0.handedOver = true }
            return
        }
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 64 << 10)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, &attr, { raw in
            let waiter = Unmanaged<ChildWaiter>.fromOpaque(raw!).takeRetainedValue()
            waiter.reap()
            return nil
        }, context)
        pthread_attr_destroy(&attr)
        if rc != 0 {
            // No thread: reap synchronously later via wait().
            Unmanaged<ChildWaiter>.fromOpaque(context).release()
        }
    }

    private func reap() {
        // Wait for the exit without reaping first: a process that has handed the child over (it
        // is about to execve a program that reaps it) must leave its status to that program.
        var info = siginfo_t()
        var w: Int32
        repeat { w = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | __WALL) } while w < 0 && errno == EINTR
        let handedOver = state.withLock { s -> Bool in
            if s.handedOver { return true }
            s.reaping = true
            return false
        }
        if handedOver { return }
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &status, __WALL) } while r < 0 && errno == EINTR
        let exit = r == pid ? ExitStatus(waitStatus: status) : ExitStatus(code: 255)
        let now = MonotonicInstant.now
        let waiting = state.withLock { s -> [CheckedContinuation<ExitStatus, Never>] in
            s.status = exit
            s.exitedAt = now
            let c = s.continuations
            s.continuations = []
            return c
        }
        sem_post(done)
        for c in waiting { c.resume(returning: exit) }
    }

    /// Stops this waiter from ever reaping the child, so that a program this process execve()s
    /// can (the exit status goes to whoever reaps). False when the child has already exited and
    /// is being (or has been) reaped here: then nothing was handed over.
    func handOver() -> Bool {
        state.withLock { s -> Bool in
            if !s.reaping { s.handedOver = true }
            return !s.reaping
        }
    }

    /// The exit status if the process has been reaped.
    var status: ExitStatus? { state.withLock { $0.status } }
    var exitedAt: MonotonicInstant? { state.withLock { $0.exitedAt } }

    func wait() async -> ExitStatus {
        await withCheckedContinuation { (c: CheckedContinuation<ExitStatus, Never>) in
            let done = state.withLock { s -> ExitStatus? in
                if let st = s.status { return st }
                s.continuations.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }
}

extension ChildWaiter {
    /// Blocks the calling thread until the status is known.
    func waitSync() -> ExitStatus {
        while status == nil {
            if sem_wait(done) == 0 {
                sem_post(done)   // let other blocked waiters through too
                break
            }
        }
        return status ?? ExitStatus(code: 255)
    }
}
