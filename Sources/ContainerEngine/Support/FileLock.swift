#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// An exclusive `flock` on a file, for read-modify-write sections shared by several `intermodal`
/// processes (container names, the address allocator, the bridge).
struct FileLock {
    let path: FilePath

    /// Runs `body` while holding the lock; the lock is released when the body returns or throws.
    func withLock<T>(_ body: () throws(IntermodalError) -> T) throws(IntermodalError) -> T {
        let fd = open(path.string, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot open lock file \(path)") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .system("cannot lock \(path)") }
        }
        return try body()
    }

    /// The async variant (the body may await, e.g. run `ip`); the lock is held across suspension.
    func withLock<T>(_ body: () async throws(IntermodalError) -> T) async throws(IntermodalError) -> T {
        let fd = open(path.string, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot open lock file \(path)") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .system("cannot lock \(path)") }
        }
        return try await body()
    }
}
