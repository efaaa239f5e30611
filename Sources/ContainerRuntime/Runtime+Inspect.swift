import IntermodalCore
import SystemPackage

extension Runtime {
    /// The host pids of every process in the container `id` (`runc ps --format json`): its
    /// cgroup's, or without one its init alone.
    public func processes(id: String) throws(IntermodalError) -> [Int32] {
        let record = try store.read(id)
        guard status(of: record) != .stopped else { return [] }
        if let cgroup = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated) {
            return try cgroup.cgroup.processes()
        }
        return record.pid > 0 ? [record.pid] : []
    }

    /// Memory, CPU, I/O and pids use of the container `id` (`runc events --stats`).
    public func stats(id: String) throws(IntermodalError) -> CgroupStats {
        let record = try store.read(id)
        guard status(of: record) != .stopped else {
            throw IntermodalError(.invalidState, "container \(id) is not running")
        }
        guard let cgroup = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated) else {
            throw IntermodalError(.unsupported, "container \(id) has no cgroup to read statistics from")
        }
        return try cgroup.cgroup.stats()
    }
}
