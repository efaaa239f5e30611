#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import Synchronization
import SystemPackage
import Testing

/// Threads that start and exit in a loop, as a busy process's thread pools do, until stopped.
private final class ThreadChurn: @unchecked Sendable {
    private let running = Atomic<Bool>(true)
    private var driver = pthread_t()

    init() {
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&driver, nil, { arg in
            let churn = Unmanaged<ThreadChurn>.fromOpaque(arg!).takeRetainedValue()
            while churn.running.load(ordering: .relaxed) {
                var t = pthread_t()
                if pthread_create(&t, nil, { _ in nil }, nil) == 0 { pthread_join(t, nil) }
            }
            return nil
        }, context)
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        pthread_join(driver, nil)
    }
}

@Suite("containers created concurrently from one multi-threaded process")
struct ConcurrentCreateTests {
    /// The container's first process is a raw clone of a multi-threaded parent. glibc's set*id
    /// wrappers would wait there for the parent's other threads (which the child does not have)
    /// and hang whenever one of them was exiting at clone time: every create here must finish.
    @Test func manyConcurrentCreatesWhileThreadsComeAndGo() async throws {
        let b = try await TestBundle.make(["sh", "-c", "echo ok"]) { spec in
            spec.process?.user.uid = 1000
            spec.process?.user.gid = 1000
            spec.process?.user.additionalGids = [1001]
        }
        defer { b.cleanup() }
        let churn = ThreadChurn()
        defer { churn.stop() }
        let runtime = b.runtime
        let bundle = b.bundle
        for _ in 0..<4 {
            try await withThrowingTaskGroup(of: ExitStatus.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let devNull = try FileDescriptor.open("/dev/null", .writeOnly)
                        defer { try? devNull.close() }
                        let r = try await runtime.run(
                            id: TestBundle.uniqueID, bundle: bundle,
                            io: .fileDescriptors(stdin: nil, stdout: devNull, stderr: devNull))
                        return r.status
                    }
                }
                for try await status in group { #expect(status == ExitStatus(code: 0)) }
            }
        }
    }
}
