#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Synchronization

/// A piece of blocking work (deletions that wait for the disk) on an OS thread of its own, joined
/// later: it overlaps with other blocking work of the caller without occupying a thread of
/// Swift's small cooperative pool.
final class HelperThread: Sendable {
    private let body: @Sendable () throws(IntermodalError) -> Void
    private let failure = Mutex<IntermodalError?>(nil)
    private let thread = Mutex<pthread_t?>(nil)

    /// Starts `body`; if no thread can be made it runs here and now.
    init(_ body: @escaping @Sendable () throws(IntermodalError) -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            Unmanaged<HelperThread>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        if rc == 0 {
            thread.withLock { $0 = handle }
        } else {
            Unmanaged<HelperThread>.fromOpaque(box).release()
            run()
        }
    }

    private func run() {
        do { try body() } catch { failure.withLock { $0 = error } }
    }

    /// Waits for the body to finish; rethrows what it threw.
    func join() throws(IntermodalError) {
        if let handle = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) { pthread_join(handle, nil) }
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
