import BenchmarkResults
import IntermodalCore

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
}

/// Which round is measured, and what its samples must carry.
public struct Round: Sendable {
    public var number: Int
    public var warmup: Bool
    public var suite: Suite
    /// `kvm` or `tcg` for a guest backend; nil elsewhere.
    public var accelerator: String?
}

/// The workloads this build has, by suite name.
public enum Workloads {
    public static func named(_ name: String) -> (any Workload)? {
        switch name {
        case "startup": StartupWorkload()
        case "memory": MemoryWorkload()
        case "disk": DiskWorkload()
        default: nil
        }
    }
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
            takenAt: WallClockSeconds.now)
    }
}

/// Unix time in seconds, as a real number.
enum WallClockSeconds {
    static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

#if canImport(Glibc)
import Glibc
#endif
