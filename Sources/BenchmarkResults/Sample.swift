/// What a number counts, so that every figure carries its unit.
public enum MetricUnit: String, Codable, Sendable, CaseIterable {
    case milliseconds, bytes, count
    case megabytesPerSecond = "MB/s"
    case operationsPerSecond = "ops/s"
    case eventsPerSecond = "events/s"
    case iops = "IOPS"
    case megabitsPerSecond = "Mbit/s"

    /// How a report writes the unit after a number.
    public var symbol: String {
        switch self {
        case .milliseconds: "ms"
        case .bytes: "B"
        case .count: ""
        default: rawValue
        }
    }
}

/// Which way is better for a metric.
public enum Direction: String, Codable, Sendable {
    case lowerIsBetter = "lower"
    case higherIsBetter = "higher"
}

/// One measurement of one metric on one backend in one round: the unit every backend fills the
/// same way. Raw samples are all kept in the results file (warm-ups too, flagged).
public struct Sample: Codable, Sendable, Equatable {
    /// The workload that measured it (`startup`, `memory`, `disk`, ...).
    public var workload: String
    /// What exactly was measured (`true:spawn-to-exit`, `idle:pss-per-instance`, ...).
    public var metric: String
    public var backend: String
    /// The round of the plan (0-based); warm-ups have rounds of their own, before the first.
    public var round: Int
    public var warmup: Bool
    public var value: Double
    public var unit: MetricUnit
    public var direction: Direction
    /// Where the time went, for start-up samples: each phase's offset in milliseconds from the
    /// spawn, as the backend's library recorded it (`create`, `start`, `firstOutput`, `exit`, ...).
    public var phases: [String: Double]?
    /// A figure split by what it is made of (memory by process: `monitor`, `qemu`, `container`, ...).
    public var components: [String: Double]?
    /// `kvm` or `tcg` for a figure measured in a guest; nil elsewhere.
    public var accelerator: String?
    /// Wall-clock time the sample was taken (Unix seconds).
    public var takenAt: Double

    public init(
        workload: String, metric: String, backend: String, round: Int, warmup: Bool = false,
        value: Double, unit: MetricUnit, direction: Direction = .lowerIsBetter,
        phases: [String: Double]? = nil, components: [String: Double]? = nil,
        accelerator: String? = nil, takenAt: Double
    ) {
        self.workload = workload
        self.metric = metric
        self.backend = backend
        self.round = round
        self.warmup = warmup
        self.value = value
        self.unit = unit
        self.direction = direction
        self.phases = phases
        self.components = components
        self.accelerator = accelerator
        self.takenAt = takenAt
    }

    /// The series this sample belongs to.
    public var series: SeriesKey { SeriesKey(workload: workload, metric: metric, backend: backend) }
}

/// One backend's measurements of one metric: what statistics summarise.
public struct SeriesKey: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public var workload: String
    public var metric: String
    public var backend: String

    public init(workload: String, metric: String, backend: String) {
        self.workload = workload
        self.metric = metric
        self.backend = backend
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.workload, a.metric, a.backend) < (b.workload, b.metric, b.backend)
    }

    public var description: String { "\(workload)/\(metric)/\(backend)" }
}
