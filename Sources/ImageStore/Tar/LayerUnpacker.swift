import CZlib
import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Extracts a layer tar into a directory, safely: entries with `..` or absolute paths, and links
/// whose targets climb out of the root, are refused with an error naming the layer and the entry;
/// every write goes through ``RootedDirectory`` so planted symlinks cannot redirect it.
struct LayerUnpacker {
    /// What to do with OCI whiteout entries (`.wh.NAME`, `.wh..wh..opq`).
    enum WhiteoutMode {
        /// Keep the layer separate for overlayfs: whiteouts become char 0:0 devices and opaque
        /// directories get `trusted.overlay.opaque=y`.
        case overlay
        /// Apply the layer onto the tree below it: whiteouts delete what lower layers made.
        case apply
    }

    static let whiteoutPrefix = ".wh."
    static let opaqueWhiteout = ".wh..wh..opq"

    let destination: FilePath
    let mode: WhiteoutMode
    /// Names the layer in errors.
    let layerName: String

    /// Statistics of one unpack.
    struct Result {
        var entries = 0
        var bytes: Int64 = 0
        var digest = ""
        var compressedSize: Int64 = 0
    }

    /// Unpacks the archive at `input`; returns the digest of the raw stream for the caller to check.
    func unpack(_ input: ArchiveInput) throws(IntermodalError) -> Result {
        let rooted = try RootedDirectory(destination)
        let reader = TarReader(input: input)
        let privileged = geteuid() == 0
        var result = Result()
        var directoryTimes: [(path: [String], mtime: Int)] = []
        var writtenThisLayer = Set<String>()
        // Entries come in tree order: each parent is reached from the last one, not from the root.
        let cursor = DirectoryCursor(rooted)
        while let entry = try reader.next() {
            result.entries += 1
            let components = try Self.components(of: entry.path, layer: layerName, field: "path")
            guard let name = components.last else {
                // "./" itself: the root directory's own metadata.
                if entry.kind == .directory {
                    if privileged { fchown(rooted.rootFD, uid_t(entry.uid), gid_t(entry.gid)) }
                    fchmod(rooted.rootFD, mode_t(entry.mode))
                }
                continue
            }
            let parentComponents = Array(components.dropLast())
            let parent = try cursor.open(parentComponents, create: true)
            let joined = components.joined(separator: "/")

            if name.hasPrefix(Self.whiteoutPrefix) {
                try whiteout(name: name, parent: parent, parentPath: parentComponents, rooted: rooted, keep: writtenThisLayer)
                continue
            }
            if mode == .apply { writtenThisLayer.insert(joined) }

            // A directory over an existing directory is merged; anything else replaces what is there.
            var existing = stat()
            let exists = fstatat(parent, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
            if exists && !(entry.kind == .directory && (existing.st_mode & S_IFMT) == S_IFDIR) {
                try RootedDirectory.removeEntry(parent, name)
            }

            switch entry.kind {
            case .directory:
                if !(exists && (existing.st_mode & S_IFMT) == S_IFDIR) {
                    guard mkdirat(parent, name, 0o700) == 0 else { throw .system("\(layerName): cannot create directory '\(joined)'") }
                }
                let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                guard fd >= 0 else { throw .system("\(layerName): cannot open directory '\(joined)'") }
                defer { close(fd) }
                if privileged { fchown(fd, uid_t(entry.uid), gid_t(entry.gid)) }
                fchmod(fd, mode_t(entry.mode))
                try setXattrs(fd, entry, joined)
                directoryTimes.append((components, entry.mtime))
            case .regular:
                let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw .system("\(layerName): cannot create '\(joined)'") }
                defer { close(fd) }
                var written: Int64 = 0
                try reader.readData { chunk throws(IntermodalError) in
                    var offset = 0
                    while offset < chunk.count {
                        let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw .system("\(layerName): cannot write '\(joined)'")
                        }
                        offset += n
                    }
                    written += Int64(chunk.count)
                }
                result.bytes += written
                if privileged { fchown(fd, uid_t(entry.uid), gid_t(entry.gid)) }
                // After chown, which clears setuid/setgid.
                fchmod(fd, mode_t(entry.mode))
                try setXattrs(fd, entry, joined)
                var times = [timespec(tv_sec: entry.mtime, tv_nsec: 0), timespec(tv_sec: entry.mtime, tv_nsec: 0)]
                futimens(fd, &times)
            case .symbolicLink:
                try Self.checkSymlinkTarget(entry.linkName, at: parentComponents, entry: joined, layer: layerName)
                guard symlinkat(entry.linkName, parent, name) == 0 else { throw .system("\(layerName): cannot create symlink '\(joined)'") }
                if privileged { fchownat(parent, name, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) }
                var times = [timespec(tv_sec: entry.mtime, tv_nsec: 0), timespec(tv_sec: entry.mtime, tv_nsec: 0)]
                utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
            case .hardLink:
                let target = try Self.components(of: entry.linkName, layer: layerName, field: "hard link target of '\(joined)'")
                guard let targetName = target.last else {
                    throw IntermodalError(.invalidArgument, "\(layerName): hard link '\(joined)' points at the root")
                }
                let targetParent = try rooted.openDirectory(Array(target.dropLast()), create: false)
                defer { close(targetParent) }
                var st = stat()
                guard fstatat(targetParent, targetName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw IntermodalError(.invalidArgument, "\(layerName): hard link '\(joined)' points at '\(entry.linkName)', which is not in the layer")
                }
                guard (st.st_mode & S_IFMT) != S_IFDIR else {
                    throw IntermodalError(.invalidArgument, "\(layerName): hard link '\(joined)' points at a directory")
                }
                guard linkat(targetParent, targetName, parent, name, 0) == 0 else {
                    throw .system("\(layerName): cannot create hard link '\(joined)'")
                }
            case .characterDevice, .blockDevice, .fifo:
                let type: mode_t = entry.kind == .fifo ? S_IFIFO : (entry.kind == .characterDevice ? S_IFCHR : S_IFBLK)
                if entry.kind != .fifo && !privileged {
                    // Device nodes need CAP_MKNOD: left out when unprivileged, like rootless tools do.
                    continue
                }
                let dev = dev_t(czlib_makedev(entry.deviceMajor, entry.deviceMinor))
                guard mknodat(parent, name, type | mode_t(entry.mode), dev) == 0 else {
                    throw .system("\(layerName): cannot create device '\(joined)'")
                }
                if privileged { fchownat(parent, name, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) }
            }
        }
        // Directory times last: creating their children changed them.
        for (path, mtime) in directoryTimes.reversed() {
            guard let fd = try? cursor.open(path, create: false) else { continue }
            var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
            futimens(fd, &times)
        }
        let (digest, size) = try input.finish()
        result.digest = digest
        result.compressedSize = size
        return result
    }

    private func whiteout(name: String, parent: CInt, parentPath: [String], rooted: RootedDirectory, keep: Set<String>) throws(IntermodalError) {
        let where_ = (parentPath + [name]).joined(separator: "/")
        if name == Self.opaqueWhiteout {
            switch mode {
            case .overlay:
                guard fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) == 0 else {
                    throw .system("\(layerName): cannot mark '\(parentPath.joined(separator: "/"))' opaque (trusted.overlay.opaque)")
                }
            case .apply:
                try removeLower(parent, path: parentPath, keep: keep)
            }
            return
        }
        let target = String(name.dropFirst(Self.whiteoutPrefix.count))
        guard !target.isEmpty, target != ".", target != ".." else {
            throw IntermodalError(.invalidArgument, "\(layerName): invalid whiteout '\(where_)'")
        }
        switch mode {
        case .overlay:
            try RootedDirectory.removeEntry(parent, target)
            guard geteuid() == 0 else { return }
            guard mknodat(parent, target, S_IFCHR, 0) == 0 else {
                throw .system("\(layerName): cannot create whiteout for '\(where_)'")
            }
        case .apply:
            try RootedDirectory.removeEntry(parent, target)
        }
    }

    /// Opaque directory in apply mode: remove everything under it that this layer did not write
    /// (``TreeWalk``: at any depth).
    private func removeLower(_ dirFD: CInt, path: [String], keep: Set<String>) throws(IntermodalError) {
        let prefix = path.joined(separator: "/")
        try TreeWalk.walk(dirFD, label: prefix, skipVanished: true) { (e: TreeWalk.Entry) throws(IntermodalError) -> CInt? in
            guard keep.contains(prefix.isEmpty ? e.path : prefix + "/" + e.path) else {
                try RootedDirectory.removeEntry(e.directory, e.name)
                return nil
            }
            return e.isDirectory ? try TreeWalk.openDirectory(e, label: prefix) : nil
        }
    }

    private func setXattrs(_ fd: CInt, _ entry: TarEntry, _ path: String) throws(IntermodalError) {
        for (key, value) in entry.xattrs {
            // trusted.* would let a layer forge overlayfs metadata; only security.* and user.* are kept.
            guard key.hasPrefix("user.") || key.hasPrefix("security.") else { continue }
            let rc = value.withUnsafeBytes { fsetxattr(fd, key, $0.baseAddress, $0.count, 0) }
            if rc != 0 && errno != ENOTSUP && errno != EPERM {
                throw .system("\(layerName): cannot set xattr \(key) on '\(path)'")
            }
        }
    }

    /// Splits an archive path into components, refusing absolute paths and `..`.
    static func components(of path: String, layer: String, field: String) throws(IntermodalError) -> [String] {
        if path.hasPrefix("/") {
            throw IntermodalError(.invalidArgument, "\(layer): refusing absolute \(field) '\(path)'")
        }
        var result: [String] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                throw IntermodalError(.invalidArgument, "\(layer): refusing \(field) '\(path)' (contains '..', escapes the root)")
            }
            result.append(String(c))
        }
        return result
    }

    /// A relative symlink target must stay inside the root when resolved from where the link is
    /// (absolute targets are interpreted inside the container's root, so they are fine).
    static func checkSymlinkTarget(_ target: String, at parent: [String], entry: String, layer: String) throws(IntermodalError) {
        guard !target.isEmpty else {
            throw IntermodalError(.invalidArgument, "\(layer): symlink '\(entry)' has an empty target")
        }
        if target.hasPrefix("/") { return }
        var depth = parent.count
        for c in target.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                depth -= 1
                if depth < 0 {
                    throw IntermodalError(.invalidArgument, "\(layer): refusing symlink '\(entry)' -> '\(target)' (escapes the root)")
                }
            } else {
                depth += 1
            }
        }
    }
}
