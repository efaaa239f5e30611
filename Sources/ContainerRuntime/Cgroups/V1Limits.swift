import IntermodalCore
import SystemPackage

/// Writes ``CgroupResources`` into cgroup v1 hierarchies, file by file, in the order the kernel
/// needs (memory before memory+swap, period before quota).
enum V1Limits {
    static func apply(
        _ r: CgroupResources, to directories: [Cgroup.Directory], hugetlbInUnified: Cgroup.Directory?
    ) throws(IntermodalError) {
        func dir(_ controller: String, for what: String) throws(IntermodalError) -> String {
            guard let d = directories.first(where: { $0.controllers.contains(controller) }) else {
                throw IntermodalError(
                    .unsupported, "\(what) needs the cgroup v1 \"\(controller)\" controller, which is not mounted here")
            }
            return d.path
        }

        // Memory: the memory+swap limit may never be below the memory limit, so the plain limit goes first.
        if r.memoryLimit != nil || r.memorySwap != nil || r.memoryReservation != nil {
            let m = try dir("memory", for: "a memory limit")
            if let limit = r.memoryLimit, let swap = r.memorySwap, limit > 0, swap > 0, swap < limit {
                throw IntermodalError(
                    .invalidArgument,
                    "memory.swap (\(swap)) is the memory+swap limit and must be at least memory.limit (\(limit))")
            }
            if r.memorySwap != nil && !CgroupFiles.exists(m + "/memory.memsw.limit_in_bytes") {
                throw IntermodalError(
                    .unsupported,
                    "memory.swap needs swap accounting: \(m)/memory.memsw.limit_in_bytes does not exist (boot with swapaccount=1)")
            }
            var swapWritten = false
            if let limit = r.memoryLimit {
                do {
                    try CgroupFiles.write(String(limit), to: m, "memory.limit_in_bytes")
                } catch {
                    // Raising both on a live cgroup (update): the kernel refuses a memory limit above
                    // the current memory+swap limit, so that one has to go first.
                    guard let swap = r.memorySwap, (error.cause as? Errno) == .invalidArgument else { throw error }
                    try CgroupFiles.write(String(swap), to: m, "memory.memsw.limit_in_bytes")
                    try CgroupFiles.write(String(limit), to: m, "memory.limit_in_bytes")
                    swapWritten = true
                }
            }
            if let swap = r.memorySwap, !swapWritten {
                try CgroupFiles.write(String(swap), to: m, "memory.memsw.limit_in_bytes")
            }
            if let soft = r.memoryReservation { try CgroupFiles.write(String(soft), to: m, "memory.soft_limit_in_bytes") }
        }
        if let swappiness = r.memorySwappiness {
            guard swappiness <= 100 else {
                throw IntermodalError(.invalidArgument, "memory.swappiness \(swappiness) is not within 0...100")
            }
            try CgroupFiles.write(String(swappiness), to: try dir("memory", for: "memory.swappiness"), "memory.swappiness")
        }
        if r.disableOOMKiller == true {
            try CgroupFiles.write("1", to: try dir("memory", for: "memory.disableOOMKiller"), "memory.oom_control")
        }

        if r.cpuShares != nil || r.cpuQuota != nil || r.cpuPeriod != nil {
            let c = try dir("cpu", for: "a cpu shares/quota/period setting")
            if let shares = r.cpuShares { try CgroupFiles.write(String(shares), to: c, "cpu.shares") }
            if let period = r.cpuPeriod { try CgroupFiles.write(String(period), to: c, "cpu.cfs_period_us") }
            if let quota = r.cpuQuota { try CgroupFiles.write(String(quota > 0 ? quota : -1), to: c, "cpu.cfs_quota_us") }
        }
        if r.cpuBurst != nil || r.cpuRealtimeRuntime != nil || r.cpuRealtimePeriod != nil || r.cpuIdle != nil {
            let c = try dir("cpu", for: "a cpu burst/realtime/idle setting")
            if let burst = r.cpuBurst { try CgroupFiles.write(String(burst), to: c, "cpu.cfs_burst_us") }
            // The period first: the kernel checks runtime against it.
            if let period = r.cpuRealtimePeriod { try CgroupFiles.write(String(period), to: c, "cpu.rt_period_us") }
            if let runtime = r.cpuRealtimeRuntime { try CgroupFiles.write(String(runtime), to: c, "cpu.rt_runtime_us") }
            if let idle = r.cpuIdle { try CgroupFiles.write(String(idle), to: c, "cpu.idle") }
        }

        if r.cpus != nil || r.mems != nil {
            let c = try dir("cpuset", for: "a cpuset (cpus/mems)")
            if let cpus = r.cpus, !cpus.isEmpty { try CgroupFiles.write(cpus, to: c, "cpuset.cpus") }
            if let mems = r.mems, !mems.isEmpty { try CgroupFiles.write(mems, to: c, "cpuset.mems") }
        }

        if let pids = r.pidsLimit {
            let p = try dir("pids", for: "a pids limit")
            try CgroupFiles.write(pids > 0 ? String(pids) : "max", to: p, "pids.max")
        }

        if let weight = r.blkioWeight {
            let b = try dir("blkio", for: "a blkio weight")
            // With the BFQ scheduler the weight lives in blkio.bfq.weight; CFQ had blkio.weight.
            let file = CgroupFiles.exists(b + "/" + "blkio.bfq.weight") ? "blkio.bfq.weight" : "blkio.weight"
            guard CgroupFiles.exists(b + "/" + file) else {
                throw IntermodalError(
                    .unsupported,
                    "blockIO.weight needs a proportional I/O scheduler (BFQ): neither blkio.bfq.weight nor blkio.weight exists in \(b)")
            }
            try CgroupFiles.write(String(weight), to: b, file)
        }

        let throttles = [
            ("blkio.throttle.read_bps_device", r.blkioThrottleReadBps),
            ("blkio.throttle.write_bps_device", r.blkioThrottleWriteBps),
            ("blkio.throttle.read_iops_device", r.blkioThrottleReadIOPS),
            ("blkio.throttle.write_iops_device", r.blkioThrottleWriteIOPS),
        ]
        if !r.blkioWeightDevices.isEmpty || throttles.contains(where: { !$0.1.isEmpty }) {
            let b = try dir("blkio", for: "a blockIO device setting")
            for d in r.blkioWeightDevices {
                let file = CgroupFiles.exists(b + "/" + "blkio.bfq.weight_device") ? "blkio.bfq.weight_device" : "blkio.weight_device"
                try CgroupFiles.write("\(d.major):\(d.minor) \(d.weight)", to: b, file)
            }
            for (file, rates) in throttles {
                for rate in rates { try CgroupFiles.write(rate.v1Line, to: b, file) }
            }
        }

        if !r.hugepageLimits.isEmpty {
            if let h = directories.first(where: { $0.controllers.contains("hugetlb") }) {
                for l in r.hugepageLimits {
                    let size = try HugePageSizes.validate(l.pageSize)
                    try CgroupFiles.write(String(l.limit), to: h.path, "hugetlb.\(size).limit_in_bytes")
                }
            } else if let u = hugetlbInUnified, u.controllers.contains("hugetlb") {
                // Hybrid hosts: hugetlb was left to the unified hierarchy.
                for l in r.hugepageLimits {
                    let size = try HugePageSizes.validate(l.pageSize)
                    try CgroupFiles.write(String(l.limit), to: u.path, "hugetlb.\(size).max")
                }
            } else {
                throw IntermodalError(.unsupported, "hugepageLimits need the hugetlb controller, which this host does not offer")
            }
        }

        if !r.devices.isEmpty {
            let d = try dir("devices", for: "device rules")
            for rule in r.devices {
                guard ["a", "b", "c"].contains(rule.type) else {
                    throw IntermodalError(.invalidArgument, "device rule type \"\(rule.type)\" is not one of a, b, c")
                }
                guard !rule.access.isEmpty, rule.access.allSatisfy({ "rwm".contains($0) }) else {
                    throw IntermodalError(.invalidArgument, "device rule access \"\(rule.access)\" is not made of r, w, m")
                }
            }
            try CgroupFiles.writeEach(r.devices.map { ($0.allow ? "devices.allow" : "devices.deny", $0.line) }, in: d)
        }
    }
}

