#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Small file helpers over swift-system, for the modules that must not load Foundation.
public enum FileSystem {
    /// Reads a whole file.
    public static func readBytes(_ path: FilePath) throws(IntermodalError) -> [UInt8] {
        do {
            let fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            defer { try? fd.close() }
            // A regular file is read in one piece of its own size (one byte more to see the end):
            // no zero-filled 64 KiB buffer to fault in and copy out of, which every short-lived
            // process (the runtime's CLI reads config.json and state.json) would pay for. /proc and
            // sysfs files report size 0 and are read a page at a time.
            var st = stat()
            let size = fstat(fd.rawValue, &st) == 0 && st.st_size > 0 ? Int(st.st_size) + 1 : 4096
            var result: [UInt8] = []
            while true {
                var failure: (any Error)?
                let chunk = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                    do { count = try fd.read(into: UnsafeMutableRawBufferPointer(buffer)) } catch {
                        failure = error
                        count = 0
                    }
                }
                if let failure { throw failure }
                if chunk.isEmpty { break }
                if result.isEmpty { result = chunk } else { result += chunk }
            }
            return result
        } catch {
            throw IntermodalError(.notFound, "cannot read \(path)", cause: error)
        }
    }

    /// Reads a whole file as UTF-8 text.
    public static func readString(_ path: FilePath) throws(IntermodalError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename.
    public static func writeAtomically(_ bytes: some Collection<UInt8>, to path: FilePath, mode: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws(IntermodalError) {
        // Unique per thread: threads of one process may replace the same file at once.
        let tmp = FilePath(path.string + ".tmp-\(getpid())-\(UInt(pthread_self()))")
        do {
            let fd = try FileDescriptor.open(tmp, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: mode)
            do {
                _ = try fd.writeAll(bytes)
                _ = fsync(fd.rawValue)
                try fd.close()
            } catch {
                try? fd.close()
                throw error
            }
            guard rename(tmp.string, path.string) == 0 else {
                throw Errno(rawValue: errno)
            }
        } catch {
            unlink(tmp.string)
            throw IntermodalError(.systemError, "cannot write \(path)", cause: error)
        }
    }

    /// Writes a string atomically.
    public static func writeAtomically(_ text: String, to path: FilePath) throws(IntermodalError) {
        try writeAtomically(Array(text.utf8), to: path)
    }

    /// `path` made absolute against the working directory (and normalised), so that it means
    /// the same to a process that runs elsewhere; unchanged when the directory cannot be read.
    public static func absolute(_ path: FilePath) -> FilePath {
        if path.isAbsolute { return path.lexicallyNormalized() }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return FilePath(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            .appending(path.components).lexicallyNormalized()
    }

    /// `directory/name` for a name that comes from input (a suite's name, a figure's): one file
    /// name, never `..`, `.`, empty, a path with `/` or a NUL, so the result cannot leave `directory`.
    /// `what` names the input in the error.
    public static func child(_ directory: FilePath, _ name: String, what: String) throws(IntermodalError) -> FilePath {
        try checkFileName(name, what: what)
        return directory.appending(name)
    }

    /// Refuses `name` unless it is one plain file name (see ``child(_:_:what:)``).
    public static func checkFileName(_ name: String, what: String) throws(IntermodalError) {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0),
              name.utf8.count <= Int(NAME_MAX) else {
            throw IntermodalError(.invalidArgument, "\(what) \"\(name)\" is not a plain file name (no /, no .., at most \(NAME_MAX) bytes)")
        }
    }

    /// The target of the symbolic link at `path`, as stored (not resolved further).
    public static func readLink(_ path: FilePath) throws(IntermodalError) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buffer.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { readlink(path.string, $0.baseAddress!, $0.count - 1) }
        }
        guard n >= 0 else { throw .system("cannot read link \(path)") }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    /// The running program's executable (`/proc/self/exe`), nil if it cannot be read.
    public static var ownExecutable: FilePath? {
        (try? readLink("/proc/self/exe")).map { FilePath($0) }
    }

    /// Everything a descriptor gives until end of file (a pipe's writers all closed), retrying
    /// on EINTR; blocking, so callers run it on a dedicated thread.
    public static func readToEnd(_ fd: CInt) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }

    /// True when something exists at `path` (a dangling symlink counts).
    public static func exists(_ path: FilePath) -> Bool {
        var st = stat()
        return lstat(path.string, &st) == 0
    }

    /// True when `path` is a directory (following symlinks).
    public static func isDirectory(_ path: FilePath) -> Bool {
        var st = stat()
        return stat(path.string, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir -p`.
    public static func createDirectory(_ path: FilePath, mode: mode_t = 0o755) throws(IntermodalError) {
        if isDirectory(path) { return }
        var prefix = FilePath(root: path.root)
        for component in path.components {
            prefix.append(component)
            if mkdir(prefix.string, mode) != 0 && errno != EEXIST {
                throw .system("cannot create directory \(prefix)")
            }
        }
    }

    /// `rm -rf` that never crosses into another file system (a mount left inside is an error, not a
    /// wipe), at any depth (``TreeRemoval``: no recursion, no long paths).
    public static func removeTree(_ path: FilePath) throws(IntermodalError) {
        try TreeRemoval.remove(path)
    }

    /// ``removeTree(_:)`` of the entry `name` in the directory open at `dirFD`; `label` names it in errors.
    public static func removeEntry(_ dirFD: CInt, _ name: String, label: String) throws(IntermodalError) {
        try TreeRemoval.remove(dirFD, name, label: label)
    }

    /// Lists the names in a directory (without `.` and `..`), sorted.
    public static func list(_ path: FilePath) throws(IntermodalError) -> [String] {
        guard let dir = opendir(path.string) else { throw .system("cannot open directory \(path)") }
        defer { closedir(dir) }
        return entryNames(dir).sorted()
    }

    /// The names an open directory stream (`DIR *`) lists, without `.` and `..`, in directory order.
    public static func entryNames(_ dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A new private temporary directory under `base` (default `$TMPDIR` or `/tmp`).
    public static func makeTemporaryDirectory(prefix: String, in base: FilePath? = nil) throws(IntermodalError) -> FilePath {
        let dir = base ?? FilePath(getenvString("TMPDIR") ?? "/tmp")
        var template = Array((dir.appending("\(prefix).XXXXXX").string).utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw .system("cannot create a temporary directory in \(dir)") }
        return FilePath(String(cString: template.withUnsafeBufferPointer { $0.baseAddress! }))
    }
}
