import IntermodalCore
import SystemPackage

/// The files of one container under `<root>/containers/<id>/`.
///
/// The directory is also the OCI bundle: `config.json` beside `rootfs/`, so the runtime reads it as is.
public struct ContainerDirectory: Sendable {
    public let path: FilePath

    public var record: FilePath { path.appending("record.json") }
    public var config: FilePath { path.appending("config.json") }
    /// The overlay mount point (or the flattened copy).
    public var rootfs: FilePath { path.appending("rootfs") }
    /// overlayfs upper dir: everything the container changed; what `commit` turns into a layer.
    public var upper: FilePath { path.appending("upper") }
    public var work: FilePath { path.appending("work") }
    /// Files bind-mounted over the init layer's mount points.
    public var hosts: FilePath { path.appending("hosts") }
    public var hostname: FilePath { path.appending("hostname") }
    public var resolvConf: FilePath { path.appending("resolv.conf") }
    /// Standard output and error of the container (`logs`).
    public var log: FilePath { path.appending("container.log") }
    /// Diagnostics of the detached monitor process.
    public var monitorLog: FilePath { path.appending("monitor.log") }
}

/// Reads and writes container records under `<root>/containers/`.
struct ContainerRegistry: Sendable {
    let root: FilePath

    init(storeRoot: FilePath) throws(IntermodalError) {
        root = storeRoot.appending("containers")
        try FileSystem.createDirectory(root, mode: 0o700)
    }

    func directory(_ id: String) -> ContainerDirectory { ContainerDirectory(path: root.appending(id)) }

    /// The lower layer every container gets above its image: empty mount points for
    /// `/etc/resolv.conf`, `/etc/hosts` and `/etc/hostname` (Docker's init layer). Read-only, so one
    /// is shared by all containers; never committed.
    var initLayer: FilePath { root.appending(".init-layer") }

    /// Serialises name checks and creation across processes.
    var lock: FileLock { FileLock(path: root.appending(".lock")) }

    func save(_ record: ContainerRecord) throws(IntermodalError) {
        try VolatileFile.write(try JSON.encode(record), to: directory(record.id).record)
    }

    func load(id: String) throws(IntermodalError) -> ContainerRecord {
        let file = directory(id).record
        guard FileSystem.exists(file) else { throw IntermodalError(.notFound, "no such container: \(id)") }
        return try JSON.decode(ContainerRecord.self, from: try FileSystem.readBytes(file), what: "\(file)")
    }

    /// Every record, oldest first. Directories without a record (a creation cut short) are skipped.
    func all() throws(IntermodalError) -> [ContainerRecord] {
        var records: [ContainerRecord] = []
        for name in try FileSystem.list(root) where !name.hasPrefix(".") {
            if let r = try? load(id: name) { records.append(r) }
        }
        return records.sorted { $0.createdUnix < $1.createdUnix }
    }

    /// Finds a container by full ID, unique ID prefix or name, like Docker.
    func find(_ reference: String) throws(IntermodalError) -> ContainerRecord {
        guard !reference.isEmpty else { throw IntermodalError(.invalidArgument, "empty container name or ID") }
        let records = try all()
        if let r = records.first(where: { $0.id == reference || $0.name == reference }) { return r }
        let matches = records.filter { $0.id.hasPrefix(reference) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            throw IntermodalError(.invalidArgument, "container ID prefix '\(reference)' is ambiguous (\(matches.count) containers)")
        }
        throw IntermodalError(.notFound, "no such container: \(reference)")
    }
}
