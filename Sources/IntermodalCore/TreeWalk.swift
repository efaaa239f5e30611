#if canImport(Glibc)
import Glibc
#endif

/// A depth-first walk of a directory tree of any depth the kernel allows: the one walk that
/// archiving a layer, copying a build's sources into an image, hashing them and removing trees share.
///
/// Why not recursion over paths: a tree 3,000 levels deep has paths longer than `PATH_MAX`, so
/// every path-based call below that depth fails; at 10,000 levels one stack frame per level
/// overflows a thread's stack. This walk keeps an explicit stack of names (no recursion), works
/// with `*at` calls relative to the directory it is in (no long paths) and holds one directory
/// descriptor at a time (no descriptor limit): it climbs back through `..`, checking the
/// directory reached is the one it came from. ``TreeRemoval`` removes through it, bottom up.
public enum TreeWalk {
    /// An entry as the walk meets it.
    public struct Entry {
        /// The directory holding it, open; valid only during the call it is given to.
        public var directory: CInt
        public var name: String
        /// Its path below the walk's top (`a/b/name`, no leading slash).
        public var path: String
        /// Its `fstatat(..., AT_SYMLINK_NOFOLLOW)`.
        public var status: stat

        public var isDirectory: Bool { (status.st_mode & S_IFMT) == S_IFDIR }

        public init(directory: CInt, name: String, path: String, status: stat) {
            self.directory = directory
            self.name = name
            self.path = path
            self.status = status
        }
    }

    private struct Level {
        /// The directory's entry in its parent (nil for the top).
        var entry: Entry?
        var device: dev_t
        var inode: ino_t
        var names: [String]
        var next = 0
    }

    /// Walks the tree below the directory open at `top` (left open; not visited itself), parents
    /// before their contents, each directory's names in the order `order` gives them. `visit`
    /// sees every entry; for a directory whose contents are wanted it returns it opened (see
    /// ``openDirectory(_:)``; the walk takes the descriptor over and visits them next), else nil.
    /// `leave` runs once a directory's contents are done, its parent open again as the entry's
    /// `directory`. `label` names the top in errors. With `skipVanished`, an entry gone between
    /// the listing and its visit is passed over (a removal); otherwise it is an error.
    public static func walk(
        _ top: CInt, label: String,
        order: ([String]) -> [String] = { $0 },
        skipVanished: Bool = false,
        visit: (Entry) throws(IntermodalError) -> CInt?,
        leave: (Entry) throws(IntermodalError) -> Void = { _ in }
    ) throws(IntermodalError) {
        var fd = dup(top)
        guard fd >= 0 else { throw .system("cannot duplicate a directory descriptor") }
        defer { close(fd) }
        var topStatus = stat()
        guard fstat(fd, &topStatus) == 0 else { throw .system("cannot stat \(label)") }
        var stack = [Level(entry: nil, device: topStatus.st_dev, inode: topStatus.st_ino, names: order(try names(fd, label)))]
        while let depth = stack.indices.last {
            guard stack[depth].next < stack[depth].names.count else {
                let done = stack.removeLast()
                guard let parent = stack.last, var entry = done.entry else { break }
                let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard up >= 0 else { throw .system("cannot return to the parent of \(describe(label, entry.path))") }
                var upStatus = stat()
                guard fstat(up, &upStatus) == 0, upStatus.st_dev == parent.device, upStatus.st_ino == parent.inode else {
                    close(up)
                    throw IntermodalError(.invalidState, "\(describe(label, entry.path)) was moved while it was walked")
                }
                close(fd)
                fd = up
                entry.directory = fd
                try leave(entry)
                continue
            }
            let name = stack[depth].names[stack[depth].next]
            stack[depth].next += 1
            let path = stack[depth].entry.map { $0.path + "/" + name } ?? name
            var status = stat()
            guard fstatat(fd, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                if skipVanished && errno == ENOENT { continue }
                throw .system("cannot stat \(describe(label, path))")
            }
            let entry = Entry(directory: fd, name: name, path: path, status: status)
            guard let child = try visit(entry) else { continue }
            var childStatus = stat()
            guard fstat(child, &childStatus) == 0 else {
                close(child)
                throw .system("cannot stat \(describe(label, path))")
            }
            let childNames: [String]
            do { childNames = order(try names(child, describe(label, path))) } catch {
                close(child)
                throw error
            }
            close(fd)
            fd = child
            stack.append(Level(entry: entry, device: childStatus.st_dev, inode: childStatus.st_ino, names: childNames))
        }
    }

    /// The directory `entry` opened for ``walk(_:label:order:visit:leave:)`` to descend into
    /// (never through a symbolic link).
    public static func openDirectory(_ entry: Entry, label: String) throws(IntermodalError) -> CInt {
        let fd = openat(entry.directory, entry.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .system("cannot open directory \(describe(label, entry.path))") }
        return fd
    }

    /// Names in the directory open at `fd`, in directory order (without `.` and `..`).
    public static func names(_ fd: CInt, _ label: @autoclosure () -> String) throws(IntermodalError) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw .system("cannot list \(label())")
        }
        defer { closedir(dir) }
        return FileSystem.entryNames(dir)
    }

    /// A readable name for an entry deep in the tree: the top, the depth, the last components.
    public static func describe(_ label: String, _ path: String) -> String {
        let components = path.split(separator: "/")
        guard components.count > 8 else { return label.isEmpty ? path : "\(label)/\(path)" }
        return "\(label)/…(\(components.count - 4) levels)…/" + components.suffix(4).joined(separator: "/")
    }
}
