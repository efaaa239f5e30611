#if canImport(Glibc)
import Glibc
#endif
import Crypto
import IntermodalCore
import SystemPackage

/// The directory a build copies from, seen through its `.dockerignore`.
struct BuildContext: Sendable {
    let root: FilePath
    let ignore: DockerIgnore

    init(root: FilePath) throws(IntermodalError) {
        guard FileSystem.isDirectory(root) else {
            throw IntermodalError(.notFound, "build context \(root) is not a directory")
        }
        self.root = root
        let ignoreFile = root.appending(".dockerignore")
        ignore = DockerIgnore(FileSystem.exists(ignoreFile) ? try FileSystem.readString(ignoreFile) : "")
    }

    /// The context-relative paths a `COPY`/`ADD` source names: one path, or every match of a glob.
    /// Paths outside the context and excluded paths are errors, as in Docker.
    func sources(_ source: String) throws(IntermodalError) -> [String] {
        var depth = 0
        for part in source.split(separator: "/") {
            if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
            guard depth >= 0 else { throw IntermodalError(.invalidArgument, "forbidden path outside the build context: \(source)") }
        }
        let pattern = PathPattern(source)
        if pattern.components.isEmpty { return [""] }   // `.`: the whole context
        if !pattern.isGlob {
            let clean = PathPattern.clean(source)
            let host = try hostPath(clean)
            var st = stat()
            guard lstat(host.string, &st) == 0, !ignore.excludes(clean) else {
                throw IntermodalError(.notFound, "\(source): not found in the build context or excluded by .dockerignore")
            }
            return [clean]
        }
        let matches = try walk("").filter { pattern.matches($0) }
        guard !matches.isEmpty else {
            throw IntermodalError(.notFound, "\(source): no file in the build context matches")
        }
        return matches
    }

    /// Where the context path `source` is on the host. Its directories are resolved inside the
    /// context as Docker does (a link `sec -> /etc` means the context's `etc`, `..` stops at the
    /// context's root), so no path a Dockerfile names reaches a host file outside the context; its
    /// last component is taken as it is (a link is copied as a link).
    func hostPath(_ source: String) throws(IntermodalError) -> FilePath {
        let path = FilePath(PathPattern.clean(source))
        guard let name = path.lastComponent?.string else { return root }
        return try ScopedPath.resolve(path.removingLastComponent().string, in: root).appending(name)
    }

    /// Every non-ignored path under `relative`, depth first, parents before children.
    func walk(_ relative: String) throws(IntermodalError) -> [String] {
        var result: [String] = []
        try forEachIncluded(under: relative) { (path: String, _: TreeWalk.Entry) throws(IntermodalError) in result.append(path) }
        return result
    }

    /// Calls `body` with every non-ignored entry under `relative` and its context path, depth
    /// first, parents before children, at any depth (``TreeWalk``).
    private func forEachIncluded(
        under relative: String, _ body: (String, TreeWalk.Entry) throws(IntermodalError) -> Void
    ) throws(IntermodalError) {
        let dir = try hostPath(relative)
        let fd = open(dir.string, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open directory \(dir)") }
        defer { close(fd) }
        try TreeWalk.walk(fd, label: dir.string, order: { $0.sorted() }) { (e: TreeWalk.Entry) throws(IntermodalError) -> CInt? in
            let child = relative.isEmpty ? e.path : "\(relative)/\(e.path)"
            let excluded = ignore.excludes(child)
            if excluded && !ignore.mayReinclude(below: child) { return nil }
            if !excluded { try body(child, e) }
            return e.isDirectory ? try TreeWalk.openDirectory(e, label: dir.string) : nil
        }
    }

    /// A digest of what the sources contain (paths, modes, link targets, bytes), for the layer cache.
    func contentHash(_ sources: [String]) throws(IntermodalError) -> String {
        var hasher = SHA256()
        for source in sources {
            let full = try hostPath(source)
            var st = stat()
            guard lstat(full.string, &st) == 0 else { throw .system("cannot stat \(full)") }
            hasher.update(data: Array("\(source)\0\(st.st_mode)\0".utf8))
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let fd = open(full.string, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw .system("cannot open \(full)") }
                defer { close(fd) }
                try Self.hashFile(fd, full.string, into: &hasher)
            case S_IFLNK:
                hasher.update(data: Array(try FileSystem.readLink(full).utf8))
            case S_IFDIR:
                try forEachIncluded(under: source) { (path: String, e: TreeWalk.Entry) throws(IntermodalError) in
                    hasher.update(data: Array("\(path)\0\(e.status.st_mode)\0".utf8))
                    switch e.status.st_mode & S_IFMT {
                    case S_IFREG:
                        let fd = openat(e.directory, e.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                        guard fd >= 0 else { throw .system("cannot open \(path) in the build context") }
                        defer { close(fd) }
                        try Self.hashFile(fd, path, into: &hasher)
                    case S_IFLNK:
                        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                        let n = readlinkat(e.directory, e.name, &buffer, buffer.count - 1)
                        guard n >= 0 else { throw .system("cannot read link \(path) in the build context") }
                        hasher.update(data: buffer[0..<n].map { UInt8(bitPattern: $0) })
                    default:
                        break
                    }
                }
            default:
                break
            }
        }
        return Hex.lowercase(hasher.finalize())
    }

    static func isRealDirectory(_ path: FilePath) -> Bool {
        var st = stat()
        return lstat(path.string, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func hashFile(_ fd: CInt, _ label: String, into hasher: inout SHA256) throws(IntermodalError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .system("cannot read \(label)") }
            if n == 0 { break }
            hasher.update(data: buffer[0..<n])
        }
    }
}

extension DockerIgnore {
    /// True when a later `!` rule could re-include something below an excluded directory, so the
    /// walk must still look inside it.
    func mayReinclude(below directory: String) -> Bool {
        rules.contains { $0.negated && $0.pattern.components.count > directory.split(separator: "/").count }
    }
}
