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
    func copy(_ source: FilePath, relative: String, to destination: String) throws(IntermodalError) {
        var st = stat()
        guard lstat(source.string, &st) == 0 else { throw .system("cannot stat \(source)") }
        let target = try ScopedPath.resolve(destination, in: rootfs)
        try FileSystem.createDirectory(target.removingLastComponent())
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            var existing = stat()
            if lstat(target.string, &existing) == 0 && (existing.st_mode & S_IFMT) != S_IFDIR { unlink(target.string) }
            if !FileSystem.isDirectory(target) {
                guard mkdir(target.string, st.st_mode & 0o7777) == 0 || errno == EEXIST else {
                    throw .system("cannot create directory \(destination) in the image")
                }
            }
            chmod(target.string, st.st_mode & 0o7777)
            own(target, st)
            for name in try FileSystem.list(source) {
                let childRelative = relative.isEmpty ? name : "\(relative)/\(name)"
                guard include(childRelative) else { continue }
                try copy(source.appending(name), relative: childRelative, to: destination + "/" + name)
            }
        case S_IFLNK:
            try removeExisting(target)
            let link = try BuildContext.linkTarget(source)
            guard symlink(link, target.string) == 0 else { throw .system("cannot create link \(destination) in the image") }
            own(target, st)
        case S_IFREG:
            try removeExisting(target)
            try copyFile(source, to: target, mode: st.st_mode & 0o7777)
            own(target, st)
        default:
            throw IntermodalError(.unsupported, "cannot copy \(source): only files, directories and symlinks can be copied")
        }
    }

    private func removeExisting(_ target: FilePath) throws(IntermodalError) {
        var st = stat()
        guard lstat(target.string, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try FileSystem.removeTree(target)
        } else if unlink(target.string) != 0 {
            throw .system("cannot replace \(target)")
        }
    }

    private func own(_ target: FilePath, _ source: stat) {
        switch ownership {
        case .fixed(let uid, let gid): lchown(target.string, uid, gid)
        case .preserve: lchown(target.string, source.st_uid, source.st_gid)
        }
    }

    private func copyFile(_ source: FilePath, to target: FilePath, mode: mode_t) throws(IntermodalError) {
        let input = open(source.string, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .system("cannot open \(source)") }
        defer { close(input) }
        let output = open(target.string, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard output >= 0 else { throw .system("cannot create \(target)") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .system("cannot read \(source)") }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, n - offset) }
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw .system("cannot write \(target)") }
                offset += w
            }
        }
        fchmod(output, mode)
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
