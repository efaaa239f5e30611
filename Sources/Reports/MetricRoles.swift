import Foundation
import BenchmarkResults

/// How a report finds its figures among a results file's series. The harness names workloads and
/// metrics; these are the conventions the plots and the course's table rely on, matched loosely
/// so that a new metric lands in the tables even when no plot knows it:
///
/// - workload `startup`: every metric is a latency in ms (box plots, log scale); the headline is
///   the metric naming `echo`, else one naming `exit`, else the first. Samples' `phases` are
///   offsets after the spawn, stacked by ``PhaseCategory``.
/// - workload `memory`: bytes; the per-instance figure is the metric naming `per-instance`
///   (else the first in bytes), split by its samples' `components`.
/// - workload `disk`: bytes; a metric naming `per-instance`, `unique` or `writable` is paid per
///   instance, any other is shared (the image, a base disk).
/// - workload `density`: the curve of idle instances started one after another; each
///   `step:host-memory-used` sample carries the step's instance count in `components["instances"]`.
/// - any other workload is a throughput or latency figure, normalised to `native`; the figure
///   shows its rates (higher is better) and small-request round trips, the tables all of it.
public enum MetricRoles {
    public static let startup = "startup", memory = "memory", disk = "disk", density = "density"
    /// The density curve's metric.
    public static let densityStep = "step:host-memory-used"

    /// The headline start-up metric among `metrics`.
    public static func headlineStartup(_ metrics: [String]) -> String? {
        metrics.first { $0.contains("echo") } ?? metrics.first { $0.contains("exit") } ?? metrics.first
    }

    /// A metric id as a title says it: `echo:spawn-to-first-output` is "run echo: to its first output".
    public static func plainName(_ metric: String) -> String {
        let known: [String: String] = [
            "true:spawn-to-exit": "run true, spawn to exit",
            "echo:spawn-to-first-output": "run echo, spawn to its first output",
            "idle:pss-per-instance": "idle memory per instance (PSS)",
            "idle:rss-per-instance": "idle memory per instance (RSS)",
        ]
        return known[metric] ?? metric.replacingOccurrences(of: ":", with: ": ").replacingOccurrences(of: "-", with: " ")
    }

    /// The per-instance memory metric among `metrics` (with their units).
    public static func perInstanceMemory(_ metrics: [(String, MetricUnit)]) -> String? {
        metrics.first { $0.0.contains("per-instance") }?.0 ?? metrics.first { $0.1 == .bytes }?.0
    }

    /// Whether a disk metric is paid once per instance (else it is shared by all instances).
    public static func isPerInstanceDisk(_ metric: String) -> Bool {
        ["per-instance", "unique", "writable"].contains { metric.contains($0) }
    }

    /// Workloads that are neither start-up, memory nor disk: the throughput figure's groups.
    public static func isThroughputWorkload(_ workload: String) -> Bool {
        ![startup, memory, disk, density].contains(workload)
    }

    /// A bar group of the normalised throughput figure: a label and the metrics that stand for it,
    /// in order of preference (a backend shows the first it has: its bridge, else the host's
    /// network, as its users get by default).
    public struct ThroughputGroup: Sendable, Equatable {
        public var workload: String
        public var label: String
        public var metrics: [String]
    }

    /// The headline groups of the harness's throughput workloads; every other series stays in
    /// the tables.
    public static let throughputHeadlines: [ThroughputGroup] = [
        .init(workload: "cpu", label: "cpu: sysbench, 1 thread", metrics: ["sysbench-cpu:1-thread"]),
        .init(workload: "memory-bandwidth", label: "memory: STREAM triad", metrics: ["stream:triad"]),
        .init(workload: "disk-io", label: "disk: 4k random read IOPS", metrics: ["root:4k-randread-iops"]),
        .init(workload: "disk-io", label: "disk: 1M sequential write", metrics: ["root:1m-seqwrite"]),
        .init(workload: "network", label: "network: iperf3 (bridge, else host)", metrics: ["bridge:iperf3-throughput", "host:iperf3-throughput"]),
        .init(workload: "network", label: "network: request round trip p50", metrics: ["bridge:request-rtt-p50", "host:request-rtt-p50"]),
        .init(workload: "app", label: "redis GET ops/s", metrics: ["bridge:redis-get-ops", "host:redis-get-ops"]),
    ]
}

/// Where start-up time goes: each recorded phase mark closes an interval, attributed by the
/// mark's name to the part of start-up it ends.
public enum PhaseCategory: String, CaseIterable, Sendable {
    case setup = "runtime or libvirt set-up"
    /// QEMU and the BIOS until the guest's kernel (micro guest) or its first console byte (full guest).
    case firmware = "firmware"
    /// The full guest's GRUB, kernel and systemd: its marks do not separate them.
    case bootChain = "boot loader, kernel and systemd"
    case kernel = "kernel"
    case initialisation = "init"
    case command = "command"
    case cleanup = "cleanup"
    case other = "unattributed"

    /// The category of the interval ending at `mark`; `afterExit` for marks past the exit.
    public static func ending(at mark: String, afterExit: Bool) -> PhaseCategory {
        if afterExit { return .cleanup }
        switch mark {
        case "kernelStart", "consoleFirstByte": return .firmware
        case "agentReady": return .bootChain
        case "initStart": return .kernel
        case "initHello", "commandStart": return .initialisation
        case "commandEnd", "exit", "firstOutput", "engine: output": return .command
        default:
            let lower = mark.lowercased()
            if lower.contains("cleanup") || lower.contains("destroy") || lower.contains("delete") || lower.contains("removed") {
                return .cleanup
            }
            return .setup
        }
    }

    /// The median milliseconds per category of start-up samples: the marks are sorted by their
    /// median offset, each interval goes to the category of the mark that closes it, and what
    /// the sample's value has beyond its last mark is `unattributed` (or cleanup after an exit).
    public static func breakdown(_ samples: [Sample]) -> [PhaseCategory: Double]? {
        let withPhases = samples.compactMap(\.phases).filter { !$0.isEmpty }
        guard !withPhases.isEmpty else { return nil }
        var offsets: [String: [Double]] = [:]
        for p in withPhases { for (k, v) in p { offsets[k, default: []].append(v) } }
        let marks = offsets.map { (name: $0.key, median: Quantile.of(sorted: $0.value.sorted(), 0.5)) }
            .sorted { $0.median < $1.median }
        var out: [PhaseCategory: Double] = [:]
        var previous = 0.0
        var exited = false
        for m in marks {
            let category = ending(at: m.name, afterExit: exited)
            out[category, default: 0] += Swift.max(0, m.median - previous)
            previous = Swift.max(previous, m.median)
            if m.name == "exit" || m.name == "commandEnd" { exited = true }
        }
        let total = Quantile.of(sorted: samples.map(\.value).sorted(), 0.5)
        if total > previous { out[.other, default: 0] += total - previous }
        return out
    }
}
