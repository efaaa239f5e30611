#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Container directories are recycled, not deleted: a removed container's directory is emptied
/// down to its skeleton (empty `rootfs/`, `upper/`, `work/`, and the bundle files the next
/// container overwrites) and kept in `<root>/containers/.spare/` for the next container.
///
/// Why: on the reference host's ext4 (mounted with `discard`, no journal) every `rmdir` waits for a
/// discard of the directory's block, 3-4 ms each while other work writes, and a `run --rm` used to
/// make and delete seven directories and a dozen files. A rename frees nothing. What is left to
/// delete per run is what the container wrote, its log, and the three directories overlayfs makes
/// in `work/`, removed side by side.
///
/// Removal is crash-safe in steps: the directory leaves the registry by one rename into
/// `.removing/<id>.<pid>` (so `ps` and `rm` no longer see it, and its name is free), is emptied there, and
/// is renamed into `.spare/` only when clean. What a crash leaves in `.removing/` is finished by
/// ``sweep()`` (run by `create` and `rm`); a spare is checked to be clean before it is used.
struct DirectoryRecycler {
    /// Clean skeletons ready for new containers.
    let spares: FilePath
    /// Directories of removed containers being emptied.
    let removing: FilePath
    /// Spares kept at most: enough for several `run`s at once; beyond it directories are deleted.
    static let capacity = 8
    /// The subdirectories every container directory has.
    static let skeleton = ["rootfs", "upper", "work"]
    /// Files every container overwrites whole before anything reads them: kept with the skeleton
    /// (content and all; never truncated to zero, which would arm ext4's replace-via-truncate
    /// allocation), because on this kind of ext4 a new inode can cost far more than reusing one:
    /// it skips every inode of its group deleted in the last minutes. The log is not among them:
    /// a container appends to it from empty.
    static let reusedFiles = ["hostname", "hosts", "resolv.conf", "config.json", "record.json", ".record.json.spare"]

    init(registryRoot: FilePath) throws(IntermodalError) {
        spares = registryRoot.appending(".spare")
        removing = registryRoot.appending(".removing")
        for dir in [spares, removing] where mkdir(dir.string, 0o700) != 0 && errno != EEXIST {
            throw .system("cannot create \(dir)")
        }
    }

    /// A clean container directory under `.spare/`, for the caller to fill and rename into place:
    /// a spare when there is one, else a new one. Under the registry lock (so no one else takes it).
    func take(id: String) throws(IntermodalError) -> FilePath {
        for name in (try? FileSystem.list(spares)) ?? [] {
            let candidate = spares.appending(name)
            if isClean(candidate) { return candidate }
            // Not as a recycled directory is left: never give a container someone else's files.
            try? ConcurrentRemoval.removeTree(candidate)
        }
        let fresh = spares.appending("new-\(id)")
        guard mkdir(fresh.string, 0o700) == 0 else { throw .system("cannot create the container directory \(fresh)") }
        for sub in Self.skeleton where mkdir(fresh.appending(sub).string, 0o755) != 0 {
            let e = errno
            try? ConcurrentRemoval.removeTree(fresh)
            throw .system("cannot create \(fresh.appending(sub))", errno: e)
        }
        return fresh
    }

    /// Moves a container's directory out of the registry; returns where it went. The overlay must
    /// be unmounted. Under the registry lock (the caller frees the name in the same section).
    func retire(_ dir: FilePath, id: String) throws(IntermodalError) -> FilePath {
        let target = removing.appending("\(id).\(getpid())")
        guard rename(dir.string, target.string) == 0 else { throw .system("cannot move \(dir) to \(target)") }
        return target
    }

    /// Empties a retired directory down to its skeleton and keeps it as a spare, or deletes it when
    /// there are enough spares.
    func recycle(_ retired: FilePath) throws(IntermodalError) {
        let spareCount = ((try? FileSystem.list(spares)) ?? []).count
        guard spareCount < Self.capacity else {
            try ConcurrentRemoval.removeTree(retired)
            return
        }
        // Never through a mount: the overlay must be gone before anything here is deleted.
        var top = stat(), sub = stat()
        guard lstat(retired.string, &top) == 0 else { throw .system("cannot examine \(retired)") }
        for name in Self.skeleton where lstat(retired.appending(name).string, &sub) == 0 && sub.st_dev != top.st_dev {
            throw IntermodalError(.invalidState, "refusing to empty \(retired): something is still mounted on \(name)")
        }
        for name in try FileSystem.list(retired) where !Self.skeleton.contains(name) {
            let path = retired.appending(name)
            if Self.reusedFiles.contains(name), lstat(path.string, &sub) == 0, (sub.st_mode & S_IFMT) == S_IFREG { continue }
            try ConcurrentRemoval.removeTree(path)
        }
        for sub in Self.skeleton {
            let path = retired.appending(sub)
            if FileSystem.isDirectory(path) { try ConcurrentRemoval.empty(path) }
        }
        let spare = spares.appending(retired.lastComponent!.string)
        guard rename(retired.string, spare.string) == 0 else { throw .system("cannot keep \(retired) as \(spare)") }
    }

    /// Finishes removals whose process died (a crash between retiring and recycling).
    func sweep() {
        guard let names = try? FileSystem.list(removing) else { return }
        for name in names {
            // `<id>.<pid>`: the removal of a live process is its own business.
            guard let dot = name.lastIndex(of: "."), let pid = Int32(name[name.index(after: dot)...]) else { continue }
            if pid == getpid() || Engine.isAlive(pid) { continue }
            try? ConcurrentRemoval.removeTree(removing.appending(name))
        }
    }

    /// True when `dir` is exactly a skeleton of empty directories (missing ones are made) and
    /// regular files of ``reusedFiles`` (which the next container overwrites before use).
    private func isClean(_ dir: FilePath) -> Bool {
        guard let names = try? FileSystem.list(dir) else { return false }
        for name in names where !Self.skeleton.contains(name) {
            var st = stat()
            guard Self.reusedFiles.contains(name), lstat(dir.appending(name).string, &st) == 0,
                  (st.st_mode & S_IFMT) == S_IFREG else { return false }
        }
        for sub in Self.skeleton {
            let path = dir.appending(sub)
            if !names.contains(sub) {
                guard mkdir(path.string, 0o755) == 0 else { return false }
                continue
            }
            guard let stream = opendir(path.string) else { return false }
            let empty = FileSystem.entryNames(stream).isEmpty
            closedir(stream)
            guard empty else { return false }
        }
        return true
    }
}
