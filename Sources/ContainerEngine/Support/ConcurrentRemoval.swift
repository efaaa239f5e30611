#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Synchronization
import SystemPackage

/// Empties directory trees with the deletions running side by side.
///
/// Why: on an ext4 mounted with `discard` and without a journal (this project's reference host),
/// every freed block is discarded synchronously inside `rmdir`/`unlink`, so each directory (and each
/// file whose data reached the disk) costs one device round trip: 60 µs on a quiet disk, 3-4 ms
/// while other work writes. A removal one entry after the other pays the sum; issued from a few
/// threads at once it pays roughly the slowest. Nested directories are first moved up to the top
/// level (a `rename` frees nothing), so every one of them is a leaf that can go at once.
enum ConcurrentRemoval {
    /// At most this many deletions in flight.
    static let maximumThreads = 8

    /// Removes everything inside `directory` (which stays), never crossing into another file system.
    static func empty(_ directory: FilePath) throws(IntermodalError) {
        var st = stat()
        guard lstat(directory.string, &st) == 0 else { throw .system("cannot examine \(directory)") }
        var files: [FilePath] = []
        var directories: [FilePath] = []
        var serial = 0
        try collect(directory, top: directory, device: st.st_dev, files: &files, directories: &directories, serial: &serial)
        try removeAll(files, rmdir: false)
        try removeAll(directories, rmdir: true)
    }

    /// Removes `directory` and everything in it; nothing when it does not exist.
    static func removeTree(_ directory: FilePath) throws(IntermodalError) {
        var st = stat()
        guard lstat(directory.string, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            guard unlink(directory.string) == 0 || errno == ENOENT else { throw .system("cannot remove \(directory)") }
            return
        }
        try empty(directory)
        guard rmdir(directory.string) == 0 || errno == ENOENT else { throw .system("cannot remove \(directory)") }
    }

    /// Lists the files of the tree and moves every nested subdirectory up to `top` under a unique
    /// name (before listing it, so every path collected is where the entry stays), so that all
    /// directories are empty leaves of `top` once the files are gone. A work list, not recursion,
    /// and paths never longer than `top/NAME/NAME`: a tree of any depth is collected.
    private static func collect(
        _ start: FilePath, top: FilePath, device: dev_t, files: inout [FilePath], directories: inout [FilePath], serial: inout Int
    ) throws(IntermodalError) {
        var queue = [start]
        while let dir = queue.popLast() {
            guard let stream = opendir(dir.string) else { throw .system("cannot open directory \(dir)") }
            let names = FileSystem.entryNames(stream)
            closedir(stream)
            for name in names {
                var path = dir.appending(name)
                var st = stat()
                guard lstat(path.string, &st) == 0 else { continue }
                guard (st.st_mode & S_IFMT) == S_IFDIR else {
                    files.append(path)
                    continue
                }
                guard st.st_dev == device else {
                    throw IntermodalError(.invalidState, "refusing to remove \(path): another file system is mounted there")
                }
                if dir != top {
                    serial += 1
                    let flat = top.appending(".removing-\(getpid())-\(serial)")
                    guard Rename.withoutReplacing(path, flat) else { throw .system("cannot move \(path) to \(flat)") }
                    path = flat
                }
                queue.append(path)
                directories.append(path)
            }
        }
    }

    /// `unlink` (or `rmdir`) of every path, from up to ``maximumThreads`` threads. The first
    /// failure other than "already gone" is thrown after all have been tried.
    private static func removeAll(_ paths: [FilePath], rmdir useRmdir: Bool) throws(IntermodalError) {
        if paths.isEmpty { return }
        let work = RemovalQueue(paths.map(\.string), rmdir: useRmdir)
        let helpers = (1..<min(paths.count, maximumThreads)).map { _ in DedicatedThread.joinable { work.drain() } }
        work.drain()
        for helper in helpers { try? helper.join() }
        if let failure = work.failure { throw failure }
    }
}

/// The shared list the removal threads take paths from.
private final class RemovalQueue: Sendable {
    private struct State {
        var next = 0
        var failure: IntermodalError?
    }

    private let paths: [String]
    private let useRmdir: Bool
    private let state = Mutex(State())

    init(_ paths: [String], rmdir: Bool) {
        self.paths = paths
        self.useRmdir = rmdir
    }

    var failure: IntermodalError? { state.withLock { $0.failure } }

    func drain() {
        while true {
            let index = state.withLock { s -> Int in
                defer { s.next += 1 }
                return s.next
            }
            guard index < paths.count else { return }
            let path = paths[index]
            let rc = useRmdir ? rmdir(path) : unlink(path)
            if rc != 0 && errno != ENOENT {
                let error = IntermodalError.system("cannot remove \(path)")
                state.withLock { if $0.failure == nil { $0.failure = error } }
            }
        }
    }
}
