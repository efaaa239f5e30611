#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Reading and writing cgroupfs control files. Writes go straight to the file (never a temporary
/// file and rename: cgroupfs has no such thing) and never create it, so a missing controller file
/// is an error naming the file instead of a stray regular file.
///
/// Paths are plain strings here: this runs on every container start, and string joins cost
/// nothing next to FilePath's parsing and normalising.
enum CgroupFiles {
    /// Writes `value` to `directory/name`; the error reads
    /// "write 999 to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Invalid argument".
    static func write(_ value: String, to directory: String, _ name: String) throws(IntermodalError) {
        try write(value, toFile: directory + "/" + name)
    }

    static func write(_ value: String, toFile path: String) throws(IntermodalError) {
        let fd = try openForWriting(path, flags: O_TRUNC, value: value)
        defer { close(fd) }
        // An empty write writes nothing: cgroupfs takes a lone newline as the empty value.
        try write(value.isEmpty ? [0x0a] : Array(value.utf8), to: fd, path: path, value: value)
    }

    /// Writes each value with a write(2) of its own, in order, through one descriptor per file:
    /// files such as `devices.allow` take one rule per write, and a dozen rules need not cost a
    /// dozen opens.
    static func writeEach(_ writes: [(file: String, value: String)], in directory: String) throws(IntermodalError) {
        var descriptors: [(file: String, fd: Int32)] = []
        defer { for d in descriptors { close(d.fd) } }
        for (file, value) in writes {
            let path = directory + "/" + file
            var fd = descriptors.first { $0.file == file }?.fd ?? -1
            if fd < 0 {
                fd = try openForWriting(path, flags: 0, value: value)
                descriptors.append((file, fd))
            }
            try write(Array(value.utf8), to: fd, path: path, value: value)
        }
    }

    /// Opens an existing control file for writing; a missing one means the controller or the
    /// setting is not there (`.unsupported`). Errors say which `value` was to be written.
    private static func openForWriting(_ path: String, flags: Int32, value: String) throws(IntermodalError) -> Int32 {
        let fd = open(path, O_WRONLY | flags | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw IntermodalError(
                e == ENOENT ? .unsupported : .systemError, "write \(value) to \(path)", cause: Errno(rawValue: e))
        }
        return fd
    }

    /// One write(2) of `bytes`: cgroupfs takes (or refuses) a value whole, never in part.
    private static func write(_ bytes: [UInt8], to fd: Int32, path: String, value: String) throws(IntermodalError) {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            let e = n < 0 ? errno : EIO
            throw IntermodalError(.systemError, "write \(value) to \(path)", cause: Errno(rawValue: e))
        }
    }

    /// The file's text without the trailing newline.
    static func read(_ directory: String, _ name: String) throws(IntermodalError) -> String {
        try read(file: directory + "/" + name)
    }

    static func read(file path: String) throws(IntermodalError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw IntermodalError(e == ENOENT ? .notFound : .systemError, "read \(path)", cause: Errno(rawValue: e))
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IntermodalError.system("read \(path)")
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        while let last = result.last, last == 0x0a || last == 0x20 { result.removeLast() }
        return String(decoding: result, as: UTF8.self)
    }

    /// True when something exists at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The words of a space-separated file (`cgroup.controllers`), empty when it is missing.
    static func words(_ directory: String, _ name: String) -> [String] {
        ((try? read(directory, name)) ?? "").split(separator: " ").map(String.init)
    }

    /// The file read as one unsigned number; nil when the file does not exist.
    static func readNumber(_ directory: String, _ name: String) throws(IntermodalError) -> UInt64? {
        let path = directory + "/" + name
        guard exists(path) else { return nil }
        let text = try read(file: path)
        guard let value = UInt64(text) else {
            throw IntermodalError(.corrupted, "\(path) holds \"\(text)\", not a number")
        }
        return value
    }

    /// The value of `key` in a flat-keyed file (`cpu.stat`, `memory.events`, `memory.oom_control`).
    static func readKey(_ directory: String, _ name: String, key: String) throws(IntermodalError) -> UInt64? {
        let path = directory + "/" + name
        guard exists(path) else { return nil }
        for line in try read(file: path).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2 && fields[0] == key { return UInt64(fields[1]) }
        }
        return nil
    }

    /// The pids listed in `cgroup.procs`.
    static func readPids(_ directory: String) throws(IntermodalError) -> [Int32] {
        try read(directory, "cgroup.procs").split(separator: "\n").compactMap { Int32($0) }
    }

    /// The names in a directory, without `.` and `..`.
    static func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        return FileSystem.entryNames(dir)
    }
}
