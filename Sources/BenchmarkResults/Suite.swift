/// What a benchmark run measures: images, workloads, backends, how many samples, and the budget
/// of each instance. Built in (`quick`, `full`) or read from a TOML file; stored whole in every
/// results file, so `--rerun` repeats exactly the same run.
public struct Suite: Codable, Sendable, Equatable {
    /// The suite's name (`quick`, `full`, or the file's own).
    public var name: String
    /// The image every backend runs: `busybox` (from the host's busybox-static) or `debian`
    /// (debootstrap), or a name already in the store.
    public var image: String
    /// Workloads, in order (`startup`, `memory`, `disk`).
    public var workloads: [String]
    /// Backends, in order; the run interleaves them round by round in a shuffled order.
    public var backends: [String]
    /// Measured samples per workload and backend.
    public var runs: Int
    /// Unmeasured runs before the first measured one (kept in the results, flagged).
    public var warmup: Int
    /// Fewer runs for slow backends (guests under TCG), by backend name.
    public var runsByBackend: [String: Int]
    /// Other warm-up counts and idle-instance counts by backend (a full-OS guest boots for a
    /// minute under TCG: no warm-up, one idle instance).
    public var warmupByBackend: [String: Int]
    public var idleInstancesByBackend: [String: Int]
    /// How long one instance may take before it counts as failed, in seconds.
    public var timeoutSeconds: Int
    /// Guest memory, MiB, and vCPUs.
    public var memoryMiB: Int
    public var vcpus: Int
    /// How many idle instances the memory workload keeps running together.
    public var idleInstances: Int
    /// The shuffle's seed; nil: drawn at start and recorded in the results.
    public var seed: UInt64?
    /// The Dockerfile of `image = "workload"`, relative to the working directory or the suite
    /// file; nil: `Benchmarks/images/workload/Dockerfile` of this repository.
    public var dockerfile: String?
    /// Settings of the throughput workloads (cpu, memory-bandwidth, disk-io, network, app);
    /// nil in results files from before they existed.
    public var throughput: ThroughputSettings?
    /// Settings of the density workload.
    public var density: DensitySettings?
    /// The sample-count rule: more rounds until the median is known to a target; nil: the
    /// fixed counts above (and in results files from before the rule).
    public var precision: PrecisionSettings?

    public init(
        name: String, image: String = "busybox", workloads: [String], backends: [String], runs: Int, warmup: Int,
        runsByBackend: [String: Int] = [:], warmupByBackend: [String: Int] = [:], idleInstancesByBackend: [String: Int] = [:],
        timeoutSeconds: Int = 120, memoryMiB: Int = 256, vcpus: Int = 1, idleInstances: Int = 3, seed: UInt64? = nil,
        dockerfile: String? = nil, throughput: ThroughputSettings? = nil, density: DensitySettings? = nil,
        precision: PrecisionSettings? = nil
    ) {
        self.precision = precision
        self.dockerfile = dockerfile
        self.throughput = throughput
        self.density = density
        self.name = name
        self.image = image
        self.workloads = workloads
        self.backends = backends
        self.runs = runs
        self.warmup = warmup
        self.runsByBackend = runsByBackend
        self.warmupByBackend = warmupByBackend
        self.idleInstancesByBackend = idleInstancesByBackend
        self.timeoutSeconds = timeoutSeconds
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.idleInstances = idleInstances
        self.seed = seed
    }

    /// Measured runs for `backend`.
    public func runs(for backend: String) -> Int { runsByBackend[backend] ?? runs }
    /// Warm-up runs for `backend`.
    public func warmup(for backend: String) -> Int { warmupByBackend[backend] ?? warmup }
    /// Idle instances the memory workload keeps running together on `backend`.
    public func idleInstances(for backend: String) -> Int { idleInstancesByBackend[backend] ?? idleInstances }
    /// The throughput settings, or their defaults.
    public var throughputSettings: ThroughputSettings { throughput ?? ThroughputSettings() }
    /// The density settings, or their defaults.
    public var densitySettings: DensitySettings { density ?? DensitySettings() }
}

/// How long and how big the throughput workloads run: fixed by the suite, so that every
/// backend does the same work and two results files compare.
public struct ThroughputSettings: Codable, Sendable, Equatable {
    /// Measured rounds of each throughput workload (never more than the backend's own runs).
    public var runs: Int
    /// Fewer for slow backends (a full-OS guest boots for a minute per round under TCG).
    public var runsByBackend: [String: Int]
    /// Seconds each tool runs (sysbench, stress-ng, fio per pattern, iperf3).
    public var seconds: Int
    /// The size of fio's file, MiB.
    public var diskFileMiB: Int
    /// Requests per redis-benchmark test (GET, SET; the latency probe uses a tenth).
    public var requests: Int

    public init(runs: Int = 3, runsByBackend: [String: Int] = [:], seconds: Int = 5, diskFileMiB: Int = 128, requests: Int = 20_000) {
        self.runs = runs
        self.runsByBackend = runsByBackend
        self.seconds = seconds
        self.diskFileMiB = diskFileMiB
        self.requests = requests
    }

    public func runs(for backend: String) -> Int { runsByBackend[backend] ?? runs }
}

/// How far the density workload goes: idle instances are started one after another until the
/// host memory they use reaches the budget, or the count is reached, whichever comes first.
public struct DensitySettings: Codable, Sendable, Equatable {
    /// The memory budget, MiB; nil: a quarter of the host's RAM.
    public var memoryBudgetMiB: Int?
    /// At most this many instances per backend.
    public var maxInstances: Int
    /// Fewer for slow or heavy backends (guests under TCG), by backend name.
    public var maxInstancesByBackend: [String: Int]

    public init(memoryBudgetMiB: Int? = nil, maxInstances: Int = 50, maxInstancesByBackend: [String: Int] = [:]) {
        self.memoryBudgetMiB = memoryBudgetMiB
        self.maxInstances = maxInstances
        self.maxInstancesByBackend = maxInstancesByBackend
    }

    public func maxInstances(for backend: String) -> Int { maxInstancesByBackend[backend] ?? maxInstances }
}
