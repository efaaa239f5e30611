import IntermodalCore
import SystemPackage

/// The host's `qemu-system-x86_64` and its version (part of cache keys and results).
public struct QEMUBinary: Sendable {
    public var path: FilePath
    /// "7.2.22".
    public var version: String

    /// Finds `qemu-system-x86_64` in `PATH` and asks its version (remembered under `cacheRoot`
    /// for the binary's size, mtime and inode: a QEMU start costs more than the stat).
    public static func locate(cacheRoot: FilePath = IntermodalPaths.cacheRoot) async throws(IntermodalError) -> QEMUBinary {
        guard let path = HostCommand.find("qemu-system-x86_64") else {
            throw IntermodalError(.notFound, "qemu-system-x86_64 not found in PATH (install Debian's qemu-system-x86)")
        }
        let identity = FileIdentity(path).map { "\(path) \($0)" }
        let stamp = cacheRoot.appending("vm/qemu-version")
        if let identity, let text = try? FileSystem.readString(stamp) {
            let lines = text.split(separator: "\n")
            if lines.count == 2, lines[0] == identity { return QEMUBinary(path: path, version: String(lines[1])) }
        }
        let binary = try await ask(path)
        if let identity {
            try? FileSystem.createDirectory(stamp.removingLastComponent())
            try? FileSystem.writeAtomically("\(identity)\n\(binary.version)", to: stamp)
        }
        return binary
    }

    private static func ask(_ path: FilePath) async throws(IntermodalError) -> QEMUBinary {
        let out = try await HostCommand.check(path.string, ["--version"])
        // "QEMU emulator version 7.2.22 (Debian ...)"
        let words = out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        var version = "unknown"
        if let i = words.firstIndex(of: "version"), i + 1 < words.count { version = String(words[i + 1]) }
        return QEMUBinary(path: path, version: version)
    }
}
