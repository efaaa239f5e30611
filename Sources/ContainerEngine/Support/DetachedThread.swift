#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (reading a container's pipes) on its own OS thread, so it never occupies
/// one of the few threads of Swift's cooperative pool.
enum DetachedThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping @Sendable () -> Void) {
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
            // Could not make a thread: run inline rather than lose the output.
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
        }
    }
}
