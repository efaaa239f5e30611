/// Resource limits for one container's cgroup, independent of the OCI ``Spec`` types
/// (the runtime maps `linux.resources` onto this). Every field is optional: nil leaves the
/// kernel's default in place.
public struct CgroupResources: Sendable, Equatable {
    /// Hard memory limit in bytes; -1 means unlimited.
    public var memoryLimit: Int64?
    /// Soft limit (v1 `memory.soft_limit_in_bytes`, v2 `memory.low`) in bytes; -1 means unlimited.
    public var memoryReservation: Int64?
    /// Memory plus swap limit in bytes as in the OCI spec; -1 means unlimited swap.
    public var memorySwap: Int64?
    /// Relative CPU weight in v1 units (2...262144); converted for v2 as runc does.
    public var cpuShares: Int64?
    /// Microseconds of CPU time per period; -1 or 0 removes the cap.
    public var cpuQuota: Int64?
    /// CFS period in microseconds.
    public var cpuPeriod: UInt64?
    /// CPUs to run on, in cpuset list form ("0-1,3").
    public var cpus: String?
    /// Memory nodes, in cpuset list form.
    public var mems: String?
    /// Maximum number of tasks; 0 or negative means unlimited.
    public var pidsLimit: Int64?
    /// Block I/O weight (10...1000).
    public var blkioWeight: UInt16?
    /// Huge page limits per page size.
    public var hugepageLimits: [HugepageLimit]
    /// Device access rules, applied in order: v1 devices.allow/deny, or on v2 an eBPF device program.
    public var devices: [CgroupDeviceRule]
    /// Raw cgroup v2 files to write (`"memory.high": "100M"`), after the typed limits.
    public var unified: [String: String]?

    // Less common settings of the spec; each is an `.unsupported` error where the host cannot honour it.

    /// v1 `memory.swappiness` (0...100); v2 has no such knob.
    public var memorySwappiness: UInt64?
    /// true: the OOM killer leaves this cgroup alone (v1 `memory.oom_control`); v2 cannot do that.
    public var disableOOMKiller: Bool?
    /// CFS burst in microseconds (v1 `cpu.cfs_burst_us`, v2 `cpu.max.burst`).
    public var cpuBurst: UInt64?
    /// Real-time runtime and period in microseconds (v1 `cpu.rt_runtime_us` / `cpu.rt_period_us`).
    public var cpuRealtimeRuntime: Int64?
    public var cpuRealtimePeriod: UInt64?
    /// SCHED_IDLE for the cgroup (`cpu.idle`, 0 or 1).
    public var cpuIdle: Int64?
    /// Per-device block I/O weights.
    public var blkioWeightDevices: [BlockIODeviceWeight]
    /// Per-device throttles (bytes or operations per second).
    public var blkioThrottleReadBps: [BlockIODeviceRate]
    public var blkioThrottleWriteBps: [BlockIODeviceRate]
    public var blkioThrottleReadIOPS: [BlockIODeviceRate]
    public var blkioThrottleWriteIOPS: [BlockIODeviceRate]

    public init(
        memoryLimit: Int64? = nil, memoryReservation: Int64? = nil, memorySwap: Int64? = nil,
        cpuShares: Int64? = nil, cpuQuota: Int64? = nil, cpuPeriod: UInt64? = nil,
        cpus: String? = nil, mems: String? = nil, pidsLimit: Int64? = nil, blkioWeight: UInt16? = nil,
        hugepageLimits: [HugepageLimit] = [], devices: [CgroupDeviceRule] = [],
        unified: [String: String]? = nil,
        memorySwappiness: UInt64? = nil, disableOOMKiller: Bool? = nil, cpuBurst: UInt64? = nil,
        cpuRealtimeRuntime: Int64? = nil, cpuRealtimePeriod: UInt64? = nil, cpuIdle: Int64? = nil
    ) {
        self.memoryLimit = memoryLimit
        self.memoryReservation = memoryReservation
        self.memorySwap = memorySwap
        self.cpuShares = cpuShares
        self.cpuQuota = cpuQuota
        self.cpuPeriod = cpuPeriod
        self.cpus = cpus
        self.mems = mems
        self.pidsLimit = pidsLimit
        self.blkioWeight = blkioWeight
        self.hugepageLimits = hugepageLimits
        self.devices = devices
        self.unified = unified
        self.memorySwappiness = memorySwappiness
        self.disableOOMKiller = disableOOMKiller
        self.cpuBurst = cpuBurst
        self.cpuRealtimeRuntime = cpuRealtimeRuntime
        self.cpuRealtimePeriod = cpuRealtimePeriod
        self.cpuIdle = cpuIdle
        self.blkioWeightDevices = []
        self.blkioThrottleReadBps = []
        self.blkioThrottleWriteBps = []
        self.blkioThrottleReadIOPS = []
        self.blkioThrottleWriteIOPS = []
    }

    /// True when nothing is set: the cgroup only groups processes (and gives stats).
    public var isEmpty: Bool { self == CgroupResources() }
}

