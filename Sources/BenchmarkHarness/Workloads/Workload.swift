import BenchmarkResults
import IntermodalCore
import Synchronization
import SystemPackage

/// What to run and how to read it: one round of measurement on one backend. A workload knows
/// nothing of which backend it is on beyond the ``Backend`` interface, and nothing of statistics.
public protocol Workload: Sendable {
    var name: String { get }
    /// Measured rounds it wants on `backend` (memory keeps few: every round boots K instances).
    func rounds(for backend: any Backend, suite: Suite) -> Int
    /// Warm-up rounds before them on `backend`.
    func warmups(for backend: any Backend, suite: Suite) -> Int
    /// One round; the samples carry the round's number, warm-up flag and accelerator.
    func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample]
    /// Why this workload does not run on `backend`, or nil when it does. The run records the
    /// reason in the results: a gap is said, never silent.
    func notMeasured(on backend: any Backend, suite: Suite) -> String?
}

extension Workload {
    public func notMeasured(on backend: any Backend, suite: Suite) -> String? { nil }
}

/// Which round is measured, and what its samples must carry.
public struct Round: Sendable {
    public var number: Int
    public var warmup: Bool
    public var suite: Suite
    /// `kvm` or `tcg` for a guest backend; nil elsewhere.
    public var accelerator: String?
    /// The host side of the network and app workloads; nil when the suite has neither.
    public var tools: HostTools?
    /// A directory of the run's own for a workload's files (volumes), removed with the run.
    public var scratch: FilePath
    /// Errors the round measured around (one network path of several): the results list them
    /// as failures, next to the samples of what did work.
    public let partialFailures = PartialFailures()
    /// How long one instance (or one tool in it) may take.
    public var timeout: Duration { .seconds(suite.timeoutSeconds) }

    public init(number: Int, warmup: Bool, suite: Suite, accelerator: String?, tools: HostTools? = nil, scratch: FilePath) {
        self.number = number
        self.warmup = warmup
        self.suite = suite
        self.accelerator = accelerator
        self.tools = tools
        self.scratch = scratch
    }
}

/// What went wrong in part of a round, collected for the results' failures.
public final class PartialFailures: Sendable {
    private let messages = Mutex<[String]>([])
    public init() {}
    public func add(_ message: String) { messages.withLock { $0.append(message) } }
    public var all: [String] { messages.withLock { $0 } }
}

/// The workloads this build has, by suite name.
public enum Workloads {
    public static let all: [any Workload] = [
        StartupWorkload(), MemoryWorkload(), DiskWorkload(), CPUWorkload(), MemoryBandwidthWorkload(), DiskIOWorkload(),
        NetworkWorkload(), AppWorkload(), DensityWorkload(),
    ]
    public static var names: [String] { all.map(\.name) }
    public static func named(_ name: String) -> (any Workload)? { all.first { $0.name == name } }
    /// Those that need the workload image's tools (sysbench, fio, iperf3, redis, stress-ng).
    public static let throughput: Set<String> = ["cpu", "memory-bandwidth", "disk-io", "network", "app"]
    /// Those whose client runs on the host.
    public static let needHostTools: Set<String> = ["network", "app"]
}

extension Sample {
    /// A sample of the current time, for `backend`.
    static func now(
        _ workload: String, _ metric: String, _ backend: any Backend, _ round: Round, value: Double,
        unit: MetricUnit, direction: Direction = .lowerIsBetter, phases: [String: Double]? = nil,
        components: [String: Double]? = nil
    ) -> Sample {
        Sample(
            workload: workload, metric: metric, backend: backend.name, round: round.number, warmup: round.warmup, value: value,
            unit: unit, direction: direction, phases: phases, components: components, accelerator: round.accelerator,
            takenAt: WallClock.now)
    }
}
