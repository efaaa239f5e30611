import IntermodalCore

/// The cgroup of one container, as far as the lifecycle needs it. Backed by the cgroups
/// module (contract B) once it is in the tree.
struct ContainerCgroup: Sendable {
    var paths: [String]
    func add(pid: Int32) throws(IntermodalError) {}
    func killAll(signal: Int32) throws(IntermodalError) {}
    func destroy() throws(IntermodalError) {}
    static func reopen(paths: [String]) -> ContainerCgroup? { paths.isEmpty ? nil : ContainerCgroup(paths: paths) }
}

enum ResourceSetup {
    /// Creates the container's cgroup when the spec asks for one (cgroupsPath or limits).
    static func cgroup(for spec: Spec, id: String) throws(IntermodalError) -> ContainerCgroup? {
        let r = spec.linux?.resources
        let limits = r?.memory != nil || r?.cpu != nil || r?.pids != nil || r?.blockIO != nil
            || !(r?.hugepageLimits ?? []).isEmpty || !(r?.unified ?? [:]).isEmpty
        if limits {
            throw IntermodalError(.unsupported, "config.json: linux.resources: cgroup limits are not available in this build yet")
        }
        return nil
    }

    /// The BPF program for `linux.seccomp`, or nil.
    static func seccomp(for spec: Spec) throws(IntermodalError) -> [UInt8]? {
        guard spec.linux?.seccomp != nil else { return nil }
        throw IntermodalError(.unsupported, "config.json: linux.seccomp: the seccomp compiler is not available in this build yet")
    }
}
