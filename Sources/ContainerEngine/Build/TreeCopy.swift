#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Copies files from the host into a container's root file system for `COPY` and `ADD`.
///
/// Every destination path is resolved inside the root (``ScopedPath``), so a symlink in the image
/// can never redirect a write to the host.
struct TreeCopy {
    enum Ownership {
        /// `COPY` default (root) or `--chown`.
        case fixed(uid: UInt32, gid: UInt32)
        /// Keep the source's owner (archives extracted by `ADD`).
        case preserve
    }

    let rootfs: FilePath
    let ownership: Ownership
    /// Decides whether a source path below a copied directory is included (`.dockerignore`).
    var include: (String) -> Bool = { _ in true }

    /// Copies `source` to the container path `destination` (the item's final path).
    /// Directories are merged into an existing directory; `relative` is the source's context path.
    /// A directory is copied at any depth (``TreeWalk`` below it, and a destination followed the
    /// same way, relative to the directory it is in).
    func copy(_ source: FilePath, relative: String, to destination: String) throws(IntermodalError) {
        var st = stat()
        guard lstat(source.string, &st) == 0 else { throw .system("cannot stat \(source)") }
        let target = try ScopedPath.resolve(destination, in: rootfs)
        let sourceParent = try Self.openDirectory(source.removingLastComponent(), label: source.string)
        defer { close(sourceParent) }
        let top = TreeWalk.Entry(directory: sourceParent, name: source.lastComponent?.string ?? ".", path: "", status: st)
        let into: Destination
        if target == rootfs {
            // `COPY dir /`: the root itself, which has no name in a directory inside the root.
            guard top.isDirectory else { throw IntermodalError(.invalidArgument, "cannot replace the image's root with \(source)") }
            let root = try Self.openDirectory(rootfs, label: "/")
            fchmod(root, st.st_mode & 0o7777)
            own(root, st, close: false)
            into = Destination(fd: root)
        } else {
            try FileSystem.createDirectory(target.removingLastComponent())
            let parent = try Self.openDirectory(target.removingLastComponent(), label: destination)
            defer { close(parent) }
            guard let child = try place(top, in: parent, as: target.lastComponent!.string, label: destination) else { return }
            into = Destination(fd: child)
        }
        defer { into.close() }
        let sourceFD = try TreeWalk.openDirectory(top, label: source.string)
        defer { close(sourceFD) }
        try TreeWalk.walk(sourceFD, label: source.string, order: { $0.sorted() }, visit: { (e: TreeWalk.Entry) throws(IntermodalError) -> CInt? in
            guard include(relative.isEmpty ? e.path : "\(relative)/\(e.path)") else { return nil }
            let path = destination + "/" + e.path
            var existing = stat()
            if fstatat(into.fd, e.name, &existing, AT_SYMLINK_NOFOLLOW) == 0 && (existing.st_mode & S_IFMT) == S_IFLNK {
                // A link in the image: followed inside the root, as the container would see it.
                let resolved = try ScopedPath.resolve(path, in: rootfs)
                guard resolved != rootfs else {
                    guard e.isDirectory else { throw IntermodalError(.invalidArgument, "cannot replace the image's root with \(path)") }
                    into.enter(try Self.openDirectory(rootfs, label: "/"), throughLink: true)
                    return try TreeWalk.openDirectory(e, label: source.string)
                }
                try FileSystem.createDirectory(resolved.removingLastComponent())
                let linkParent = try Self.openDirectory(resolved.removingLastComponent(), label: path)
                defer { Glibc.close(linkParent) }
                guard let child = try place(e, in: linkParent, as: resolved.lastComponent!.string, label: path) else { return nil }
                into.enter(child, throughLink: true)
            } else {
                guard let child = try place(e, in: into.fd, as: e.name, label: path) else { return nil }
                into.enter(child, throughLink: false)
            }
            return try TreeWalk.openDirectory(e, label: source.string)
        }, leave: { (_: TreeWalk.Entry) throws(IntermodalError) in
            try into.climb(label: destination)
        })
    }

    /// The destination directory matching the walk's: one descriptor, climbing back through `..`
    /// (checked against the directory it came from) except where it was entered through a link.
    private final class Destination {
        var fd: CInt
        private var levels: [(device: dev_t, inode: ino_t, saved: CInt?)] = []

        init(fd: CInt) { self.fd = fd }

        /// `child` (owned from now) becomes the current directory.
        func enter(_ child: CInt, throughLink: Bool) {
            var st = stat()
            fstat(fd, &st)
            if throughLink {
                levels.append((st.st_dev, st.st_ino, fd))
            } else {
                levels.append((st.st_dev, st.st_ino, nil))
                Glibc.close(fd)
            }
            fd = child
        }

        /// Back to the directory before the last ``enter(_:throughLink:)``.
        func climb(label: String) throws(IntermodalError) {
            let level = levels.removeLast()
            if let saved = level.saved {
                Glibc.close(fd)
                fd = saved
                return
            }
            let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            var st = stat()
            guard up >= 0, fstat(up, &st) == 0, st.st_dev == level.device, st.st_ino == level.inode else {
                if up >= 0 { Glibc.close(up) }
                throw IntermodalError(.invalidState, "\(label) in the image was moved while it was copied to")
            }
            Glibc.close(fd)
            fd = up
        }

