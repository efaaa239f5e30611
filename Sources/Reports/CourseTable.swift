import BenchmarkResults

/// The container course's usual claims, restated with this host's figures: image size, start-up,
/// memory per instance, and how many instances fit. Each claim carries the factor it is usually
/// stated with, so a measurement can contradict it plainly.
public enum CourseTable {
    /// A claim and what this file measured for it.
    public struct Row: Sendable {
        public var claim: String
        /// The figure the course's own slides give for the claim, when they give one.
        public var slide: String?
        public var container: String
        public var vm: String
        /// Which VM the row uses, and why that one.
        public var vmChoice: String
        public var measuredFactor: Double?
        public var verdict: String
        /// Whether the data can decide the claim here (false: TCG, or not measured).
        public var decided: Bool
    }

    /// The factor the claims are usually stated with ("an order of magnitude").
    public static let claimedFactor = 10.0

    /// The course's slides, quoted where a row has a counterpart.
    public enum Slides {
        public static let startup = "`time docker run ubuntu echo \"hello from the container\"`: 1.384 s real (\"about half a second\")"
        public static let image = "ubuntu image 72.9 MB against ~900 MB for a full server install (about 12x)"
    }

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

    /// The first backend of `kinds` with any of `metrics` (in that order of preference).
    static func figures(
        _ f: ResultsFile, workload: String, metrics: [String], kinds: Set<String>, first: [String] = ["intermodal"]
    ) -> Figures? {
        let series = f.measuredSeries
        // Our own container (or the micro guest) first; else the first of the kind in the suite's order.
        for b in candidates(f, kinds: kinds, first: first) {
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
    /// The micro guest boots the container's own image on a bare kernel: the lightest VM, so
    /// the one a claim of "a VM costs more" is fairest to. The full-OS guest is a full install.
    static let microGuestWhy = "the micro guest: the same image on a bare kernel, the lightest VM and the fairest to VMs"
    static let fullGuestWhy = "the full-OS guest: a full system install (firmware, GRUB, kernel, systemd), what the claim is about"

    /// The rows for one results file.
    public static func rows(_ file: ResultsFile) -> [Row] {
        var rows: [Row] = []
        let startupMetrics = Array(Set(file.samples.filter { $0.workload == MetricRoles.startup }.map(\.metric))).sorted()
        let memoryMetrics = file.samples.filter { $0.workload == MetricRoles.memory }.reduce(into: [(String, MetricUnit)]()) { acc, s in
            if !acc.contains(where: { $0.0 == s.metric }) { acc.append((s.metric, s.unit)) }
        }
        let diskShared = Array(Set(file.samples.filter { $0.workload == MetricRoles.disk && !MetricRoles.isPerInstanceDisk($0.metric) }.map(\.metric))).sorted()

        // Image size: the container's shared bytes against the guest's disk. Bytes on disk are
        // the same under any accelerator: this row is decidable under TCG too.
        let image = file.suite.image
        rows.append(compare(
            file, claim: "A container image (here \(image)) is a small fraction of a full system install (the VM's disk): \(Int(claimedFactor))x smaller or more",
            slide: Slides.image, workload: MetricRoles.disk, metrics: diskShared, anyAccelerator: true))
        if image != "busybox" {
            rows.append(Row(
                claim: "The same for a minimal image (busybox)", slide: nil, container: "not measured in this run", vm: "—",
                vmChoice: "—", measuredFactor: nil,
                verdict: "not measured: this run's image is \(image); the quick suite (`scripts/bench`) measures busybox", decided: false))
        }
        rows.append(compare(
            file, claim: "A container starts in milliseconds, a VM boots in seconds: \(Int(claimedFactor))x faster or more",
            slide: Slides.startup, workload: MetricRoles.startup,
            metrics: MetricRoles.headlineStartup(startupMetrics).map { [$0] } ?? [], anyAccelerator: false))
        let perInstance = MetricRoles.perInstanceMemory(memoryMetrics)
        rows.append(compare(
            file, claim: "A container costs a few MiB of memory, a VM hundreds: \(Int(claimedFactor))x less or more",
            slide: nil, workload: MetricRoles.memory, metrics: perInstance.map { [$0] } ?? [], anyAccelerator: false))
        rows.append(density(file, perInstance: perInstance))
        return rows
    }

    /// How many fit at one stated budget: the density workload's measured memory per instance
    /// where the run has it, else the idle memory per instance; with how many were started and
    /// how far the count is extrapolated beyond that.
    static func density(_ file: ResultsFile, perInstance: String?) -> Row {
        let claim = "Many more containers than VMs fit on one host: \(Int(claimedFactor))x as many or more"
        let budget = file.samples.lazy.compactMap { $0.workload == MetricRoles.density ? $0.components?["budgetBytes"] : nil }.first
            ?? file.suite.density?.memoryBudgetMiB.map { Double($0) * 1_048_576 }
            ?? Double(file.environment.memoryBytes) / 4
        func started(_ b: String) -> Int? {
            file.samples.first { $0.workload == MetricRoles.density && $0.metric == "instances-started" && $0.backend == b }
                .flatMap { $0.value.isFinite && $0.value >= 0 && $0.value < 1e15 ? Int($0.value) : nil }
        }
        let measured = figures(file, workload: MetricRoles.density, metrics: ["host-memory-per-instance"], kinds: containerKinds)
            .flatMap { c in figures(file, workload: MetricRoles.density, metrics: ["host-memory-per-instance"], kinds: vmKinds, first: ["vm"]).map { (c, $0) } }
        let pair: (Figures, Figures)?
        let source: String
        if let measured, measured.0.median > 0, measured.1.median > 0 {
            pair = measured
            source = "host memory per instance, density workload"
        } else if let metric = perInstance,
                  let c = figures(file, workload: MetricRoles.memory, metrics: [metric], kinds: containerKinds),
                  let v = figures(file, workload: MetricRoles.memory, metrics: [metric], kinds: vmKinds, first: ["vm"]),
                  c.median > 0, v.median > 0 {
            pair = (c, v)
            source = "\(metric), memory workload"
        } else {
            pair = nil
            source = ""
        }
        guard let (c, v) = pair else {
            return Row(claim: claim, slide: nil, container: "not measured", vm: "not measured", vmChoice: "—", measuredFactor: nil,
                       verdict: "not measured: no memory per instance for both a container and a VM", decided: false)
        }
        func side(_ f: Figures) -> String {
            // A whole count kept as a Double: a tiny median from another machine's file makes it huge.
            let fit = (budget / f.median).rounded(.down)
            var out = "\(f.backend): \(Format.bytes(f.median)) each (\(source), n=\(f.values.count)): \(Format.whole(fit)) in \(Format.bytes(budget))"
            if let n = started(f.backend), n > 0 {
                let beyond = fit / Double(n)
                out += beyond > 10
                    ? "; **\(n) were started: the count is extrapolated \(Format.number(beyond))x beyond what was measured**"
                    : "; \(n) started"
            } else {
                out += " (estimated from the per-instance figure; none were started together)"
            }
            return out
        }
        let factor = v.median / c.median
        return Row(claim: claim + " (at a budget of \(Format.bytes(budget)))", slide: nil, container: side(c), vm: side(v),
                   vmChoice: vmWhy(v.backend), measuredFactor: factor,
                   verdict: verdict(factor, file: file, vm: v.backend, anyAccelerator: false), decided: file.guestFiguresDecide(v.backend))
    }

    static func vmWhy(_ backend: String) -> String {
        switch backend {
        case "vm": return "vm: " + microGuestWhy
        case "vm-full": return "vm-full: " + fullGuestWhy
        default: return backend
        }
    }

    /// The verdict on a measured factor: decided only where the VM's figures can decide it.
    static func verdict(_ factor: Double, file: ResultsFile, vm: String, anyAccelerator: Bool) -> String {
        if !anyAccelerator, !file.guestFiguresDecide(vm) {
            let acc = file.accelerator(of: vm)
            let what = acc == "tcg" ? "TCG (software emulation), which inflates its time and memory" : "\(acc), not KVM"
            return "**not decidable on this host**: the VM ran under \(what); the measured \(Format.number(factor))x is shown, "
                + "not judged. KVM figures decide it."
        }
        var out = factor >= claimedFactor
            ? "consistent: \(Format.number(factor))x on this host"
            : "**contradicted on this host**: only \(Format.number(factor))x"
        if !anyAccelerator, let caveat = file.nestedCaveat { out += " (\(caveat))" }
        return out
    }

    /// A claim that the container's figure is at least ``claimedFactor`` times smaller than the VM's.
    static func compare(
        _ file: ResultsFile, claim: String, slide: String?, workload: String, metrics: [String], anyAccelerator: Bool
    ) -> Row {
        let disk = workload == MetricRoles.disk
        func find(_ kinds: Set<String>) -> Figures? {
            disk ? sharedDisk(file, kinds: kinds)
                : figures(file, workload: workload, metrics: metrics, kinds: kinds, first: kinds == vmKinds ? ["vm"] : ["intermodal"])
        }
        guard !metrics.isEmpty, let c = find(containerKinds), let v = find(vmKinds) else {
            let why = metrics.isEmpty ? "the file has no \(workload) samples" : "the file lacks \(workload) figures for a container or a VM"
            return Row(claim: claim, slide: slide, container: "not measured", vm: "not measured", vmChoice: "—", measuredFactor: nil,
                       verdict: "not measured: \(why)", decided: false)
        }
        let factor = c.median > 0 ? v.median / c.median : .infinity
        var why = vmWhy(v.backend)
        if disk && v.backend == "vm" { why += " (no full-OS guest in this run: its disk is the image plus a kernel)" }
        return Row(claim: claim, slide: slide, container: c.described + " (\(c.metric))", vm: v.described + " (\(v.metric))",
                   vmChoice: why, measuredFactor: factor,
                   verdict: verdict(factor, file: file, vm: v.backend, anyAccelerator: anyAccelerator),
                   decided: anyAccelerator || file.guestFiguresDecide(v.backend))
    }
}
