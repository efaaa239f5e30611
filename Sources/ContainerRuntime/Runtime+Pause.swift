import IntermodalCore
import SystemPackage

extension Runtime {
    /// Freezes every process of the running container `id` (`runc pause`): cgroup v1's freezer
    /// or cgroup2's `cgroup.freeze`.
    public func pause(id: String) throws(IntermodalError) {
        try freeze(id: id, true)
    }

    /// Thaws a paused container (`runc resume`).
    public func resume(id: String) throws(IntermodalError) {
        try freeze(id: id, false)
    }

    private func freeze(id: String, _ on: Bool) throws(IntermodalError) {
        let record = try store.read(id)
        let status = status(of: record)
        guard status == .running || status == .created else {
            throw IntermodalError(.invalidState, "container \(id) is not running")
        }
        guard paused(record) != on else {
            throw IntermodalError(.invalidState, "container \(id) is \(on ? "already paused" : "not paused")")
        }
        guard let cgroup = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated) else {
            throw IntermodalError(.unsupported, "container \(id) has no cgroup to freeze (no cgroupsPath or resources in its config.json)")
        }
        guard cgroup.cgroup.freeze(on) else {
            throw IntermodalError(
                .unsupported, "cannot \(on ? "freeze" : "thaw") container \(id): no freezer in its cgroup (\(record.cgroupPaths.joined(separator: ", "))), or it did not settle within 1 s")
        }
    }

    /// Whether the container's cgroup is frozen, as ``Cgroup/freeze(_:)`` chooses the freezer (v1's
    /// first). Only the freezer's own directory is read (found by its mount's name, no listing),
    /// so that `state`, which engines call often, stays cheap.
    func paused(_ record: ContainerRecord) -> Bool {
        let paths = record.cgroupPaths
        if let v1 = paths.first(where: { $0.contains("/freezer") }),
           let state = try? CgroupFiles.read(v1, "freezer.state") {
            return state == "FROZEN"
        }
        // The unified directory: the only one (cgroup2 hosts) or under ".../unified" (hybrid).
        for path in paths where paths.count == 1 || path.contains("/unified") {
            if let frozen = try? CgroupFiles.read(path, "cgroup.freeze") { return frozen == "1" }
        }
        return false
    }
}
