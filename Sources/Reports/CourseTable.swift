import BenchmarkResults

/// The container course's usual claims, restated with this host's figures: image size, start-up,
/// memory per instance, and how many instances fit. Each claim carries the factor it is usually
/// stated with, so a measurement can contradict it plainly.
public enum CourseTable {
    /// A claim and what this file measured for it.
    public struct Row: Sendable {
        public var claim: String
        public var container: String
        public var vm: String
        public var measuredFactor: Double?
        public var verdict: String
    }

    /// The factor the claims are usually stated with ("an order of magnitude").
    public static let claimedFactor = 10.0

    /// A backend's figures for one metric.
    struct Figures {
        var backend: String
        var metric: String
        var values: [Double]
        var unit: MetricUnit
        var summary: Summary { Summary(values, seed: 1, resamples: 200) }
        var median: Double { Quantile.of(sorted: values.sorted(), 0.5) }
        var described: String { "\(backend): " + Format.summary(summary, unit) }
    }

    static func figures(_ f: ResultsFile, workload: String, metric: String, kinds: Set<String>) -> Figures? {
        figures(f, workload: workload, metrics: [metric], kinds: kinds)
    }

    /// The first backend of `kinds` with any of `metrics` (in that order of preference).
    static func figures(_ f: ResultsFile, workload: String, metrics: [String], kinds: Set<String>) -> Figures? {
        let series = f.measuredSeries
        // Our own container first; else the first of the kind in the suite's order.
        for b in candidates(f, kinds: kinds, first: ["intermodal"]) {
            for metric in metrics {
                let key = SeriesKey(workload: workload, metric: metric, backend: b)
                if let v = series[key], !v.isEmpty, let unit = f.samples.first(where: { $0.series == key })?.unit {
                    return Figures(backend: b, metric: metric, values: v, unit: unit)
                }
            }
        }
        return nil
    }

    /// The file's backends of `kinds` in the suite's order, those of `first` that it has ahead.
    static func candidates(_ f: ResultsFile, kinds: Set<String>, first: [String]) -> [String] {
        let order = f.backendOrder.filter { kinds.contains(f.kind(of: $0) ?? ($0 == "vm" ? "vm" : "")) }
        return first.filter(order.contains) + order.filter { !first.contains($0) }
    }

    /// A backend's shared disk bytes per round: the sum of every shared item (image, kernel, base disk).
    /// The claim is about a full system install, so the full-OS guest is the VM it prefers; the
    /// micro guest's disk is the container's image itself.
    static func sharedDisk(_ f: ResultsFile, kinds: Set<String>) -> Figures? {
        for b in candidates(f, kinds: kinds, first: ["intermodal", "vm-full"]) {
            var byRound: [Int: Double] = [:]
            var names: Set<String> = []
            for s in f.samples where !s.warmup && s.workload == MetricRoles.disk && s.backend == b && s.unit == .bytes
                && !MetricRoles.isPerInstanceDisk(s.metric) {
                byRound[s.round, default: 0] += s.value
                names.insert(s.metric)
            }
            if !byRound.isEmpty {
                return Figures(backend: b, metric: names.sorted().joined(separator: " + "),
                               values: byRound.keys.sorted().map { byRound[$0]! }, unit: .bytes)
            }
        }
        return nil
    }

    static let containerKinds: Set<String> = ["container", "peer"]
    static let vmKinds: Set<String> = ["vm"]

