#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// An advisory `flock(2)` on a lock file, shared between threads and processes: the one file lock
/// of the project (store index and ingest lease, debootstrap cache, container names, the bridge).
///
/// Waiting never happens on Swift concurrency's pool: the lock is first tried without blocking,
/// and only when another holder has it does a dedicated thread wait in `flock` (see
/// ``DedicatedThread``). A holder may await while it holds the lock (run debootstrap, say)
/// without starving the tasks that would let it finish.
public struct FileLock: Sendable {
    /// Shared (many readers or lease holders) or exclusive (one writer).
    public enum Mode: Sendable {
        case shared, exclusive
        var operation: CInt { self == .shared ? LOCK_SH : LOCK_EX }
    }

    /// A lock that is held: its open descriptor. ``release()`` gives it up.
    public struct Held: Sendable {
        public let descriptor: CInt
        /// Unlocks and closes the descriptor.
        public func release() {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    /// The lock file (created, mode 0644, when missing).
    public let path: FilePath

    public init(_ path: FilePath) { self.path = path }

    /// Takes the lock, waiting off the pool when it is held elsewhere.
    public func acquire(_ mode: Mode = .exclusive) async throws(IntermodalError) -> Held {
        let fd = try open()
        switch Self.lock(fd, mode.operation | LOCK_NB) {
        case 0: return Held(descriptor: fd)
        case EWOULDBLOCK:
            let path = self.path
            let e = await DedicatedThread.run { Self.lock(fd, mode.operation) }
            if e == 0 { return Held(descriptor: fd) }
            close(fd)
            throw .system("cannot lock \(path)", errno: e)
        case let e:
            close(fd)
            throw .system("cannot lock \(path)", errno: e)
        }
    }

    /// Takes the lock only if nobody holds it; nil otherwise. Never waits.
    public func tryAcquire(_ mode: Mode = .exclusive) throws(IntermodalError) -> Held? {
        let fd = try open()
        switch Self.lock(fd, mode.operation | LOCK_NB) {
        case 0: return Held(descriptor: fd)
        case EWOULDBLOCK:
            close(fd)
            return nil
        case let e:
            close(fd)
            throw .system("cannot lock \(path)", errno: e)
        }
    }

    /// Runs `body` holding the lock; it is released when the body returns or throws.
    public func withLock<R>(
        _ mode: Mode = .exclusive, _ body: () async throws(IntermodalError) -> R
    ) async throws(IntermodalError) -> R {
        let held = try await acquire(mode)
        defer { held.release() }
        return try await body()
    }

    /// For a thread of the caller's own, never one of the pool (the runtime CLI's single
    /// thread, a ``DedicatedThread`` body): takes the lock, blocking this thread while it waits.
    public func withLockBlockingThisThread<R>(
        _ mode: Mode = .exclusive, _ body: () throws(IntermodalError) -> R
    ) throws(IntermodalError) -> R {
        let fd = try open()
        defer { close(fd) }
        let e = Self.lock(fd, mode.operation)
        guard e == 0 else { throw .system("cannot lock \(path)", errno: e) }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private func open() throws(IntermodalError) -> CInt {
        let fd = Glibc.open(path.string, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot open lock file \(path)") }
        return fd
    }

    /// flock, retried on EINTR; 0 or the errno.
    private static func lock(_ fd: CInt, _ operation: CInt) -> CInt {
        while flock(fd, operation) != 0 {
            if errno == EINTR { continue }
            return errno
        }
        return 0
    }
}
