/// One benchmark run as it is written to `results/`: every raw sample, the environment, the
/// suite itself, what was skipped or failed and why, and the summaries. Reports and `compare`
/// read only this (never the harness), so a file from another host or version renders the same.
/// The schema is `results.schema.json` beside this file; ``schemaVersion`` changes with it.
public struct ResultsFile: Codable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// Free text given with `--label` (a commit, "KVM host", ...).
    public var label: String?
    /// RFC 3339 wall-clock times of the run's start and end, and its length.
    public var startedAt: String
    public var finishedAt: String
    public var wallSeconds: Double
    /// True when the run was cut short (SIGINT): what was measured until then is kept.
    public var interrupted: Bool
    public var environment: Environment
    public var suite: Suite
    /// SHA-256 of the suite's canonical JSON.
    public var suiteHash: String
    /// The seed the rounds were shuffled with.
    public var seed: UInt64
    /// Every backend of the suite: measured, skipped (with the reason) or failed.
    public var backends: [BackendStatus]
    public var samples: [Sample]
    public var summaries: [SeriesSummary]
    /// Instances that failed mid-run; the run went on.
    public var failures: [Failure]
    public var warnings: [Warning]
    /// What the harness itself costs per sample: the same timing path around `/bin/true`, natively.
    public var harnessOverhead: Summary?
    /// Host load (1-minute average) before and after each workload.
    public var hostLoad: [LoadReading]

    public init(
        label: String?, startedAt: String, finishedAt: String, wallSeconds: Double, interrupted: Bool,
        environment: Environment, suite: Suite, suiteHash: String, seed: UInt64, backends: [BackendStatus],
        samples: [Sample], summaries: [SeriesSummary], failures: [Failure], warnings: [Warning],
        harnessOverhead: Summary?, hostLoad: [LoadReading]
    ) {
        schemaVersion = Self.currentSchemaVersion
        self.label = label
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.wallSeconds = wallSeconds
        self.interrupted = interrupted
        self.environment = environment
        self.suite = suite
        self.suiteHash = suiteHash
        self.seed = seed
        self.backends = backends
        self.samples = samples
        self.summaries = summaries
        self.failures = failures
        self.warnings = warnings
        self.harnessOverhead = harnessOverhead
        self.hostLoad = hostLoad
    }
}

/// A backend as the run found it.
public struct BackendStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case measured, skipped, failed }
    public var name: String
    /// `native`, `container`, `peer` or `vm`.
    public var kind: String
    public var state: State
    /// Why it was skipped or failed.
    public var reason: String?
    /// The tool's own version line (`runc version 1.1.5`, `QEMU emulator version 7.2.x`).
    public var version: String?
    /// `kvm` or `tcg` for guests.
    public var accelerator: String?
    /// What the harness changed so that the backend runs on this host (a containers.conf, a
    /// started daemon, runc instead of crun), each said in full.
    public var adjustments: [String]

    public init(name: String, kind: String, state: State, reason: String? = nil, version: String? = nil,
                accelerator: String? = nil, adjustments: [String] = []) {
        self.name = name
        self.kind = kind
        self.state = state
        self.reason = reason
        self.version = version
        self.accelerator = accelerator
        self.adjustments = adjustments
    }
}

/// The summary of one series, with its ratio to the native backend's median where there is one.
public struct SeriesSummary: Codable, Sendable, Equatable {
    public var series: SeriesKey
    public var unit: MetricUnit
    public var direction: Direction
    public var accelerator: String?
    public var summary: Summary
    /// median / native's median, with a 95% bootstrap interval over both sides.
    public var ratioToNative: Double?
    public var ratioToNativeCI95: ClosedInterval?
    /// Why the series has its sample count (nil in files from before the precision rule).
    public var stopReason: StopReason?
    /// The relative half-width of the distribution-free 95% interval of the median
    /// (``Precision/relativeHalfWidth(_:level:)``); nil below 6 samples.
    public var relativeHalfWidth: Double?

    public init(series: SeriesKey, unit: MetricUnit, direction: Direction, accelerator: String?, summary: Summary,
                ratioToNative: Double? = nil, ratioToNativeCI95: ClosedInterval? = nil) {
        self.series = series
        self.unit = unit
        self.direction = direction
        self.accelerator = accelerator
        self.summary = summary
        self.ratioToNative = ratioToNative
        self.ratioToNativeCI95 = ratioToNativeCI95
    }
}

/// An instance that failed during the run.
public struct Failure: Codable, Sendable, Equatable {
    public var workload: String
    public var backend: String
    public var round: Int
    public var error: String
    public init(workload: String, backend: String, round: Int, error: String) {
        self.workload = workload
        self.backend = backend
        self.round = round
        self.error = error
    }
}

/// The host's load average at a point of the run.
public struct LoadReading: Codable, Sendable, Equatable {
    /// `before startup`, `after memory`, ...
    public var when: String
    public var load1: Double
    public var load5: Double
    public var load15: Double
    public init(when: String, load1: Double, load5: Double, load15: Double) {
        self.when = when
        self.load1 = load1
        self.load5 = load5
        self.load15 = load15
    }
}