    /// The rows for one results file.
    public static func rows(_ file: ResultsFile) -> [Row] {
        var rows: [Row] = []
        let startupMetrics = Array(Set(file.samples.filter { $0.workload == MetricRoles.startup }.map(\.metric))).sorted()
        let memoryMetrics = file.samples.filter { $0.workload == MetricRoles.memory }.reduce(into: [(String, MetricUnit)]()) { acc, s in
            if !acc.contains(where: { $0.0 == s.metric }) { acc.append((s.metric, s.unit)) }
        }
        let diskShared = Array(Set(file.samples.filter { $0.workload == MetricRoles.disk && !MetricRoles.isPerInstanceDisk($0.metric) }.map(\.metric))).sorted()
        let emulated = file.isEmulated ? " The VM ran under **TCG** (software emulation): under KVM its figures would be smaller." : ""

        // Image size: the container's shared bytes against the guest's disk.
        rows.append(compare(
            file, claim: "A container image is a small fraction of a full system install (the VM's disk): \(Int(claimedFactor))x smaller or more",
            workload: MetricRoles.disk, metrics: diskShared, extra: ""))
        // Start-up: run … echo against booting a VM with the same image.
        rows.append(compare(
            file, claim: "A container starts in milliseconds, a VM boots in seconds: \(Int(claimedFactor))x faster or more",
            workload: MetricRoles.startup, metrics: MetricRoles.headlineStartup(startupMetrics).map { [$0] } ?? [], extra: emulated))
        // Memory per instance.
        let perInstance = MetricRoles.perInstanceMemory(memoryMetrics)
        rows.append(compare(
            file, claim: "A container costs a few MiB of memory, a VM hundreds: \(Int(claimedFactor))x less or more",
            workload: MetricRoles.memory, metrics: perInstance.map { [$0] } ?? [], extra: ""))
        // How many fit, measured: the density workload started them one after another.
        if let c = figures(file, workload: MetricRoles.density, metric: "host-memory-per-instance", kinds: containerKinds),
           let v = figures(file, workload: MetricRoles.density, metric: "host-memory-per-instance", kinds: vmKinds),
           c.median > 0, v.median > 0,
           let budget = file.samples.lazy.compactMap({ $0.workload == MetricRoles.density ? $0.components?["budgetBytes"] : nil }).first {
            func started(_ b: String) -> String {
                Format.whole(file.samples.first { $0.workload == MetricRoles.density && $0.metric == "instances-started" && $0.backend == b }?.value ?? 0)
            }
            // Whole counts, as Doubles: a tiny median (from a file of another machine) makes them huge.
            let fitC = (budget / c.median).rounded(.down), fitV = (budget / v.median).rounded(.down)
            let factor = fitV > 0 ? fitC / fitV : .infinity
            rows.append(Row(
                claim: "Many more containers than VMs fit on one host: \(Int(claimedFactor))x as many or more (density workload)",
                container: "\(c.backend): \(started(c.backend)) started and kept running, \(Format.bytes(c.median)) of host memory each: \(Format.whole(fitC)) in \(Format.bytes(budget))",
                vm: "\(v.backend): \(started(v.backend)) started, \(Format.bytes(v.median)) each: \(Format.whole(fitV)) in \(Format.bytes(budget))",
                measuredFactor: factor,
                verdict: verdict(factor) + " (measured up to the counts started, extrapolated from there to the budget)"))
        }
        // How many fit: derived from the per-instance memory.
        if let metric = perInstance,
           let c = figures(file, workload: MetricRoles.memory, metric: metric, kinds: containerKinds),
           let v = figures(file, workload: MetricRoles.memory, metric: metric, kinds: vmKinds), c.median > 0, v.median > 0 {
            let host = Double(file.environment.memoryBytes)
            let fitC = (host / c.median).rounded(.down), fitV = (host / v.median).rounded(.down)
            let factor = fitV > 0 ? fitC / fitV : .infinity
            rows.append(Row(
                claim: "Many more containers than VMs fit on one host: \(Int(claimedFactor))x as many or more",
                container: "\(c.backend): \(Format.whole(fitC)) in \(Format.bytes(host)) (estimated from the median, n=\(c.values.count))",
                vm: "\(v.backend): \(Format.whole(fitV)) (estimated, n=\(v.values.count))",
                measuredFactor: factor,
                verdict: verdict(factor) + " (estimated from the per-instance medians, not by starting that many)"))
        } else {
            rows.append(Row(claim: "Many more containers than VMs fit on one host", container: "not measured", vm: "not measured",
                            measuredFactor: nil, verdict: "not measured: the file has no per-instance memory for both a container and a VM"))
        }
        return rows
    }

    static func verdict(_ factor: Double) -> String {
        factor >= claimedFactor
            ? "consistent: \(Format.number(factor))x on this host"
            : "**contradicted on this host**: only \(Format.number(factor))x"
    }

    /// A claim that the container's figure is at least ``claimedFactor`` times smaller than the VM's.
    static func compare(_ file: ResultsFile, claim: String, workload: String, metrics: [String], extra: String) -> Row {
        func find(_ kinds: Set<String>) -> Figures? {
            workload == MetricRoles.disk ? sharedDisk(file, kinds: kinds) : figures(file, workload: workload, metrics: metrics, kinds: kinds)
        }
        guard !metrics.isEmpty, let c = find(containerKinds), let v = find(vmKinds) else {
            let why = metrics.isEmpty ? "the file has no \(workload) samples" : "the file lacks \(workload) figures for a container or a VM"
            return Row(claim: claim, container: "not measured", vm: "not measured", measuredFactor: nil, verdict: "not measured: \(why)")
        }
        let factor = c.median > 0 ? v.median / c.median : .infinity
        return Row(claim: claim, container: c.described + " (\(c.metric))", vm: v.described + " (\(v.metric))", measuredFactor: factor,
                   verdict: verdict(factor) + "." + extra)
    }
}
