import Crypto
import Foundation
import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `sha256:HEX` digests: computing, streaming and validating them.
public enum Digest {
    /// `sha256:` + the hex SHA-256 of `bytes`.
    public static func sha256<B: DataProtocol>(_ bytes: B) -> String {
        "sha256:" + Hex.lowercase(SHA256.hash(data: bytes))
    }

    /// True for `sha256:` followed by 64 lowercase hex digits.
    public static func isValid(_ digest: String) -> Bool {
        guard digest.hasPrefix("sha256:") else { return false }
        let hex = digest.utf8.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The hex part of `sha256:HEX` (or the string itself without a prefix).
    public static func hex(_ digest: String) -> String {
        if let colon = digest.firstIndex(of: ":") { return String(digest[digest.index(after: colon)...]) }
        return digest
    }

    /// Digest of a file, read in chunks.
    public static func sha256(file: FilePath) throws(IntermodalError) -> String {
        var hasher = SHA256()
        try FileChunks.forEach(file) { hasher.update(data: $0) }
        return "sha256:" + Hex.lowercase(hasher.finalize())
    }
}

/// A running SHA-256 over bytes as they stream past, with a byte count.
struct StreamingDigest {
    private var hasher = SHA256()
    private(set) var count: Int64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    func finalize() -> String { "sha256:" + Hex.lowercase(hasher.finalize()) }
}

/// Reads a file chunk by chunk.
enum FileChunks {
    static func forEach(_ path: FilePath, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws(IntermodalError) -> Void) throws(IntermodalError) {
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("cannot read \(path)")
            }
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// RFC 3339 timestamps (UTC, seconds) without Foundation; written by ``WallClock``.
public enum Timestamp {
    /// Now, as `2026-11-29T08:54:00Z`.
    public static func now() -> String { WallClock.rfc3339(fraction: false) }

    public static func rfc3339(seconds: Int) -> String { WallClock.rfc3339(Double(seconds), fraction: false) }

    /// Seconds since the epoch of an RFC 3339 time (fractions and offsets honoured), or nil.
    public static func parse(_ text: String) -> Int? {
        let u = Array(text.utf8)
        guard u.count >= 19 else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard u[i] >= 0x30 && u[i] <= 0x39 else { return nil }; v = v * 10 + Int(u[i] - 0x30) }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10),
              let h = num(11..<13), let mi = num(14..<16), let s = num(17..<19) else { return nil }
        var tm = tm()
        tm.tm_year = Int32(y - 1900); tm.tm_mon = Int32(mo - 1); tm.tm_mday = Int32(d)
        tm.tm_hour = Int32(h); tm.tm_min = Int32(mi); tm.tm_sec = Int32(s)
        var seconds = Int(timegm(&tm))
        var i = 19
        if i < u.count && u[i] == UInt8(ascii: ".") {
            i += 1
            while i < u.count && u[i] >= 0x30 && u[i] <= 0x39 { i += 1 }
        }
        if i + 5 < u.count + 0 && (u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-")),
           let oh = num(i + 1..<i + 3), let om = num(i + 4..<i + 6) {
            let off = oh * 3600 + om * 60
            seconds += u[i] == UInt8(ascii: "+") ? -off : off
        }
        return seconds
    }

    /// "3 minutes ago", as `images` and `history` print times.
    public static func humanAgo(_ text: String?) -> String {
        guard let text, let t = parse(text) else { return "N/A" }
        let delta = Int(time(nil)) - t
        switch delta {
        case ..<1: return "Less than a second ago"
        case ..<60: return "\(delta) seconds ago"
        case ..<3600: return plural(delta / 60, "minute")
        case ..<86400: return plural(delta / 3600, "hour")
        case ..<(86400 * 14): return plural(delta / 86400, "day")
        case ..<(86400 * 60): return plural(delta / (86400 * 7), "week")
        case ..<(86400 * 730): return plural(delta / (86400 * 30), "month")
        default: return plural(delta / (86400 * 365), "year")
        }
    }

    private static func plural(_ n: Int, _ unit: String) -> String {
        n == 1 ? (unit == "hour" ? "An hour ago" : "1 \(unit) ago") : "\(n) \(unit)s ago"
    }
}

/// Human sizes as Docker prints them (`5.4MB`, decimal units).
public enum ByteCount {
    public static func human(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        if i == 0 { return "\(bytes)B" }
        let rounded = (v * 100).rounded() / 100
        var s = String(rounded)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s + units[i]
    }
}

/// `withUnsafeBytes` for typed throws (the standard library's is `rethrows` of `any Error`).
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(IntermodalError) -> R) throws(IntermodalError) -> R {
    do {
        return try array.withUnsafeBytes { raw in try body(raw) }
    } catch let error as IntermodalError {
        throw error
    } catch {
        throw IntermodalError(.internalError, "unexpected error", cause: error)
    }
}
