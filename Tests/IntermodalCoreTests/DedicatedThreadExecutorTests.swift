#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Synchronization
import Testing

/// Work under `DedicatedThreadExecutor` blocks its own thread, never the cooperative pool's.
struct DedicatedThreadExecutorTests {
    /// More blocking bodies than the pool has threads, each waiting for a flag that only a task on
    /// the pool sets: on the pool they would hold every thread and the setter would never run
    /// (each wait gives up after 20 s, so a failure is an expectation, not a hang).
    @Test func blockingBodiesLeaveThePoolFree() async {
        let width = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) + 1
        final class Shared: Sendable {
            let flag = Atomic<Bool>(false)
            let started = Atomic<Int>(0)
        }
        let shared = Shared()
        let seen = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<width {
                group.addTask {
                    await DedicatedThreadExecutor.run { () -> Bool in
                        shared.started.add(1, ordering: .sequentiallyConsistent)
                        for _ in 0..<20_000 {
                            if shared.flag.load(ordering: .sequentiallyConsistent) { return true }
                            usleep(1000)
                        }
                        return false
                    }
                }
            }
            group.addTask {
                while shared.started.load(ordering: .sequentiallyConsistent) < width { try? await Task.sleep(for: .milliseconds(5)) }
                shared.flag.store(true, ordering: .sequentiallyConsistent)
                return true
            }
            var all: [Bool] = []
            for await ok in group { all.append(ok) }
            return all
        }
        #expect(seen.count == width + 1 && seen.allSatisfy { $0 }, "\(seen)")
    }

    /// Task-local values and errors cross to the executor's thread and back.
    @Test func theBodyKeepsItsTaskAndItsErrors() async throws {
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await DedicatedThreadExecutor.run { () throws -> Int in throw Failure() } }
        let value = await DedicatedThreadExecutor.run { Test.current != nil }
        #expect(value, "the test's task-locals are seen on the executor's thread")
    }
}
