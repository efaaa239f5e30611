import IntermodalCore
import SystemPackage

/// The host's `qemu-system-x86_64` and its version (part of cache keys and results).
public struct QEMUBinary: Sendable {
    public var path: FilePath
    /// "7.2.22".
    public var version: String

    /// Finds `qemu-system-x86_64` in `PATH` and asks its version.
    public static func locate() async throws(IntermodalError) -> QEMUBinary {
        guard let path = HostCommand.find("qemu-system-x86_64") else {
            throw IntermodalError(.notFound, "qemu-system-x86_64 not found in PATH (install Debian's qemu-system-x86)")
        }
        let out = try await HostCommand.check(path.string, ["--version"])
        // "QEMU emulator version 7.2.22 (Debian ...)"
        let words = out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        var version = "unknown"
        if let i = words.firstIndex(of: "version"), i + 1 < words.count { version = String(words[i + 1]) }
        return QEMUBinary(path: path, version: version)
    }
}
