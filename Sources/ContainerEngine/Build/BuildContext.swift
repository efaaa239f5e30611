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
            guard FileSystem.exists(root.appending(clean)), !ignore.excludes(clean) else {
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

    /// Every non-ignored path under `relative`, depth first, parents before children.
    func walk(_ relative: String) throws(IntermodalError) -> [String] {
        var result: [String] = []
        let dir = relative.isEmpty ? root : root.appending(relative)
        for name in try FileSystem.list(dir) {
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            if ignore.excludes(child) && !ignore.mayReinclude(below: child) { continue }
            if !ignore.excludes(child) { result.append(child) }
            if Self.isRealDirectory(root.appending(child)) { result.append(contentsOf: try walk(child)) }
        }
        return result
    }

    /// A digest of what the sources contain (paths, modes, link targets, bytes), for the layer cache.
    func contentHash(_ sources: [String]) throws(IntermodalError) -> String {
        var hasher = SHA256()
        for source in sources {
            for path in [source] + (Self.isRealDirectory(root.appending(source)) ? try walk(source) : []) {
                let full = path.isEmpty ? root : root.appending(path)
                var st = stat()
                guard lstat(full.string, &st) == 0 else { throw .system("cannot stat \(full)") }
                hasher.update(data: Array("\(path)\0\(st.st_mode)\0".utf8))
                switch st.st_mode & S_IFMT {
                case S_IFREG:
                    try Self.hashFile(full, into: &hasher)
                case S_IFLNK:
                    hasher.update(data: Array(try Self.linkTarget(full).utf8))
                default:
                    break
                }
            }
        }
        return hasher.finalize().map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func isRealDirectory(_ path: FilePath) -> Bool {
        var st = stat()
        return lstat(path.string, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func linkTarget(_ path: FilePath) throws(IntermodalError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path.string, &buffer, buffer.count - 1)
        guard n >= 0 else { throw .system("cannot read link \(path)") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func hashFile(_ path: FilePath, into hasher: inout SHA256) throws(IntermodalError) {
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .system("cannot read \(path)") }
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