/// The huge page sizes this kernel supports, named as the cgroup files name them ("2MB", "1GB").
enum HugePageSizes {
    /// From `/sys/kernel/mm/hugepages/hugepages-2048kB` and friends.
    static func available() -> [String] {
        let names = CgroupFiles.list("/sys/kernel/mm/hugepages")
        return names.compactMap { name -> String? in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
                  let kb = UInt64(name.dropFirst("hugepages-".count).dropLast(2)) else { return nil }
            return format(kilobytes: kb)
        }
    }

    static func format(kilobytes kb: UInt64) -> String {
        if kb >= 1 << 20, kb % (1 << 20) == 0 { return "\(kb >> 20)GB" }
        if kb >= 1 << 10, kb % (1 << 10) == 0 { return "\(kb >> 10)MB" }
        return "\(kb)KB"
    }

    /// Checks a spec page size against the kernel's list; the error lists what exists.
    static func validate(_ pageSize: String) throws(IntermodalError) -> String {
        let sizes = available()
        guard sizes.contains(pageSize) else {
            throw IntermodalError(
                .invalidArgument,
                "hugepageLimits pageSize \"\(pageSize)\" is not a huge page size of this kernel (have: \(sizes.joined(separator: ", ")))")
        }
        return pageSize
    }
}
