import IntermodalCore
import SystemPackage

/// Writes ``CgroupResources`` into one cgroup v2 directory, converting v1-style values the way
/// runc does so that the same config.json means the same thing on both.
enum V2Limits {
    /// The v2 controllers that `r` needs switched on.
    static func controllersNeeded(_ r: CgroupResources) -> [String] {
        var c: [String] = []
        if r.memoryLimit != nil || r.memoryReservation != nil || r.memorySwap != nil { c.append("memory") }
        if r.cpuShares != nil || r.cpuQuota != nil || r.cpuPeriod != nil || r.cpuBurst != nil || r.cpuIdle != nil {
            c.append("cpu")
        }
        if r.cpus != nil || r.mems != nil { c.append("cpuset") }
        if r.pidsLimit != nil { c.append("pids") }
        if r.blkioWeight != nil || !r.blkioWeightDevices.isEmpty || !r.blkioThrottleReadBps.isEmpty
            || !r.blkioThrottleWriteBps.isEmpty || !r.blkioThrottleReadIOPS.isEmpty || !r.blkioThrottleWriteIOPS.isEmpty {
            c.append("io")
        }
        if !r.hugepageLimits.isEmpty { c.append("hugetlb") }
        for key in (r.unified ?? [:]).keys {
            if let dot = key.firstIndex(of: "."), key[..<dot] != "cgroup" { c.append(String(key[..<dot])) }
        }
        var seen = Set<String>()
        return c.filter { seen.insert($0).inserted }
    }

    /// v1 cpu.shares (2...262144) to v2 cpu.weight (1...10000), linearly, as runc does.
    static func cpuWeight(shares: Int64) -> Int64 {
        if shares == 0 { return 0 }
        return 1 + ((shares - 2) * 9999) / 262142
    }

    /// v1 blkio.weight (10...1000) to v2 io.weight (1...10000), as runc does.
    static func ioWeight(blkio weight: UInt16) -> UInt64 {
        if weight == 0 { return 0 }
        return 1 + (UInt64(weight) - 10) * 9999 / 990
    }

    /// `memory.swap.max` from the spec's memory+swap value: v2 limits swap alone.
    /// nil: leave the file alone. Mirrors runc's ConvertMemorySwapToCgroupV2Value.
    static func swapMax(memorySwap: Int64?, memory: Int64?) throws(IntermodalError) -> String? {
        let memory = memory ?? 0
        guard let swap = memorySwap else { return memory == -1 ? "max" : nil }
        if swap == -1 { return "max" }
        if swap == 0 { return memory == -1 ? "max" : nil }
        if memory == 0 || memory == -1 {
            throw IntermodalError(.invalidArgument, "memory.swap (\(swap)) cannot be set without a memory.limit")
        }
        if swap < memory {
            throw IntermodalError(
                .invalidArgument,
                "memory.swap (\(swap)) is the memory+swap limit and must be at least memory.limit (\(memory))")
        }
        return String(swap - memory)
    }

    /// `cpu.max` ("quota period", quota "max" for none), or nil to leave it.
    static func cpuMax(quota: Int64?, period: UInt64?) -> String? {
        guard quota != nil || period != nil else { return nil }
        let q = quota.map { $0 > 0 ? String($0) : "max" } ?? "max"
        return "\(q) \(period ?? 100_000)"
    }

