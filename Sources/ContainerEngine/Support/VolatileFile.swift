#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Atomic but not durable writes, for container state that does not outlive a reboot anyway
/// (records, bundle config, mount-point files): a temporary file and `rename`, without the
/// `fsync` of ``FileSystem/writeAtomically(_:to:mode:)``. Under load each fsync can cost tens of
/// milliseconds, and a `run --rm` writes a dozen of these files.
///
/// Never `O_TRUNC` on a file that exists, nor a plain rename over one: both trip ext4's
/// `auto_da_alloc` (replace-via-truncate / replace-via-rename), which allocates the new data at
/// once and starts writing it; its later removal then waits for a discard (on the reference host).
enum VolatileFile {
    /// With `spare`, the file the previous write replaced is kept under that name and its inode
    /// reused by the next write, so updating a file makes no new inode (each can cost far more
    /// than a rename on the reference host's ext4; see ``DirectoryRecycler``).
    static func write(_ bytes: some Collection<UInt8>, to path: FilePath, mode: mode_t = 0o644, spare: FilePath? = nil) throws(IntermodalError) {
        // Unique per process and thread: two tasks of one process may save the same record.
        let tmp = path.string + ".tmp-\(getpid())-\(pthread_self())"
        var fd: CInt = -1
        // Claimed by a rename: of two concurrent writers only one gets the spare.
        if let spare, rename(spare.string, tmp) == 0 { fd = open(tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) }
        if fd < 0 { fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw .system("cannot write \(path)") }
        do {
            try FileContents.overwrite(fd, with: Array(bytes), what: path)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        // Replacing by exchange: a plain rename over an existing file makes ext4 (auto_da_alloc)
        // allocate and start writing the new file at once, and the block then costs a discard
        // when the container is removed; swapped in, it stays in the page cache like a new file.
        if Rename.exchange(FilePath(tmp), path) {
            if let spare, Rename.withoutReplacing(FilePath(tmp), spare) { return }
            unlink(tmp)
            return
        }
        guard rename(tmp, path.string) == 0 else {
            let e = errno
            unlink(tmp)
            throw .system("cannot write \(path)", errno: e)
        }
    }

    static func write(_ text: String, to path: FilePath) throws(IntermodalError) {
        try write(Array(text.utf8), to: path)
    }
}

/// A file of a container's bundle, written before anything reads it: in place, no temporary file
/// and rename (a second inode on every `run`). The file may be a recycled one with an earlier
/// container's content (``DirectoryRecycler``), which is overwritten.
enum NewFile {
    static func write(_ bytes: some Collection<UInt8>, to path: FilePath, mode: mode_t = 0o644) throws(IntermodalError) {
        let fd = open(path.string, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system("cannot write \(path)") }
        defer { close(fd) }
        try FileContents.overwrite(fd, with: Array(bytes), what: path)
    }

    static func write(_ text: String, to path: FilePath) throws(IntermodalError) {
        try write(Array(text.utf8), to: path)
    }
}

/// Replaces an open file's contents: written from offset 0, then cut to the new length. Not
/// `O_TRUNC`: truncating to zero arms ext4's replace-via-truncate allocation at close.
enum FileContents {
    static func overwrite(_ fd: CInt, with data: [UInt8], what path: FilePath) throws(IntermodalError) {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, data.count - offset, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .system("cannot write \(path)") }
            offset += n
        }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size == off_t(data.count) { return }
        guard ftruncate(fd, off_t(data.count)) == 0 else { throw .system("cannot write \(path)") }
    }
}
