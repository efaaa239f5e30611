import IntermodalCore
#if canImport(Glibc)
import Glibc
#endif

/// The directory the last tar entry was written in, kept open so that the next entry's directory
/// is reached from it in as many steps as the two paths differ, not from the root every time.
///
/// Why: an archive lists a tree in order, each entry next to or one level below the last, so a
/// walk from the root per entry costs O(depth) opens each, O(depth²) for a deep tree (10,000
/// levels: 50 million `openat`). Only plain directories are crossed this way; a symbolic link on
/// the way, or a parent that is not the one recorded when it was entered (climbing through `..`
/// out of a directory reached through a link), falls back to ``RootedDirectory/openDirectory(_:create:)``,
/// which resolves links inside the root. So the answer is always what that resolution gives.
final class DirectoryCursor {
    private let rooted: RootedDirectory
    private var fd: CInt = -1
    private var components: [String] = []
    /// Device and inode of the directory at each depth of `components` (index 0: the root); nil
    /// where it was reached through a symbolic link (its `..` is not the previous level).
    private var identities: [Identity?] = []

    private struct Identity: Equatable {
        var device: dev_t
        var inode: ino_t
    }

    init(_ rooted: RootedDirectory) { self.rooted = rooted }

    deinit { if fd >= 0 { close(fd) } }

    /// The directory at `target` (relative to the root), created (mode 0755) when missing with
    /// `create`. The descriptor stays owned by the cursor: valid until the next call.
    func open(_ target: [String], create: Bool) throws(IntermodalError) -> CInt {
        if fd >= 0, target == components { return fd }
        if fd >= 0, let moved = try move(to: target, create: create) { return moved }
        return try fromRoot(target, create: create)
    }

    /// Forgets the current directory (an entry removed or replaced something on the way).
    func invalidate() {
        if fd >= 0 { close(fd) }
        fd = -1
        components = []
        identities = []
    }

    private func fromRoot(_ target: [String], create: Bool) throws(IntermodalError) -> CInt {
        invalidate()
        let start = dup(rooted.rootFD)
        guard start >= 0 else { throw .system("cannot duplicate a directory descriptor") }
        fd = start
        identities = [Self.identity(start)]
        if let reached = try descend(target[...], create: create) { return reached }
        // A link on the way: the rooted resolution, whose levels are not known.
        invalidate()
        fd = try rooted.openDirectory(target, create: create)
        components = target
        identities = Array(repeating: nil, count: target.count + 1)
        return fd
    }

    /// From the current directory: up to the common ancestor, then down. Nil when that meets a
    /// symbolic link or a parent that is not the recorded one.
    private func move(to target: [String], create: Bool) throws(IntermodalError) -> CInt? {
        var common = 0
        while common < components.count, common < target.count, components[common] == target[common] { common += 1 }
        while components.count > common {
            guard let parentIdentity = identities[components.count - 1], identities[components.count] != nil else { return nil }
            let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard up >= 0 else { return nil }
            guard Self.identity(up) == parentIdentity else {
                close(up)
                return nil
            }
            close(fd)
            fd = up
            components.removeLast()
            identities.removeLast()
        }
        return try descend(target[common...], create: create)
    }

    /// Opens each of `rest` below the current directory as a plain directory (no links followed).
    private func descend(_ rest: ArraySlice<String>, create: Bool) throws(IntermodalError) -> CInt? {
        for c in rest {
            var next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, c, 0o755) != 0 && errno != EEXIST { return nil }
                next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            }
            // ELOOP/ENOTDIR (a link or a file), ENOENT without create: the rooted resolution decides.
            guard next >= 0 else { return nil }
            close(fd)
            fd = next
            components.append(c)
            identities.append(Self.identity(next))
        }
        return fd
    }

    private static func identity(_ fd: CInt) -> Identity? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Identity(device: st.st_dev, inode: st.st_ino)
    }
}
