#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage

/// What the runtime keeps about one container in `<root>/<id>/state.json`: the OCI state plus
/// what later commands (another process, possibly) need: the init's start time against PID
/// reuse, the cgroup directories to remove, and the hooks to run after start and after stop.
struct ContainerRecord: Sendable {
    var ociVersion: String
    var id: String
    var pid: Int32
    /// Field 22 of /proc/<pid>/stat when created: a reused PID has another start time.
    var pidStartTime: UInt64
    var bundle: String
    var rootfs: String
    var annotations: [String: String]?
    var cgroupPaths: [String]
    /// The cgroup directories `create` made (what `delete` removes).
    var cgroupCreated: [String]
    var poststart: [Spec.Hook]
    var poststop: [Spec.Hook]
    var createdNanoseconds: UInt64

    /// The record as JSON, written by hand (no encoder set-up on the hot path).
    func json() -> [UInt8] {
        let q = StateJSON.quote
        func list(_ items: [String]) -> String { "[" + items.map(q).joined(separator: ",") + "]" }
        func hooks(_ hs: [Spec.Hook]) -> String {
            "[" + hs.map { h in
                var parts = ["\"path\":\(q(h.path))"]
                if let a = h.args { parts.append("\"args\":\(list(a))") }
                if let e = h.env { parts.append("\"env\":\(list(e))") }
                if let t = h.timeout { parts.append("\"timeout\":\(t)") }
                return "{" + parts.joined(separator: ",") + "}"
            }.joined(separator: ",") + "]"
        }
        var parts = [
            "\"ociVersion\":\(q(ociVersion))", "\"id\":\(q(id))", "\"pid\":\(pid)",
            "\"pidStartTime\":\(pidStartTime)", "\"bundle\":\(q(bundle))", "\"rootfs\":\(q(rootfs))",
            "\"cgroupPaths\":\(list(cgroupPaths))", "\"cgroupCreated\":\(list(cgroupCreated))",
            "\"poststart\":\(hooks(poststart))", "\"poststop\":\(hooks(poststop))",
            "\"createdNanoseconds\":\(createdNanoseconds)",
        ]
        if let a = annotations {
            parts.append("\"annotations\":{" + a.sorted { $0.key < $1.key }.map { "\(q($0.key)):\(q($0.value))" }.joined(separator: ",") + "}")
        }
        return Array(("{" + parts.joined(separator: ",") + "}").utf8)
    }

    func state(_ status: ContainerState.Status) -> ContainerState {
        ContainerState(ociVersion: ociVersion, id: id, status: status,
                       pid: status == .stopped ? nil : pid, bundle: bundle, annotations: annotations)
    }
}

/// The on-disk layout of the state root.
struct StateStore: Sendable {
    var root: FilePath

    func directory(_ id: String) -> FilePath { root.appending(id) }
    func stateFile(_ id: String) -> FilePath { directory(id).appending("state.json") }
    func fifo(_ id: String) -> FilePath { directory(id).appending("exec.fifo") }

