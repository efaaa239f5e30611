/// The mounts a process sees, from `/proc/self/mountinfo` (proc(5)): the project's one reader of it.
public struct MountTable: Sendable {
    /// One line: `id parent major:minor root mountpoint options [optional...] - fstype source superoptions`.
    public struct Entry: Sendable, Equatable {
        /// The mount point, with mountinfo's octal escapes (`\040` for a space) undone.
        public var mountPoint: String
        public var fileSystemType: String
        public var source: String
        /// The file system's own options (an overlay's lowerdir list, a v1 cgroup's controllers).
        public var superOptions: [String]
    }

    public var entries: [Entry]

    /// This process's mounts; an empty table when mountinfo cannot be read.
    public static func current() -> MountTable {
        MountTable(text: (try? FileSystem.readString("/proc/self/mountinfo")) ?? "")
    }

    /// Parses mountinfo text; lines without the ` - ` separator or with too few fields are skipped.
    public init(text: String) {
        entries = text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 7, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 2 < fields.count else { return nil }
            return Entry(
                mountPoint: Self.unescape(String(fields[4])), fileSystemType: String(fields[dash + 1]),
                source: Self.unescape(String(fields[dash + 2])),
                superOptions: dash + 3 < fields.count ? fields[dash + 3].split(separator: ",").map(String.init) : [])
        }
    }

    /// The entries mounted at `path` or below it.
    public func entries(under path: String) -> [Entry] {
        let root = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let prefix = root == "/" ? "/" : root + "/"
        return entries.filter { $0.mountPoint == root || $0.mountPoint.hasPrefix(prefix) }
    }

    /// True when something is mounted at exactly `path`.
    public func isMountPoint(_ path: String) -> Bool {
        entries.contains { $0.mountPoint == path }
    }

    /// mountinfo writes space, tab, newline and backslash in paths as `\040`-style octal escapes.
    public static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out: [UInt8] = []
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
