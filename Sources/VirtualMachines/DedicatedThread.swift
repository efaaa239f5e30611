#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// Runs one blocking call (a libvirt guest-agent round trip waits on libvirtd for up to its
/// timeout) on a thread of its own and resumes the awaiting task with the result, so the
/// cooperative pool's threads (two on the reference host) never wait in it.
///
/// Interim: IntermodalCore is getting the one shared helper for this; when it lands on main,
/// the callers here switch to it and this file goes.
enum DedicatedThread {
    static func run<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable () throws(IntermodalError) -> T
    ) async throws(IntermodalError) -> T {
        let result: Result<T, IntermodalError> = await withCheckedContinuation { continuation in
            let job = Job {
                let r: Result<T, IntermodalError>
                do throws(IntermodalError) { r = .success(try body()) } catch { r = .failure(error) }
                continuation.resume(returning: r)
            }
            let context = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            let rc = pthread_create(&thread, &attributes, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                job.body()
                return nil
            }, context)
            pthread_attr_destroy(&attributes)
            if rc != 0 {
                Unmanaged<Job>.fromOpaque(context).release()
                continuation.resume(returning: .failure(IntermodalError(.systemError, "cannot start a thread for \(what) (error \(rc))")))
            }
        }
        return try result.get()
    }

    private final class Job: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
}
