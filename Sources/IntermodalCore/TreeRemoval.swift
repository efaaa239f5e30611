#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// `rm -rf` of a directory tree of any depth the kernel allows (``FileSystem/removeTree(_:)``,
/// ``FileSystem/removeEntry(_:_:label:)``).
///
/// Why not recursion over paths: a tree 3,000 levels deep has paths longer than `PATH_MAX`, so
/// every path-based call below that depth fails (and the parent then "is not empty"); at 10,000
/// levels one stack frame per level overflows a thread's stack. This walk keeps an explicit stack
/// of names (no recursion), works with `*at` calls relative to the directory it is in (no long
/// paths) and holds one directory descriptor at a time (no descriptor limit): it climbs back
/// through `..`, checking the directory reached is the one it came from.
enum TreeRemoval {
    private struct Level {
        var device: dev_t
        var inode: ino_t
        /// This directory's name in its parent (empty for the top).
        var name: String
        /// Entries still to remove.
        var pending: [String]
    }

    /// Removes `path` (a file, or a directory with everything below it); nothing when it does
    /// not exist. Never crosses into another file system: a mount inside is an error, not a wipe.
    static func remove(_ path: FilePath) throws(IntermodalError) {
        try remove(AT_FDCWD, path.string, label: path.string)
    }

    /// Removes the entry `name` of the directory open at `dirFD` (`AT_FDCWD`: a path), whatever
    /// it is, as ``remove(_:)`` does; `label` names it in errors.
    static func remove(_ dirFD: CInt, _ name: String, label: String) throws(IntermodalError) {
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            guard unlinkat(dirFD, name, 0) == 0 || errno == ENOENT else { throw .system("cannot remove \(label)") }
            return
        }
        if dirFD != AT_FDCWD {
            var parent = stat()
            if fstat(dirFD, &parent) == 0 && parent.st_dev != st.st_dev {
                throw IntermodalError(.invalidState, "refusing to remove \(label): another file system is mounted there")
            }
        }
        var fd = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw .system("cannot open directory \(label)")
        }
        defer { if fd >= 0 { close(fd) } }
        let top = FilePath(label)
        let device = st.st_dev
        var stack = [Level(device: st.st_dev, inode: st.st_ino, name: "", pending: try names(fd, top, []))]
        while !stack.isEmpty {
            if let name = stack[stack.count - 1].pending.popLast() {
                var entry = stat()
                guard fstatat(fd, name, &entry, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if errno == ENOENT { continue }
                    throw .system("cannot examine \(describe(top, stack, name))")
                }
                guard (entry.st_mode & S_IFMT) == S_IFDIR else {
                    guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else {
                        throw .system("cannot remove \(describe(top, stack, name))")
                    }
                    continue
                }
                guard entry.st_dev == device else {
                    throw IntermodalError(
                        .invalidState, "refusing to remove \(describe(top, stack, name)): another file system is mounted there")
                }
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    if errno == ENOENT { continue }
                    throw .system("cannot open directory \(describe(top, stack, name))")
                }
                close(fd)
                fd = child
                stack.append(Level(device: entry.st_dev, inode: entry.st_ino, name: name, pending: []))
                stack[stack.count - 1].pending = try names(fd, top, stack)
                continue
            }
            // This directory is empty now: climb to its parent and remove it there.
            let done = stack.removeLast()
            guard let parent = stack.last else { break }
            let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard up >= 0 else { throw .system("cannot open the parent of \(describe(top, stack, done.name))") }
            var upStat = stat()
            guard fstat(up, &upStat) == 0, upStat.st_dev == parent.device, upStat.st_ino == parent.inode else {
                close(up)
                throw IntermodalError(
                    .invalidState, "\(describe(top, stack, done.name)) was moved while it was being removed")
            }
            close(fd)
            fd = up
            guard unlinkat(fd, done.name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw .system("cannot remove \(describe(top, stack, done.name))")
            }
        }
        close(fd)
        fd = -1
        guard unlinkat(dirFD, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw .system("cannot remove \(label)") }
    }

    private static func names(_ fd: CInt, _ top: FilePath, _ stack: [Level]) throws(IntermodalError) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw .system("cannot list \(describe(top, stack, nil))")
        }
        defer { closedir(dir) }
        return FileSystem.entryNames(dir)
    }

    /// A readable name for an entry deep in the tree: the top, the depth, the last components.
    private static func describe(_ top: FilePath, _ stack: [Level], _ name: String?) -> String {
        var components = stack.dropFirst().map(\.name)
        if let name { components.append(name) }
        guard components.count > 8 else { return ([top.string] + components).joined(separator: "/") }
        return "\(top.string)/…(\(components.count - 4) levels)…/" + components.suffix(4).joined(separator: "/")
    }
}
