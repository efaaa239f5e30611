#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Reads and writes container records under `<root>/containers/`, and makes and removes the
/// containers' directories.
///
/// Entries starting with `.` are the registry's own: the lock, the name index, spare and retiring
/// directories, the shared init layer.
struct ContainerRegistry: Sendable {
    let root: FilePath
    let names: ContainerNames
    let recycler: DirectoryRecycler

    init(storeRoot: FilePath) throws(IntermodalError) {
        root = storeRoot.appending("containers")
        try FileSystem.createDirectory(root, mode: 0o700)
        names = ContainerNames(registryRoot: root)
        recycler = try DirectoryRecycler(registryRoot: root)
    }

    func directory(_ id: String) -> ContainerDirectory { ContainerDirectory(path: root.appending(id)) }

    /// The lower layer every container gets above its image: empty mount points for
    /// `/etc/resolv.conf`, `/etc/hosts` and `/etc/hostname` (Docker's init layer). Read-only, so one
    /// is shared by all containers; never committed.
    var initLayer: FilePath { root.appending(".init-layer") }

    /// Serialises name checks, creation and removal across processes.
    var lock: FileLock { FileLock(root.appending(".lock")) }

    /// Makes a new container's directory (a skeleton of empty `rootfs/`, `upper/`, `work/`) with
    /// its record, named `record.name` (or, when that is nil, the first free of `candidates`).
    /// The directory appears complete, record included, in one rename, so `rm` can always undo
    /// what follows; a name taken by a live container is an `.exists` error.
    func create(_ record: ContainerRecord, nameCandidates: [String]) async throws(IntermodalError) -> ContainerRecord {
        try await lock.withLock { () throws(IntermodalError) -> ContainerRecord in
            recycler.sweep()
            try names.prepare(existing: all)
            var record = record
            var reserved: String?
            for name in nameCandidates {
                if try names.reserve(name, id: record.id, isLive: exists) {
                    reserved = name
                    break
                }
            }
            guard let name = reserved else {
                throw IntermodalError(.exists, "the container name \"\(nameCandidates.first ?? "")\" is already in use; remove that container or choose another name")
            }
            record.name = name
            do throws(IntermodalError) {
                let staging = try recycler.take(id: record.id)
                let dir = ContainerDirectory(path: staging)
                try VolatileFile.write(try JSON.encode(record, pretty: true), to: dir.record, spare: dir.recordSpare)
                let target = directory(record.id).path
                guard rename(staging.string, target.string) == 0 else { throw IntermodalError.system("cannot create \(target)") }
            } catch {
                names.release(name, id: record.id)
                throw error
            }
            return record
        }
    }

    /// Removes a container's directory (its overlay unmounted) and frees its name: it leaves the
    /// registry in one rename, then is emptied for reuse.
    func remove(_ record: ContainerRecord) async throws(IntermodalError) {
        let dir = directory(record.id).path
        let retired = try await lock.withLock { () throws(IntermodalError) -> FilePath? in
            recycler.sweep()
            var st = stat()
            guard lstat(dir.string, &st) == 0 else {
                names.release(record.name, id: record.id)
                return nil
            }
            let retired = try recycler.retire(dir, id: record.id)
            names.release(record.name, id: record.id)
            return retired
        }
        if let retired {
            // Emptying the directory mostly waits for the disk: a thread of its own.
            let recycler = self.recycler
            try await DedicatedThread.run { () throws(IntermodalError) in try recycler.recycle(retired) }
        }
    }

    /// True when a container with this ID has a record.
    func exists(_ id: String) -> Bool {
        !id.isEmpty && !id.contains("/") && FileSystem.exists(directory(id).record)
    }

    func save(_ record: ContainerRecord) throws(IntermodalError) {
        let dir = directory(record.id)
        try VolatileFile.write(try JSON.encode(record, pretty: true), to: dir.record, spare: dir.recordSpare)
    }

