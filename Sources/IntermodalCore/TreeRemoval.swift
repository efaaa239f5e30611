#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// `rm -rf` of a directory tree of any depth the kernel allows (``FileSystem/removeTree(_:)``,
/// ``FileSystem/removeEntry(_:_:label:)``), through ``TreeWalk``: no recursion, no long paths,
/// one directory descriptor at a time (a tree 3,000 levels deep has paths longer than
/// `PATH_MAX`, and at 10,000 levels one stack frame per level overflows a thread's stack).
enum TreeRemoval {
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
        let fd = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw .system("cannot open directory \(label)")
        }
        let device = st.st_dev
        do {
            defer { close(fd) }
            try TreeWalk.walk(fd, label: label, skipVanished: true, visit: { (e: TreeWalk.Entry) throws(IntermodalError) -> CInt? in
                guard e.isDirectory else {
                    guard unlinkat(e.directory, e.name, 0) == 0 || errno == ENOENT else {
                        throw .system("cannot remove \(TreeWalk.describe(label, e.path))")
                    }
                    return nil
                }
                guard e.status.st_dev == device else {
                    throw IntermodalError(
                        .invalidState, "refusing to remove \(TreeWalk.describe(label, e.path)): another file system is mounted there")
                }
                let child = openat(e.directory, e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    if errno == ENOENT { return nil }
                    throw .system("cannot open directory \(TreeWalk.describe(label, e.path))")
                }
                return child
            }, leave: { (e: TreeWalk.Entry) throws(IntermodalError) in
                // Empty now, and its parent open again: removed there.
                guard unlinkat(e.directory, e.name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                    throw .system("cannot remove \(TreeWalk.describe(label, e.path))")
                }
            })
        }
        guard unlinkat(dirFD, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw .system("cannot remove \(label)") }
    }
}
