import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A directory tree that paths are resolved inside of, never outside: symbolic links met on the
/// way are followed as if the tree were `/` (an absolute target restarts at the root, `..` stops
/// at the root), like `openat2(RESOLVE_IN_ROOT)`. Everything is done relative to directory file
/// descriptors, so a link planted by one entry cannot redirect a later write to the host.
final class RootedDirectory {
    let root: FilePath
    let rootFD: CInt

    init(_ root: FilePath) throws(IntermodalError) {
        self.root = root
        let fd = open(root.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open directory \(root)") }
        rootFD = fd
    }

    deinit { close(rootFD) }

    /// Opens the directory at `components` (relative to the root), resolving symlinks inside the
    /// root and creating missing directories (mode 0755) when `create` is set. The caller closes the fd.
    func openDirectory(_ components: [String], create: Bool) throws(IntermodalError) -> CInt {
        var stack: [CInt] = [dup(rootFD)]
        defer { for fd in stack { close(fd) } }
        var queue = Array(components.reversed())
        var links = 0
        while let c = queue.popLast() {
            if c.isEmpty || c == "." { continue }
            if c == ".." {
                if stack.count > 1 { close(stack.removeLast()) }
                continue
            }
            let current = stack.last!
            var fd = openat(current, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            if fd < 0 && errno == ENOENT && create {
                if mkdirat(current, c, 0o755) != 0 && errno != EEXIST {
                    let e = errno
                    throw .system("cannot create directory \(c) under \(root)", errno: e)
                }
                fd = openat(current, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            }
            if fd >= 0 {
                stack.append(fd)
                continue
            }
            let openErrno = errno
            var st = stat()
            guard fstatat(current, c, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .system("cannot open '\(c)' in \(components.joined(separator: "/")) under \(root)", errno: openErrno)
            }
            guard (st.st_mode & S_IFMT) == S_IFLNK else {
                throw IntermodalError(.invalidArgument, "'\(components.joined(separator: "/"))': '\(c)' is not a directory")
            }
            links += 1
            guard links <= 40 else {
                throw IntermodalError(.invalidArgument, "too many levels of symbolic links in '\(components.joined(separator: "/"))'")
            }
            let target = try readLink(current, c)
            if target.hasPrefix("/") {
                for fd in stack.dropFirst() { close(fd) }
                stack.removeSubrange(1...)
            }
            queue.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
        }
        return stack.removeLast()
    }

    func readLink(_ dirFD: CInt, _ name: String) throws(IntermodalError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(dirFD, name, &buffer, 4096)
        guard n >= 0 else { throw .system("cannot read link \(name)") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes `name` in `dirFD` whatever it is (a directory with everything below it, at any
    /// depth, never crossing a mount).
    static func removeEntry(_ dirFD: CInt, _ name: String) throws(IntermodalError) {
        try FileSystem.removeEntry(dirFD, name, label: name)
    }

    /// Names in the directory open at `fd` (without `.` and `..`).
    static func listNames(_ fd: CInt) throws(IntermodalError) -> [String] {
        try TreeWalk.names(fd, "directory")
    }
}
