import IntermodalCore
import SystemPackage

/// The cgroup of one container as the lifecycle uses it (contract B's ``Cgroup``), with the
/// directories recorded in the state so that `delete` in another process removes them.
struct ContainerCgroup: Sendable {
    var cgroup: Cgroup
    var paths: [String] { cgroup.paths.map(\.string) }
    var created: [String] { cgroup.createdPaths.map(\.string) }

    func add(pid: Int32) throws(IntermodalError) { try cgroup.add(pid: pid) }
    func killAll(signal: Int32) throws(IntermodalError) { try cgroup.killAll(signal: signal) }
    func destroy() throws(IntermodalError) { try cgroup.destroy() }

    static func reopen(paths: [String], created: [String]) -> ContainerCgroup? {
        guard !paths.isEmpty else { return nil }
        return ContainerCgroup(cgroup: Cgroup.reopen(paths: paths.map { FilePath($0) }, created: created.map { FilePath($0) }))
    }
}

enum ResourceSetup {
    /// The host's cgroup layout, read once per process.
    nonisolated(unsafe) private static var manager: CgroupManager?

    /// Creates the container's cgroup when the spec names a `cgroupsPath` or has `resources`
    /// (as runc does); the default path is `/intermodal-<id>` in every hierarchy.
    /// The cgroup path a container gets (`linux.cgroupsPath`, else `/intermodal-<id>`), or nil
    /// when it gets no cgroup.
    static func cgroupPath(for spec: Spec, id: String) -> String? {
        let linux = spec.linux
        guard linux?.cgroupsPath != nil || linux?.resources != nil else { return nil }
        return linux?.cgroupsPath.flatMap { $0.isEmpty ? nil : $0 } ?? "/intermodal-\(id)"
    }

    static func cgroup(for spec: Spec, id: String) throws(IntermodalError) -> ContainerCgroup? {
        let linux = spec.linux
        guard let path = cgroupPath(for: spec, id: id) else { return nil }
        let resources = try cgroupResources(linux?.resources, devices: linux?.devices ?? [])
        let manager = try hostManager()
        do {
            return ContainerCgroup(cgroup: try manager.create(path: path, resources: resources))
        } catch {
            throw IntermodalError(error.code, "config.json: linux.resources / cgroupsPath \"\(path)\": \(error.message)", cause: error.cause)
        }
    }

    /// The host's cgroup layout (detected at first use in this process).
    static func hostManager() throws(IntermodalError) -> CgroupManager {
        if let manager { return manager }
        let detected = try CgroupManager.detect()
        manager = detected
        return detected
    }

    /// Spec.LinuxResources -> contract B's CgroupResources. A zero that engines write for "not
    /// set" (docker's `blockIO.weight: 0`, `cpu.shares: 0`) means not set, as in runc, which
    /// writes these only when non-zero: cpu.shares 0 would become the kernel's minimum, 2.
    static func cgroupResources(_ r: Spec.LinuxResources?, devices: [Spec.Device]) throws(IntermodalError) -> CgroupResources {
        var c = try convertedResources(r, devices: devices)
        func unsetZero<T: BinaryInteger>(_ v: inout T?) { if v == 0 { v = nil } }
        unsetZero(&c.memoryLimit)
        unsetZero(&c.memoryReservation)
        unsetZero(&c.memorySwap)
        unsetZero(&c.cpuShares)
        unsetZero(&c.cpuQuota)
        unsetZero(&c.cpuPeriod)
        unsetZero(&c.cpuRealtimeRuntime)
        unsetZero(&c.cpuRealtimePeriod)
        unsetZero(&c.pidsLimit)
        unsetZero(&c.blkioWeight)
        c.blkioWeightDevices = c.blkioWeightDevices.filter { $0.weight != 0 }
        return c
    }