    func load(id: String) throws(IntermodalError) -> ContainerRecord {
        let file = directory(id).record
        guard FileSystem.exists(file) else { throw IntermodalError(.notFound, "no such container: \(id)") }
        return try JSON.decode(ContainerRecord.self, from: try FileSystem.readBytes(file), what: "\(file)")
    }

    /// The record's `ownerPID` read from its text, without decoding the record (nil when the
    /// record is unreadable or names none): cheap enough for every `run` to look at each
    /// container that has runtime state.
    func ownerPID(of id: String) -> Int32? {
        guard let bytes = try? FileSystem.readBytes(directory(id).record) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let key = text.firstRange(of: "\"ownerPID\"") else { return nil }
        let value = text[key.upperBound...].drop { $0 == " " || $0 == ":" }.prefix { $0.isASCII && $0.isNumber }
        return Int32(value)
    }

    /// IDs of every container directory (without reading records).
    func ids() throws(IntermodalError) -> [String] {
        try FileSystem.list(root).filter { !$0.hasPrefix(".") }
    }

    /// Every record, oldest first. A directory whose record is missing or unreadable is listed as
    /// a ``placeholder(id:problem:)`` (so `ps -a` shows it and `rm` removes it), never skipped.
    func all() throws(IntermodalError) -> [ContainerRecord] {
        var records: [ContainerRecord] = []
        for id in try ids() {
            records.append(try loadOrPlaceholder(id: id))
        }
        return records.sorted { $0.createdUnix < $1.createdUnix }
    }

    /// The record of `id`, or a placeholder when the directory exists but its record does not
    /// decode (or is missing). `.notFound` when there is no such directory.
    func loadOrPlaceholder(id: String) throws(IntermodalError) -> ContainerRecord {
        do {
            return try load(id: id)
        } catch where FileSystem.isDirectory(directory(id).path) && Identifiers.isID(id) {
            return placeholder(id: id, problem: error)
        }
    }

    /// What is known of a container whose record cannot be read: its ID, the time its directory
    /// was made, and why. Status `exited` (nothing can run from it); `rm` undoes every part by ID.
    func placeholder(id: String, problem: IntermodalError) -> ContainerRecord {
        let dir = directory(id)
        var st = stat()
        let made = stat(dir.path.string, &st) == 0 ? Double(st.st_mtim.tv_sec) : 0
        return ContainerRecord(
            id: id, name: String(id.prefix(12)), image: "<unknown>", imageID: "", entrypoint: [], command: [],
            created: WallClock.rfc3339(made), createdUnix: made, status: .exited, exitCode: nil,
            error: "its record is unreadable (\(problem.description)): `intermodal rm -f \(id.prefix(12))` removes it",
            pid: nil, ownerPID: nil, network: .bridge, logPath: dir.log.string, rootfsMode: .overlay,
            autoRemove: false, buildStep: false, options: RunOptions(), timestamps: PhaseTimestamps(), damaged: true)
    }

    /// Finds a container by full ID, name or unique ID prefix, like Docker; reads only the records
    /// it has to.
    func find(_ reference: String) throws(IntermodalError) -> ContainerRecord {
        guard !reference.isEmpty else { throw IntermodalError(.invalidArgument, "empty container name or ID") }
        if FileSystem.isDirectory(directory(reference).path), Identifiers.isID(reference) { return try loadOrPlaceholder(id: reference) }
        if let id = names.owner(of: reference), exists(id), let r = try? load(id: id), r.name == reference { return r }
        let matches = try ids().filter { $0.hasPrefix(reference) }
        if matches.count == 1, let r = try? loadOrPlaceholder(id: matches[0]) { return r }
        if matches.count > 1 {
            throw IntermodalError(.invalidArgument, "container ID prefix '\(reference)' is ambiguous (\(matches.count) containers)")
        }
        // A store whose index is being built by another process: the slow way.
        if !FileSystem.isDirectory(names.directory), let r = try all().first(where: { $0.name == reference }) { return r }
        throw IntermodalError(.notFound, "no such container: \(reference)")
    }
}
