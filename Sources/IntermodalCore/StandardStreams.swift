#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered writes to the standard streams, safe from any thread (no shared `FILE*`).
public enum StandardStreams {
    public static func writeError(_ text: String) { writeAll(2, text) }
    public static func writeOutput(_ text: String) { writeAll(1, text) }

    private static func writeAll(_ fd: CInt, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