/// A limit on huge pages of one size.
public struct HugepageLimit: Sendable, Equatable {
    /// The page size as the OCI spec writes it: "2MB", "1GB", "64KB".
    public var pageSize: String
    /// Bytes of huge pages of that size the cgroup may use.
    public var limit: UInt64

    public init(pageSize: String, limit: UInt64) {
        self.pageSize = pageSize
        self.limit = limit
    }
}

/// A block device's I/O weight (`blockIO.weightDevice[]`).
public struct BlockIODeviceWeight: Sendable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var weight: UInt16

    public init(major: Int64, minor: Int64, weight: UInt16) {
        self.major = major
        self.minor = minor
        self.weight = weight
    }
}

/// A block device's throttle rate (`blockIO.throttle*Device[]`).
public struct BlockIODeviceRate: Sendable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var rate: UInt64

    public init(major: Int64, minor: Int64, rate: UInt64) {
        self.major = major
        self.minor = minor
        self.rate = rate
    }

    /// "8:0 1048576", the v1 `blkio.throttle.*_device` line.
    var v1Line: String { "\(major):\(minor) \(rate)" }
}

/// One v1 device-controller rule (`linux.resources.devices[]` in the spec).
public struct CgroupDeviceRule: Sendable, Equatable {
    public var allow: Bool
    /// "a" (all), "c" (char) or "b" (block).
    public var type: String
    /// nil means any (`*`).
    public var major: Int64?
    public var minor: Int64?
    /// Some of "rwm".
    public var access: String

    public init(allow: Bool, type: String = "a", major: Int64? = nil, minor: Int64? = nil, access: String = "rwm") {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// The line the v1 `devices.allow` / `devices.deny` files take: "c 1:3 rwm", "a *:* rwm".
    public var line: String {
        "\(type) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }

    /// The devices every container may use (as runc allows them): deny all first, then
    /// null, zero, full, random, urandom, tty, console, ptmx and the pty slaves, plus mknod of any.
    public static let defaultRules: [CgroupDeviceRule] = [
        CgroupDeviceRule(allow: false, type: "a", access: "rwm"),
        CgroupDeviceRule(allow: true, type: "c", access: "m"),
        CgroupDeviceRule(allow: true, type: "b", access: "m"),
        CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),   // null
        CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),   // zero
        CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),   // full
        CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),   // random
        CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),   // urandom
        CgroupDeviceRule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),   // tty
        CgroupDeviceRule(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),   // console
        CgroupDeviceRule(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),   // ptmx
        CgroupDeviceRule(allow: true, type: "c", major: 136, minor: nil, access: "rwm"), // pts/*
    ]
}

/// What a cgroup has used, for the benchmark harness and tests. nil: not available here.
public struct CgroupStats: Sendable, Equatable {
    /// Memory in use now, bytes (v1 `memory.usage_in_bytes`, v2 `memory.current`).
    public var memoryUsage: UInt64?
    /// Highest memory use seen, bytes (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`).
    public var memoryMaxUsage: UInt64?
    /// CPU time used, nanoseconds (v1 `cpuacct.usage`, v2 `cpu.stat` usage_usec).
    public var cpuUsageNanoseconds: UInt64?
    /// Tasks in the cgroup now (`pids.current`).
    public var pidsCurrent: UInt64?
    /// Times the OOM killer killed a task here (v1 `memory.oom_control`, v2 `memory.events` oom_kill).
    public var oomKills: UInt64?
    /// CPU time in user and kernel mode, nanoseconds (v1 `cpuacct.usage_user/_sys`, v2 `cpu.stat`).
    public var cpuUserNanoseconds: UInt64?
    public var cpuSystemNanoseconds: UInt64?
    /// Bytes read from and written to block devices, all devices summed (v1
    /// `blkio.throttle.io_service_bytes_recursive`, v2 `io.stat` rbytes/wbytes). Page-cache writes
    /// count only once written back.
    public var ioReadBytes: UInt64?
    public var ioWriteBytes: UInt64?

    public init(
        memoryUsage: UInt64? = nil, memoryMaxUsage: UInt64? = nil, cpuUsageNanoseconds: UInt64? = nil,
        pidsCurrent: UInt64? = nil, oomKills: UInt64? = nil,
        cpuUserNanoseconds: UInt64? = nil, cpuSystemNanoseconds: UInt64? = nil,
        ioReadBytes: UInt64? = nil, ioWriteBytes: UInt64? = nil
    ) {
        self.memoryUsage = memoryUsage
        self.memoryMaxUsage = memoryMaxUsage
        self.cpuUsageNanoseconds = cpuUsageNanoseconds
        self.pidsCurrent = pidsCurrent
        self.oomKills = oomKills
        self.cpuUserNanoseconds = cpuUserNanoseconds
        self.cpuSystemNanoseconds = cpuSystemNanoseconds
        self.ioReadBytes = ioReadBytes
        self.ioWriteBytes = ioWriteBytes
    }
}
