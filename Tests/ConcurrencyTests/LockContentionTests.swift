#if canImport(Glibc)
import Glibc
#endif
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// Waiting for a lock must never take a thread of the cooperative pool: the holder awaits a
/// subprocess while more callers than there are cores wait, and everybody must finish.
@Suite("Lock contention never starves the pool")
struct LockContentionTests {
    @Test func waitersOfAFileLockLetTheHolderFinish() async throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-lock-test")
        defer { try? FileSystem.removeTree(dir) }
        let lock = FileLock(dir.appending("lock"))
        let watchdog = Watchdog(seconds: 300, what: "FileLock contention")
        let order = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<moreCallersThanCores {
                group.addTask {
                    try await lock.withLock { () async throws(IntermodalError) -> Int in
                        // The holder needs the pool to be resumed when its subprocess exits.
                        try await HostCommand.check("/bin/sleep", ["0.2"])
                        return i
                    }
                }
            }
            var done: [Int] = []
            for try await i in group { done.append(i) }
            return done
        }
        watchdog.disarm()
        #expect(order.sorted() == Array(0..<moreCallersThanCores))
    }

    @Test func sharedHoldersRunTogetherAndExclusiveWaits() async throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-lock-test")
        defer { try? FileSystem.removeTree(dir) }
        let lock = FileLock(dir.appending("lock"))
        let a = try await lock.acquire(.shared)
        let b = try #require(try lock.tryAcquire(.shared))
        #expect(try lock.tryAcquire(.exclusive) == nil)
        a.release()
        #expect(try lock.tryAcquire(.exclusive) == nil)
        b.release()
        let c = try #require(try lock.tryAcquire(.exclusive))
        c.release()
    }

    /// The case seen on a fresh machine: many callers want the one Debian cache entry while its
    /// builder awaits debootstrap (here a slow stand-in, so that the test takes seconds).
    @Test func concurrentBootstrapsShareOneBuild() async throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bootstrap-test")
        defer { try? FileSystem.removeTree(dir) }
        let calls = dir.appending("calls")
        let standIn = dir.appending("debootstrap")
        // Arguments as debootstrap gets them: --variant=V SUITE TARGET MIRROR.
        try FileSystem.writeAtomically("""
            #!/bin/sh
            echo run >> \(calls.string)
            sleep 1
            mkdir -p "$3/etc" && echo stand-in > "$3/etc/os-release"
            """, to: standIn)
        chmod(standIn.string, 0o755)
        let bootstrap = try DebianBootstrap(
            mirror: "http://deb.invalid/debian", cacheRoot: dir.appending("cache"), program: standIn)
        // A work directory that a killed build left behind: the next build removes it.
        let stale = bootstrap.cacheDirectory.appending("debootstrap.killed")
        try FileSystem.createDirectory(stale.appending("rootfs/usr"))
        let watchdog = Watchdog(seconds: 300, what: "concurrent DebianBootstrap.cachedLayer calls")
        let digests = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<moreCallersThanCores {
                group.addTask { try await bootstrap.cachedLayer().layer.digest }
            }
            var all: [String] = []
            for try await d in group { all.append(d) }
            return all
        }
        watchdog.disarm()
        #expect(digests.count == moreCallersThanCores)
        #expect(Set(digests).count == 1)
        #expect(try FileSystem.readString(calls) == "run\n", "one build for all callers")
        #expect(!FileSystem.exists(stale), "the killed build's work directory is reclaimed")
    }
}
