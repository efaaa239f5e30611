#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage

/// What the runtime keeps about one container in `<root>/<id>/state.json`: the OCI state plus
/// what later commands (another process, possibly) need: the init's start time against PID
/// reuse, the cgroup directories to remove, and the hooks to run after start and after stop.
struct ContainerRecord: Sendable, Decodable {
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

    /// The record as JSON, by the start path's writer (``JSONObjectWriter``: its comment says why).
    func json() -> [UInt8] {
        func hook(_ h: Spec.Hook) -> JSONObjectWriter {
            var w = JSONObjectWriter()
            w.add("path", h.path)
            if let a = h.args { w.add("args", a) }
            if let e = h.env { w.add("env", e) }
            if let t = h.timeout { w.add("timeout", t) }
            return w
        }
        var w = JSONObjectWriter()
        w.add("ociVersion", ociVersion)
        w.add("id", id)
        w.add("pid", pid)
        w.add("pidStartTime", pidStartTime)
        w.add("bundle", bundle)
        w.add("rootfs", rootfs)
        w.add("cgroupPaths", cgroupPaths)
        w.add("cgroupCreated", cgroupCreated)
        w.add("poststart", poststart.map(hook))
        w.add("poststop", poststop.map(hook))
        w.add("createdNanoseconds", createdNanoseconds)
        if let annotations { w.add("annotations", annotations) }
        return w.bytes()
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
        return try JSON.decode(
            ContainerRecord.self, from: try FileSystem.readBytes(file), what: "state of container \"\(id)\" (\(file))",
            reader: FastJSON.self)
    }

    /// What a damaged `state.json` still tells: the init's pid and start time and the cgroup
    /// directories (only paths under `/sys/fs/cgroup` are taken), read leniently from the bytes
    /// that are there. Nil when the file cannot be read.
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
        // A pid no process can have (tampered, 99999999999) is taken as unknown, like a creator's
        // killed before it wrote one: the cgroups below still hold the init, and are emptied.
        let pid = number("pid").flatMap { Int32(exactly: $0) } ?? 0
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

extension ContainerRecord {
    /// The record from parsed JSON (as ``StateStore/read(_:)`` decodes it).
    init(json: JSONValue) throws {
        try self.init(from: JSONValueDecoder(value: json, codingPath: []))
    }
}
