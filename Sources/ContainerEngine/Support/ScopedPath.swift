#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Resolves a path inside a container's root file system the way the container would see it:
/// symlinks (absolute ones too) are followed relative to the root, and `..` never climbs above it.
/// Writing through the result can therefore never touch the host (what `COPY`, `WORKDIR` and
/// reading `/etc/passwd` need).
enum ScopedPath {
    static func resolve(_ path: String, in root: FilePath) throws(IntermodalError) -> FilePath {
        var resolved: [String] = []
        var pending = path.split(separator: "/").map(String.init).reversed() as [String]
        var links = 0
        while let part = pending.popLast() {
            if part.isEmpty || part == "." { continue }
            if part == ".." { _ = resolved.popLast(); continue }
            let candidate = root.appending(resolved + [part])
            var st = stat()
            if lstat(candidate.string, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                links += 1
                guard links <= 40 else {
                    throw IntermodalError(.invalidArgument, "too many symbolic links resolving \(path) in the container")
                }
                let target = try FileSystem.readLink(candidate)
                if target.hasPrefix("/") { resolved = [] }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                continue
            }
            resolved.append(part)
        }
        return root.appending(resolved)
    }
}

extension FilePath {
    /// Appends several components given as strings.
    func appending(_ parts: [String]) -> FilePath {
        var p = self
        for part in parts { p.append(part) }
        return p
    }
}
