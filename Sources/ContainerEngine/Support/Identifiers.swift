#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Container IDs and names.
enum Identifiers {
    /// 32 random bytes as 64 hex digits, like Docker's container IDs.
    static func newID() throws(IntermodalError) -> String {
        let bytes = try FileSystem.readPrefix("/dev/urandom", count: 32)
        return bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// True for a full container ID (64 lowercase hex digits), what the registry's directories are named.
    static func isID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static let adjectives = [
        "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
        "nimble", "proud", "quiet", "rapid", "sharp", "tidy", "vivid", "witty", "young", "zesty",
    ]
    private static let nouns = [
        "barge", "crane", "dock", "ferry", "freighter", "gantry", "harbor", "hopper", "lighter", "pallet",
        "pier", "quay", "reefer", "schooner", "spreader", "tanker", "trailer", "tug", "wagon", "wharf",
    ]

    /// Readable names (`brave_gantry`) derived from the ID, the plain one first, then ones made
    /// unique with ID digits: the first that is free is the container's.
    static func generatedNames(for id: String) -> [String] {
        let bytes = Array(id.utf8)
        let a = Int(bytes[0]) &* 31 &+ Int(bytes[1])
        let b = Int(bytes[2]) &* 31 &+ Int(bytes[3])
        let base = "\(adjectives[a % adjectives.count])_\(nouns[b % nouns.count])"
        return [base, "\(base)_\(id.prefix(6))", "\(base)_\(id.prefix(12))"]
    }

    /// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
    static func validateName(_ name: String) throws(IntermodalError) {
        guard let first = name.unicodeScalars.first, first.isASCIIAlnum,
              name.unicodeScalars.allSatisfy({ $0.isASCIIAlnum || $0 == "_" || $0 == "." || $0 == "-" }),
              name.utf8.count <= 128
        else {
            throw IntermodalError(.invalidArgument, "invalid container name '\(name)': use [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        }
    }
}

extension Unicode.Scalar {
    var isASCIIAlnum: Bool {
        (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
    }
}

extension FileSystem {
    /// The first `count` bytes of a file (`/dev/urandom`).
    static func readPrefix(_ path: FilePath, count: Int) throws(IntermodalError) -> [UInt8] {
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .system("cannot read \(path)") }
            got += n
        }
        return bytes
    }
}