    /// Spec.LinuxResources -> contract B's CgroupResources, field for field.
    private static func convertedResources(_ r: Spec.LinuxResources?, devices: [Spec.Device]) throws(IntermodalError) -> CgroupResources {
        guard let r else { return CgroupResources() }
        var c = CgroupResources()
        c.memoryLimit = r.memory?.limit
        c.memoryReservation = r.memory?.reservation
        c.memorySwap = r.memory?.swap
        c.memorySwappiness = r.memory?.swappiness
        c.disableOOMKiller = r.memory?.disableOOMKiller
        if let shares = r.cpu?.shares {
            guard shares <= UInt64(Int64.max) else {
                throw IntermodalError(.invalidArgument, "config.json: linux.resources.cpu.shares: \(shares) is out of range")
            }
            c.cpuShares = Int64(shares)
        }
        c.cpuQuota = r.cpu?.quota
        c.cpuPeriod = r.cpu?.period
        c.cpuBurst = r.cpu?.burst
        c.cpuRealtimeRuntime = r.cpu?.realtimeRuntime
        c.cpuRealtimePeriod = r.cpu?.realtimePeriod
        c.cpuIdle = r.cpu?.idle
        c.cpus = r.cpu?.cpus.flatMap { $0.isEmpty ? nil : $0 }
        c.mems = r.cpu?.mems.flatMap { $0.isEmpty ? nil : $0 }
        c.pidsLimit = r.pids?.limit
        c.blkioWeight = r.blockIO?.weight
        c.blkioWeightDevices = (r.blockIO?.weightDevice ?? []).compactMap { d in
            d.weight.map { BlockIODeviceWeight(major: d.major, minor: d.minor, weight: $0) }
        }
        func rates(_ list: [Spec.ThrottleDevice]?) -> [BlockIODeviceRate] {
            (list ?? []).map { BlockIODeviceRate(major: $0.major, minor: $0.minor, rate: $0.rate) }
        }
        c.blkioThrottleReadBps = rates(r.blockIO?.throttleReadBpsDevice)
        c.blkioThrottleWriteBps = rates(r.blockIO?.throttleWriteBpsDevice)
        c.blkioThrottleReadIOPS = rates(r.blockIO?.throttleReadIOPSDevice)
        c.blkioThrottleWriteIOPS = rates(r.blockIO?.throttleWriteIOPSDevice)
        c.hugepageLimits = (r.hugepageLimits ?? []).map { HugepageLimit(pageSize: $0.pageSize, limit: $0.limit) }
        c.unified = r.unified
        if let rules = r.devices {
            // The spec's rules, then (as runc does) the default devices and linux.devices allowed.
            var list = rules.map { d in
                CgroupDeviceRule(allow: d.allow, type: d.type ?? "a", major: d.major, minor: d.minor, access: d.access ?? "rwm")
            }
            list += CgroupDeviceRule.defaultRules.filter(\.allow)
            list += devices.filter { $0.type != "p" }.map {
                CgroupDeviceRule(allow: true, type: $0.type == "b" ? "b" : "c", major: $0.major, minor: $0.minor, access: "rwm")
            }
            c.devices = list
        }
        return c
    }

    /// The BPF program for `linux.seccomp`, compiled in the parent with libseccomp, or nil.
    static func seccomp(for spec: Spec) throws(IntermodalError) -> SeccompProgram? {
        guard let s = spec.linux?.seccomp else { return nil }
        let profile = SeccompProfile(
            defaultAction: s.defaultAction, defaultErrnoRet: s.defaultErrnoRet,
            architectures: s.architectures ?? [], flags: s.flags ?? [],
            syscalls: (s.syscalls ?? []).map { rule in
                SeccompProfile.Rule(
                    names: rule.names, action: rule.action, errnoRet: rule.errnoRet,
                    args: (rule.args ?? []).map {
                        SeccompProfile.Arg(index: UInt32($0.index), value: $0.value, valueTwo: $0.valueTwo ?? 0, op: $0.op)
                    })
            })
        do {
            return try profile.compile()
        } catch {
            throw IntermodalError(error.code, "config.json: linux.seccomp: \(error.message)", cause: error.cause)
        }
    }
}
