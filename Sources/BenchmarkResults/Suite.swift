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

    public init(
        name: String, image: String = "busybox", workloads: [String], backends: [String], runs: Int, warmup: Int,
        runsByBackend: [String: Int] = [:], warmupByBackend: [String: Int] = [:], idleInstancesByBackend: [String: Int] = [:],
        timeoutSeconds: Int = 120, memoryMiB: Int = 256, vcpus: Int = 1, idleInstances: Int = 3, seed: UInt64? = nil
    ) {
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
}
