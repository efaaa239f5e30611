import CZlib
import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Writes a directory tree as a gzip layer blob: entries in byte order of their paths, numeric
/// owners only, hard links kept, so the same tree always gives the same digest.
struct LayerBuilder {
    /// How the tree is read.
    enum Source {
        /// An ordinary root file system (bootstrap, import of a tree).
        case tree
        /// An overlayfs upper directory: char 0:0 devices become `.wh.NAME`, opaque directories
        /// (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry.
        case overlayUpper
    }

    /// The written blob before it enters the store.
    struct Output {
        var file: FilePath
        var digest: String
        var size: Int64
        var diffID: String
        var uncompressedSize: Int64
    }

    var source: Source = .tree
    /// Modification times later than this are clamped to it (like `SOURCE_DATE_EPOCH`), for
    /// reproducible layers from freshly made trees.
    var mtimeClamp: Int?
    var compressionLevel: Int32 = Z_DEFAULT_COMPRESSION
    /// False for a plain tar (an archive of a layout for `save`).
    var compress = true

    /// Archives `directory` into a new gzip file at `output`.
    func build(_ directory: FilePath, output: FilePath) throws(IntermodalError) -> Output {
        let outFD = open(output.string, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard outFD >= 0 else { throw .system("cannot create \(output)") }
        var closed = false
        defer { if !closed { close(outFD) } }
        var compressed = StreamingDigest()
        var plain = StreamingDigest()
        let gzip = try GzipCompressor(level: compressionLevel) { chunk throws(IntermodalError) in
            compressed.update(chunk)
            var offset = 0
            while offset < chunk.count {
                let n = write(outFD, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 { if errno == EINTR { continue }; throw .system("cannot write \(output)") }
                offset += n
            }
        }
        let compress = self.compress
        let writer = TarWriter { chunk throws(IntermodalError) in
            plain.update(chunk)
            if compress {
                try gzip.write(chunk)
            } else {
                compressed.update(chunk)
                var offset = 0
                while offset < chunk.count {
                    let n = write(outFD, chunk.baseAddress! + offset, chunk.count - offset)
                    if n < 0 { if errno == EINTR { continue }; throw .system("cannot write \(output)") }
                    offset += n
                }
            }
        }
        let rootFD = open(directory.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .system("cannot open directory \(directory)") }
        defer { close(rootFD) }
        var links: [HardLinkKey: String] = [:]
        try walk(rootFD, writer: writer, links: &links)
        try writer.finish()
        if compress { try gzip.finish() }
        guard fsync(outFD) == 0 else { throw .system("cannot sync \(output)") }
        closed = true
        close(outFD)
        return Output(file: output, digest: compressed.finalize(), size: compressed.count,
                      diffID: plain.finalize(), uncompressedSize: plain.count)
    }

    private struct HardLinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Archives the tree below `rootFD` in depth-first byte order (``TreeWalk``: at any depth).
    private func walk(_ rootFD: CInt, writer: TarWriter, links: inout [HardLinkKey: String]) throws(IntermodalError) {
        try TreeWalk.walk(rootFD, label: "", order: Self.byteOrder) { (e: TreeWalk.Entry) throws(IntermodalError) -> CInt? in
            try entry(e.directory, e.name, path: e.path, status: e.status, writer: writer, links: &links)
        }
    }

    /// Byte order, not locale order: the same tree always gives the same archive.
    private static func byteOrder(_ names: [String]) -> [String] {
        names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Writes the entry `name` of the directory `dirFD`; for a directory, returns it opened (the
    /// caller archives its contents next and closes it).
    private func entry(_ dirFD: CInt, _ name: String, path: String, status st: stat, writer: TarWriter, links: inout [HardLinkKey: String]) throws(IntermodalError) -> CInt? {
        try Interruption.check("while archiving \(path)")
        let prefix = String(path.dropLast(name.count))
        let type = st.st_mode & S_IFMT
        var mtime = st.st_mtim.tv_sec
        if let clamp = mtimeClamp, mtime > clamp { mtime = clamp }
        var entry = TarEntry(
            path: path, kind: .regular, mode: UInt32(st.st_mode & 0o7777),
            uid: Int(st.st_uid), gid: Int(st.st_gid), mtime: mtime)
        switch type {
        case S_IFDIR:
            let fd = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            guard fd >= 0 else { throw .system("cannot open directory \(path)") }
            var handedOver = false
            defer { if !handedOver { close(fd) } }
            entry.kind = .directory
            entry.path = path + "/"
            var opaque = false
            entry.xattrs = try readXattrs(fd, path: path, opaque: &opaque)
            try writer.writeHeader(entry)
            if opaque {
                try writer.writeHeader(TarEntry(
                    path: path + "/" + LayerUnpacker.opaqueWhiteout, kind: .regular, mode: 0o644, mtime: mtime))
            }
            handedOver = true
            return fd
        case S_IFREG:
            let key = HardLinkKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if st.st_nlink > 1, let first = links[key] {
                entry.kind = .hardLink
                entry.linkName = first
                try writer.writeHeader(entry)
                return nil
            }
            if st.st_nlink > 1 { links[key] = path }
            let fd = openat(dirFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)
            guard fd >= 0 else { throw .system("cannot open \(path)") }
            defer { close(fd) }
            var opaque = false
            entry.xattrs = try readXattrs(fd, path: path, opaque: &opaque)
            entry.size = Int64(st.st_size)
            try writer.writeHeader(entry)
            try copyData(fd, size: entry.size, path: path, writer: writer)
            try writer.finishData(size: entry.size)
        case S_IFLNK:
            entry.kind = .symbolicLink
            entry.linkName = try readLink(dirFD, name)
            try writer.writeHeader(entry)
        case S_IFCHR, S_IFBLK:
            let major = czlib_major(UInt64(st.st_rdev)), minor = czlib_minor(UInt64(st.st_rdev))
            if source == .overlayUpper && type == S_IFCHR && major == 0 && minor == 0 {
                try writer.writeHeader(TarEntry(
                    path: prefix + LayerUnpacker.whiteoutPrefix + name, kind: .regular, mode: 0o644, mtime: mtime))
                return nil
            }
            entry.kind = type == S_IFCHR ? .characterDevice : .blockDevice
            entry.deviceMajor = major
            entry.deviceMinor = minor
            try writer.writeHeader(entry)
        case S_IFIFO:
            entry.kind = .fifo
            try writer.writeHeader(entry)
        default:
            // Sockets are not archivable (tar and Docker skip them too).
            return nil
        }
        return nil
    }

    private func copyData(_ fd: CInt, size: Int64, path: String, writer: TarWriter) throws(IntermodalError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var left = size
        while left > 0 {
            try Interruption.check("while archiving \(path)")
            let n = read(fd, buffer.baseAddress, Int(min(Int64(buffer.count), left)))
            if n < 0 { if errno == EINTR { continue }; throw .system("cannot read \(path)") }
            guard n > 0 else { throw IntermodalError(.invalidState, "\(path) shrank while it was archived") }
            try writer.writeData(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= Int64(n)
        }
    }

    private func readLink(_ dirFD: CInt, _ name: String) throws(IntermodalError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(dirFD, name, &buffer, 4096)
        guard n >= 0 else { throw .system("cannot read link \(name)") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `security.*` and `user.*` attributes (file capabilities survive); overlayfs' own
    /// `trusted.overlay.*` are not content and are left out, but report opacity.
    private func readXattrs(_ fd: CInt, path: String, opaque: inout Bool) throws(IntermodalError) -> [String: [UInt8]] {
        let size = flistxattr(fd, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let got = flistxattr(fd, &names, size)
        guard got > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for raw in names[0..<got].split(separator: 0) {
            let key = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let keep = key.hasPrefix("user.") || key.hasPrefix("security.capability")
            let isOpaque = key == "trusted.overlay.opaque"
            if source == .overlayUpper && (key == "trusted.overlay.redirect" || key == "trusted.overlay.metacopy") {
                // A renamed directory or a metadata-only copy-up: the upper directory alone does not
                // hold the content, so no correct layer can be made from it.
                throw IntermodalError(
                    .unsupported,
                    "\(path) in the overlay upper directory carries \(key): mount overlayfs with redirect_dir=off,metacopy=off to commit it")
            }
            guard keep || isOpaque else { continue }
            let valueSize = fgetxattr(fd, key, nil, 0)
            guard valueSize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: valueSize)
            let n = value.withUnsafeMutableBytes { fgetxattr(fd, key, $0.baseAddress, valueSize) }
            guard n >= 0 else { continue }
            if isOpaque {
                if source == .overlayUpper && value.prefix(n) == [UInt8(ascii: "y")] { opaque = true }
            } else {
                result[key] = Array(value.prefix(n))
            }
        }
        return result
    }
}
