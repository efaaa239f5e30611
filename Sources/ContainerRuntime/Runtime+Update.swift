import IntermodalCore
import SystemPackage

extension Runtime {
    /// Writes new limits into the running container's cgroup (`runc update`): memory, CPU,
    /// cpuset, pids, block I/O and unified keys. Absent and zero fields leave the current value
    /// (as in runc); device rules and hugepage limits are not updated (nor in runc).
    public func update(id: String, resources: Spec.LinuxResources) throws(IntermodalError) {
        let record = try store.read(id)
        guard status(of: record) != .stopped else {
            throw IntermodalError(.invalidState, "container \(id) is not running")
        }
        guard let cgroup = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated) else {
            throw IntermodalError(.unsupported, "container \(id) has no cgroup to update (no cgroupsPath or resources in its config.json)")
        }
        var r = resources
        r.devices = nil
        r.hugepageLimits = nil
        let limits = try ResourceSetup.cgroupResources(r, devices: [])
        do {
            try ResourceSetup.hostManager().apply(limits, to: cgroup.cgroup)
        } catch {
            throw IntermodalError(error.code, "update of container \(id): \(error.message)", cause: error.cause)
        }
    }
}