    static func apply(_ r: CgroupResources, to dir: Cgroup.Directory) throws(IntermodalError) {
        let path = dir.path
        func need(_ controller: String, for what: String) throws(IntermodalError) {
            guard dir.controllers.contains(controller) else {
                throw IntermodalError(
                    .unsupported,
                    "\(what) needs the cgroup v2 \"\(controller)\" controller, which \(path)/cgroup.controllers does not list (has: \(dir.controllers.joined(separator: " ")))")
            }
        }

        if r.memoryLimit != nil || r.memorySwap != nil || r.memoryReservation != nil {
            try need("memory", for: "a memory limit")
            if let limit = r.memoryLimit { try CgroupFiles.write(limit < 0 ? "max" : String(limit), to: path, "memory.max") }
            if let swap = try swapMax(memorySwap: r.memorySwap, memory: r.memoryLimit) {
                if CgroupFiles.exists(path + "/" + "memory.swap.max") {
                    try CgroupFiles.write(swap, to: path, "memory.swap.max")
                } else if r.memorySwap != nil && r.memorySwap != -1 {
                    throw IntermodalError(
                        .unsupported, "memory.swap needs swap accounting: \(path)/memory.swap.max does not exist")
                }
            }
            if let low = r.memoryReservation { try CgroupFiles.write(low < 0 ? "max" : String(low), to: path, "memory.low") }
        }

        if r.cpuShares != nil || r.cpuQuota != nil || r.cpuPeriod != nil {
            try need("cpu", for: "a cpu shares/quota/period setting")
            if let shares = r.cpuShares, shares != 0 {
                try CgroupFiles.write(String(cpuWeight(shares: shares)), to: path, "cpu.weight")
            }
            if let max = cpuMax(quota: r.cpuQuota, period: r.cpuPeriod) { try CgroupFiles.write(max, to: path, "cpu.max") }
        }
        if let burst = r.cpuBurst {
            try need("cpu", for: "cpu.burst")
            try CgroupFiles.write(String(burst), to: path, "cpu.max.burst")
        }
        if let idle = r.cpuIdle {
            try need("cpu", for: "cpu.idle")
            try CgroupFiles.write(String(idle), to: path, "cpu.idle")
        }
        if r.cpuRealtimeRuntime != nil || r.cpuRealtimePeriod != nil {
            throw IntermodalError(.unsupported, "cpu.realtimeRuntime/realtimePeriod need cgroup v1 (v2 has no real-time group scheduling)")
        }
        if r.memorySwappiness != nil {
            throw IntermodalError(.unsupported, "memory.swappiness needs cgroup v1 (v2 has no per-cgroup swappiness)")
        }
        if r.disableOOMKiller == true {
            throw IntermodalError(.unsupported, "memory.disableOOMKiller needs cgroup v1 (v2 cannot exempt a cgroup from the OOM killer)")
        }

        if (r.cpus ?? "").isEmpty == false || (r.mems ?? "").isEmpty == false {
            try need("cpuset", for: "a cpuset (cpus/mems)")
            if let cpus = r.cpus, !cpus.isEmpty { try CgroupFiles.write(cpus, to: path, "cpuset.cpus") }
            if let mems = r.mems, !mems.isEmpty { try CgroupFiles.write(mems, to: path, "cpuset.mems") }
        }

        if let pids = r.pidsLimit {
            try need("pids", for: "a pids limit")
            try CgroupFiles.write(pids > 0 ? String(pids) : "max", to: path, "pids.max")
        }

        if let weight = r.blkioWeight, weight != 0 {
            try need("io", for: "a blkio weight")
            // With BFQ the v1-range weight goes to io.bfq.weight unchanged; otherwise io.weight, converted.
            if CgroupFiles.exists(path + "/" + "io.bfq.weight") {
                try CgroupFiles.write(String(weight), to: path, "io.bfq.weight")
            } else {
                try CgroupFiles.write(String(ioWeight(blkio: weight)), to: path, "io.weight")
            }
        }

        if !r.blkioWeightDevices.isEmpty {
            try need("io", for: "blockIO.weightDevice")
            for d in r.blkioWeightDevices {
                if CgroupFiles.exists(path + "/" + "io.bfq.weight") {
                    try CgroupFiles.write("\(d.major):\(d.minor) \(d.weight)", to: path, "io.bfq.weight")
                } else {
                    try CgroupFiles.write("\(d.major):\(d.minor) \(ioWeight(blkio: d.weight))", to: path, "io.weight")
                }
            }
        }
        // All throttles of one device go into one io.max line.
        var limits: [String: [String]] = [:]
        var order: [String] = []
        for (key, rates) in [("rbps", r.blkioThrottleReadBps), ("wbps", r.blkioThrottleWriteBps),
                             ("riops", r.blkioThrottleReadIOPS), ("wiops", r.blkioThrottleWriteIOPS)] {
            for rate in rates {
                let device = "\(rate.major):\(rate.minor)"
                if limits[device] == nil { order.append(device) }
                limits[device, default: []].append("\(key)=\(rate.rate)")
            }
        }
        if !order.isEmpty {
            try need("io", for: "blockIO throttling")
            for device in order {
                try CgroupFiles.write(([device] + limits[device]!).joined(separator: " "), to: path, "io.max")
            }
        }

        if !r.hugepageLimits.isEmpty {
            try need("hugetlb", for: "hugepageLimits")
            for l in r.hugepageLimits {
                let size = try HugePageSizes.validate(l.pageSize)
                try CgroupFiles.write(String(l.limit), to: path, "hugetlb.\(size).max")
            }
        }

        if !r.devices.isEmpty { try DeviceFilter.attach(r.devices, to: path) }

        if let unified = r.unified { try writeUnified(unified, to: path) }
    }

    /// Raw `linux.resources.unified` files, in key order so that the result does not depend on
    /// dictionary order. Keys are file names in the cgroup directory, nothing else.
    static func writeUnified(_ files: [String: String], to path: String) throws(IntermodalError) {
        for key in files.keys.sorted() {
            guard !key.isEmpty, !key.contains("/"), key != ".", key != "..", key.contains(".") else {
                throw IntermodalError(.invalidArgument, "linux.resources.unified key \"\(key)\" is not a cgroup file name")
            }
            guard CgroupFiles.exists(path + "/" + key) else {
                throw IntermodalError(
                    .unsupported, "linux.resources.unified key \"\(key)\": \(path)/\(key) does not exist (controller not enabled?)")
            }
            try CgroupFiles.write(files[key]!, to: path, key)
        }
    }
}