        func close() {
            Glibc.close(fd)
            for level in levels { if let saved = level.saved { Glibc.close(saved) } }
        }
    }

    /// Makes `name` in the directory `dirFD` what the source entry is (its contents, mode and
    /// owner); for a directory (merged into one that exists) returns it opened.
    private func place(_ e: TreeWalk.Entry, in dirFD: CInt, as name: String, label: String) throws(IntermodalError) -> CInt? {
        let mode = e.status.st_mode & 0o7777
        var existing = stat()
        let exists = fstatat(dirFD, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        let existingIsDirectory = exists && (existing.st_mode & S_IFMT) == S_IFDIR
        switch e.status.st_mode & S_IFMT {
        case S_IFDIR:
            if exists && !existingIsDirectory && unlinkat(dirFD, name, 0) != 0 { throw .system("cannot replace \(label) in the image") }
            if !existingIsDirectory {
                guard mkdirat(dirFD, name, mode) == 0 || errno == EEXIST else {
                    throw .system("cannot create directory \(label) in the image")
                }
            }
            let fd = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw .system("cannot open directory \(label) in the image") }
            fchmod(fd, mode)
            own(fd, e.status, close: false)
            return fd
        case S_IFLNK:
            if exists { try removeExisting(dirFD, name, isDirectory: existingIsDirectory, label: label) }
            let link = try Self.readLink(e)
            guard symlinkat(link, dirFD, name) == 0 else { throw .system("cannot create link \(label) in the image") }
            switch ownership {
            case .fixed(let uid, let gid): fchownat(dirFD, name, uid, gid, AT_SYMLINK_NOFOLLOW)
            case .preserve: fchownat(dirFD, name, e.status.st_uid, e.status.st_gid, AT_SYMLINK_NOFOLLOW)
            }
        case S_IFREG:
            if exists { try removeExisting(dirFD, name, isDirectory: existingIsDirectory, label: label) }
            let input = openat(e.directory, e.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard input >= 0 else { throw .system("cannot open \(e.path.isEmpty ? e.name : e.path)") }
            defer { Glibc.close(input) }
            let output = openat(dirFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard output >= 0 else { throw .system("cannot create \(label) in the image") }
            defer { Glibc.close(output) }
            try copyData(input, to: output, label: label)
            fchmod(output, mode)
            own(output, e.status, close: false)
        default:
            throw IntermodalError(.unsupported, "cannot copy \(e.path.isEmpty ? e.name : e.path): only files, directories and symlinks can be copied")
        }
        return nil
    }

    private func removeExisting(_ dirFD: CInt, _ name: String, isDirectory: Bool, label: String) throws(IntermodalError) {
        if isDirectory {
            try FileSystem.removeEntry(dirFD, name, label: label)
        } else if unlinkat(dirFD, name, 0) != 0 && errno != ENOENT {
            throw .system("cannot replace \(label) in the image")
        }
    }

    private func own(_ fd: CInt, _ source: stat, close: Bool) {
        switch ownership {
        case .fixed(let uid, let gid): fchown(fd, uid, gid)
        case .preserve: fchown(fd, source.st_uid, source.st_gid)
        }
        if close { Glibc.close(fd) }
    }

    private static func openDirectory(_ path: FilePath, label: String) throws(IntermodalError) -> CInt {
        let fd = open(path.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open directory \(label)") }
        return fd
    }

    private static func readLink(_ e: TreeWalk.Entry) throws(IntermodalError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(e.directory, e.name, &buffer, buffer.count - 1)
        guard n >= 0 else { throw .system("cannot read link \(e.path)") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func copyData(_ input: CInt, to output: CInt, label: String) throws(IntermodalError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .system("cannot read the source of \(label)") }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, n - offset) }
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw .system("cannot write \(label) in the image") }
                offset += w
            }
        }
    }

    /// True when the file starts like a tar archive (plain, gzip, bzip2, xz or zstd): what `ADD` extracts.
    static func looksLikeArchive(_ path: FilePath) -> Bool {
        guard let head = try? FileSystem.readPrefix(path, count: 512) else {
            // Shorter than a tar header: only a compressed archive can be that small.
            guard let small = try? FileSystem.readBytes(path), small.count >= 4 else { return false }
            return isCompressed(small)
        }
        if isCompressed(head) { return true }
        return Array(head[257..<262]) == Array("ustar".utf8)
    }

    private static func isCompressed(_ b: [UInt8]) -> Bool {
        (b[0] == 0x1f && b[1] == 0x8b) || (b[0] == 0x42 && b[1] == 0x5a && b[2] == 0x68)
            || (b[0] == 0xfd && b[1] == 0x37 && b[2] == 0x7a && b[3] == 0x58)
            || (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    }
}
