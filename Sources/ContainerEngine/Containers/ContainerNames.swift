#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The name index: `<root>/containers/.names/<name>` holds the ID of the container that has the
/// name. Checking or taking a name is one `open(O_EXCL)` instead of decoding every record, so a
/// `run` costs the same with 2 or 2,000 stopped containers in `ps -a`.
///
/// Callers hold the registry lock while they take or release names, and a container's directory
/// appears in the same locked section as its name. So an entry whose container does not exist was
/// left by a crash (or by a removal past its point of no return) and may be taken over.
struct ContainerNames {
    let directory: FilePath

    init(registryRoot: FilePath) {
        directory = registryRoot.appending(".names")
    }

    /// Makes the index when it is missing: from the records of a store written before it existed.
    /// Under the registry lock.
    func prepare(existing: () throws(IntermodalError) -> [ContainerRecord]) throws(IntermodalError) {
        if FileSystem.isDirectory(directory) { return }
        // Built aside and renamed into place, so the index is complete or absent.
        let building = try FileSystem.makeTemporaryDirectory(prefix: ".names-building", in: directory.removingLastComponent())
        do throws(IntermodalError) {
            for record in try existing() { _ = try write(record.name, id: record.id, in: building) }
            guard rename(building.string, directory.string) == 0 else { throw IntermodalError.system("cannot create \(directory)") }
        } catch {
            try? FileSystem.removeTree(building)
            throw error
        }
    }

    /// Takes `name` for `id`; false when a live container has it. Under the registry lock.
    func reserve(_ name: String, id: String, isLive: (String) -> Bool) throws(IntermodalError) -> Bool {
        if try write(name, id: id, in: directory) { return true }
        guard let owner = self.owner(of: name), !isLive(owner) else { return false }
        // Left behind by a crash: the name is free.
        unlink(directory.appending(name).string)
        return try write(name, id: id, in: directory)
    }

    /// The ID of the container that has `name`, if the index names one.
    func owner(of name: String) -> String? {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."),
              let bytes = try? FileSystem.readBytes(directory.appending(name)) else { return nil }
        let id = String(decoding: bytes, as: UTF8.self)
        return id.isEmpty ? nil : id
    }

    /// Gives `name` up if `id` still has it. Under the registry lock.
    func release(_ name: String, id: String) {
        guard owner(of: name) == id else { return }
        unlink(directory.appending(name).string)
    }

    /// `O_EXCL`: false when the entry exists. The file is written once and is tiny, so it never
    /// costs a block on the disk unless it outlives the page cache's write-back delay.
    private func write(_ name: String, id: String, in dir: FilePath) throws(IntermodalError) -> Bool {
        let path = dir.appending(name)
        let fd = open(path.string, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw .system("cannot record the container name \(name)")
        }
        defer { close(fd) }
        let bytes = Array(id.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            let e = errno
            unlink(path.string)
            throw .system("cannot record the container name \(name)", errno: e)
        }
        return true
    }
}