    /// Rejects IDs that could escape the root or confuse tools (runc's rule).
    static func validate(id: String) throws(IntermodalError) {
        let ok = !id.isEmpty && id.utf8.count <= 1024 && id != "." && id != ".."
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                    || c == 0x5f || c == 0x2b || c == 0x2d || c == 0x2e
            }
        guard ok else {
            throw IntermodalError(.invalidArgument, "invalid container ID \"\(id)\": use letters, digits, _ + - and . only")
        }
    }

    /// Creates the container's directory exclusively (a concurrent or earlier container with the
    /// same ID makes this fail) and its exec fifo.
    func reserve(_ id: String) throws(IntermodalError) {
        if mkdir(root.string, 0o711) != 0 && errno != EEXIST {
            try FileSystem.createDirectory(root, mode: 0o711)
        }
        if mkdir(directory(id).string, 0o711) != 0 {
            if errno == EEXIST { throw IntermodalError(.exists, "container with id \"\(id)\" already exists") }
            throw .system("cannot create state directory \(directory(id))")
        }
        chmod(directory(id).string, 0o711)
        guard mkfifo(fifo(id).string, 0o622) == 0 else {
            let e = errno
            rmdir(directory(id).string)
            throw .system("cannot create \(fifo(id))", errno: e)
        }
        chmod(fifo(id).string, 0o622)
    }

    func write(_ record: ContainerRecord) throws(IntermodalError) {
        let bytes = record.json()
        // The state lives on a tmpfs (/run) and is rewritten by the next command anyway: a
        // rename for atomicity, no fsync (it costs milliseconds on a disk-backed --root).
        let file = stateFile(record.id)
        let tmp = file.string + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot write \(tmp)") }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n == bytes.count, rename(tmp, file.string) == 0 else {
            let e = errno
            unlink(tmp)
            throw .system("cannot write \(file)", errno: e)
        }
    }

    func read(_ id: String) throws(IntermodalError) -> ContainerRecord {
        try StateStore.validate(id: id)
        let file = stateFile(id)
        guard FileSystem.exists(file) else {
            throw IntermodalError(.notFound, "container \"\(id)\" does not exist")
        }
        let bytes = try FileSystem.readBytes(file)
        do {
            return try ContainerRecord(json: JSONParser.parse(bytes))
        } catch {
            throw IntermodalError(.corrupted, "state of container \"\(id)\" (\(file)) is unreadable", cause: error)
        }
    }

    /// What a damaged `state.json` still tells: the init's pid and start time and the cgroup
    /// directories (only paths under `/sys/fs/cgroup` are taken), read leniently from the bytes
    /// that are there. Nil when not even the pid can be read.
    func salvage(_ id: String) -> ContainerRecord? {
        guard let bytes = try? FileSystem.readBytes(stateFile(id)) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        func number(_ key: String) -> UInt64? {
            guard let r = text.firstRange(of: "\"\(key)\":") else { return nil }
            return UInt64(text[r.upperBound...].prefix { $0.isNumber })
        }
        func paths(_ key: String) -> [String] {
            guard let r = text.firstRange(of: "\"\(key)\":[") else { return [] }
            let list = text[r.upperBound...].prefix { $0 != "]" }
            return list.split(separator: ",").compactMap { item -> String? in
                let t = String(item)
                guard t.count > 2, t.hasPrefix("\""), t.hasSuffix("\"") else { return nil }
                let path = String(t.dropFirst().dropLast())
                return path.hasPrefix("/sys/fs/cgroup/") && !path.contains("..") ? path : nil
            }
        }
        guard let pid = number("pid").flatMap({ Int32(exactly: $0) }) else { return nil }
        // The list may be cut short: a v1 cgroup has the same path below every hierarchy, so one
        // path that names this container finds the others. Only those are removed.
        let own = String(id.prefix(12))
        var found = Set<String>()
        for path in paths("cgroupPaths") + paths("cgroupCreated") {
            let parts = path.split(separator: "/").map(String.init)   // sys fs cgroup [hier] rel...
            guard parts.count >= 4, parts.last?.contains(own) == true else { continue }
            found.insert(path)
            let hierarchies = ((try? FileSystem.list("/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/" + $0 }
            for relStart in [3, 4] where parts.count > relStart {
                let rel = parts[relStart...].joined(separator: "/")
                for h in hierarchies + ["/sys/fs/cgroup"] where FileSystem.isDirectory(FilePath(h + "/" + rel)) {
                    found.insert(h + "/" + rel)
                }
            }
        }
        let cgroups = found.sorted { $0.count > $1.count }
        return ContainerRecord(
            ociVersion: "", id: id, pid: pid, pidStartTime: number("pidStartTime") ?? 0, bundle: "", rootfs: "",
            annotations: nil, cgroupPaths: cgroups, cgroupCreated: cgroups,
            poststart: [], poststop: [], createdNanoseconds: 0)
    }

    func remove(_ id: String) throws(IntermodalError) {
        try FileSystem.removeTree(directory(id))
    }

    /// Where `create` notes the cgroup path it is about to make, before making it: cgroups come
    /// before the first state (which names them), so a create killed in between leaves cgroups
    /// that only this note tells `delete` about.
    func cgroupIntent(_ id: String) -> FilePath { directory(id).appending("cgroup.intent") }

    func writeCgroupIntent(_ id: String, path: String) throws(IntermodalError) {
        // On the tmpfs, read only after a kill: one write, no rename or fsync.
        let fd = open(cgroupIntent(id).string, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot write \(cgroupIntent(id))") }
        defer { close(fd) }
        let bytes = Array(path.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw .system("cannot write \(cgroupIntent(id))") }
    }

    /// The cgroup directories a create killed before its first state may have made: its noted
    /// path in every hierarchy where it exists, and only if the path names the container (a
    /// `cgroupsPath` without the ID could be someone else's, and is left alone). Deepest first.
    func intendedCgroups(_ id: String) -> [FilePath] {
        guard let path = try? FileSystem.readString(cgroupIntent(id)), path.hasPrefix("/"), !path.contains(".."),
              path.split(separator: "/").last?.contains(String(id.prefix(12))) == true else { return [] }
        let hierarchies = ((try? FileSystem.list("/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/" + $0 } + ["/sys/fs/cgroup"]
        return hierarchies.map { FilePath($0 + path) }.filter { FileSystem.isDirectory($0) }.sorted { $0.string.count > $1.string.count }
    }

    func ids() throws(IntermodalError) -> [String] {
        guard FileSystem.isDirectory(root) else { return [] }
        return try FileSystem.list(root).filter { FileSystem.exists(stateFile($0)) }
    }
}

/// Facts about a process read from /proc.
enum ProcFS {
    /// Start time (field 22 of /proc/<pid>/stat, clock ticks since boot) and state letter.
    static func stat(_ pid: Int32) -> (startTime: UInt64, state: Character)? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        // The command name may contain spaces and ')': fields start after the last ')'.
        guard let close = buf[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buf[(close + 2)..<n].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19, let state = fields[0].first,
              let start = UInt64(String(decoding: fields[19], as: UTF8.self)) else { return nil }
        return (start, Character(UnicodeScalar(state)))
    }

    /// True when `pid` is alive (not a zombie) and is the same process that had `startTime`.
    static func isAlive(_ pid: Int32, startTime: UInt64) -> Bool {
        guard let s = stat(pid) else { return false }
        return s.startTime == startTime && s.state != "Z" && s.state != "X"
    }
}

extension ContainerRecord {
    /// Reads the record from parsed JSON by hand: every `start`, `state` and `delete` does this,
    /// and Codable's generic containers cost more (metadata instantiation) than the parse.
    init(json: JSONValue) throws {
        struct Bad: Error, CustomStringConvertible { var description: String }
        guard case .object(let o) = json else { throw Bad(description: "not a JSON object") }
        func string(_ k: String) throws -> String {
            guard case .string(let s)? = o[k] else { throw Bad(description: "field \(k) is missing or not a string") }
            return s
        }
        func number<T: FixedWidthInteger>(_ k: String, _: T.Type) throws -> T {
            guard case .number(let n)? = o[k], let v = T(n) else { throw Bad(description: "field \(k) is missing or not a number") }
            return v
        }
        func strings(_ v: JSONValue?) -> [String] {
            guard case .array(let items)? = v else { return [] }
            return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        func hooks(_ k: String) -> [Spec.Hook] {
            guard case .array(let items)? = o[k] else { return [] }
            return items.compactMap { item in
                guard case .object(let h) = item, case .string(let path)? = h["path"] else { return nil }
                var hook = Spec.Hook(path: path)
                if h["args"] != nil { hook.args = strings(h["args"]) }
                if h["env"] != nil { hook.env = strings(h["env"]) }
                if case .number(let t)? = h["timeout"] { hook.timeout = Int(t) }
                return hook
            }
        }
        ociVersion = try string("ociVersion")
        id = try string("id")
        pid = try number("pid", Int32.self)
        pidStartTime = try number("pidStartTime", UInt64.self)
        bundle = try string("bundle")
        rootfs = try string("rootfs")
        if case .object(let a)? = o["annotations"] {
            var out: [String: String] = [:]
            for (k, v) in a { if case .string(let s) = v { out[k] = s } }
            annotations = out
        } else {
            annotations = nil
        }
        cgroupPaths = strings(o["cgroupPaths"])
        cgroupCreated = strings(o["cgroupCreated"])
        poststart = hooks("poststart")
        poststop = hooks("poststop")
        createdNanoseconds = try number("createdNanoseconds", UInt64.self)
    }

}
