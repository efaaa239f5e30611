import BenchmarkResults
import Foundation

/// The report's figures, built from one or more labelled results files side by side. A figure
/// with nothing to show is not made; ``Plots/all(_:)`` says why in its `missing` list.
public enum Plots {
    /// Every figure the files have data for, and a sentence for each one they do not.
    public static func all(_ files: [LabelledResults]) -> (figures: [Figure], missing: [String]) {
        var figures: [Figure] = []
        var missing: [String] = []
        if let h = headline(files) { figures.append(h) } else { missing.append("Too few of start-up, memory, disk and density: no headline figure.") }
        let startup = startupLatency(files)
        if startup.isEmpty { missing.append("No start-up samples: no start-up figure.") }
        let startupMetrics = metrics(files, workload: MetricRoles.startup).count
        if startupMetrics > mostStartupFigures {
            missing.append("\(startupMetrics - mostStartupFigures) more start-up metrics: in the table below, without a figure each.")
        }
        figures += startup
        func add(_ f: Figure?, _ why: String) { if let f { figures.append(f) } else { missing.append(why) } }
        add(startupPhases(files), "No start-up sample recorded its phases: no breakdown of where the time goes.")
        add(memoryByComponent(files), "No idle-memory samples: no memory figure.")
        add(density(files), "No per-instance memory: no density curve.")
        add(diskFootprint(files), "No disk-footprint samples: no disk figure.")
        add(throughput(files), "No throughput workload with a native baseline: no normalised throughput figure.")
        // Every image says what its guests ran under, so that a copied plot cannot mislead.
        let marks = Array(Set(files.compactMap(\.results.acceleratorMark))).sorted()
        if !marks.isEmpty { for i in figures.indices { figures[i].mark = marks.joined(separator: "; ") } }
        return (figures, missing)
    }

    /// One series of one file: the label a plot shows for it.
    static func seriesLabel(_ backend: String, _ file: LabelledResults, _ files: [LabelledResults]) -> String {
        files.count > 1 ? "\(backend) [\(file.label)]" : backend
    }

    /// Backends of all files, in first-seen order.
    static func backends(_ files: [LabelledResults], having: (LabelledResults, String) -> Bool) -> [String] {
        var out: [String] = []
        for f in files { for b in f.results.backendOrder where having(f, b) && !out.contains(b) { out.append(b) } }
        return out
    }

    static func metrics(_ files: [LabelledResults], workload: String) -> [(String, MetricUnit)] {
        var out: [(String, MetricUnit)] = []
        var seen: Set<String> = []
        for f in files {
            for s in f.results.samples where s.workload == workload && seen.insert(s.metric).inserted {
                out.append((s.metric, s.unit))
            }
        }
        return out
    }

    /// At most this many start-up figures (one per metric, the headline first): a run measures
    /// a few; a file with thousands would otherwise run gnuplot thousands of times.
    static let mostStartupFigures = 12

    static func values(_ f: LabelledResults, _ workload: String, _ metric: String, _ backend: String) -> [Double] {
        f.index.measured[SeriesKey(workload: workload, metric: metric, backend: backend)] ?? []
    }

    static func median(_ v: [Double]) -> Double? { v.isEmpty ? nil : Quantile.of(sorted: v.sorted(), 0.5) }

    /// A stacked bar chart: one bar per row (its first column the label), one stacked part per
    /// series (the row's following columns, in order), the palette's colours in turn.
    static func stackedBars(
        _ block: String, _ rows: [[String]], series: [String], title: String, ylabel: String, xlabel: String,
        yrange: String? = nil, key: String, rotate: Bool = true
    ) -> String {
        let plots = series.enumerated().map { i, name in
            (i == 0 ? "$\(block) using 2:xtic(1)" : "'' using \(i + 2)") + " title \(Gnuplot.quoted(name)) lc rgb '\(palette(i))'"
        }
        return Gnuplot.dataBlock(block, rows) + """
        set title \(Gnuplot.quoted(title))
        set ylabel \(Gnuplot.quoted(ylabel))
        set xlabel \(Gnuplot.quoted(xlabel))
        \(yrange.map { "set yrange \($0)\n" } ?? "")set style data histograms
        set style histogram rowstacked
        set style fill solid 0.8 border -1
        set boxwidth 0.6
        \(rotate ? "set xtics rotate by -25 font ',10'" : "set xtics norotate font ',10'")
        set key \(key == "off" ? "off" : key)
        set grid ytics
        plot \(plots.joined(separator: ", \\\n     "))

        """
    }

    static func palette(_ i: Int) -> String {
        // No red: red is the VMs' colour in every figure.
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
        return colours[i % colours.count]
    }

    static func sampleCounts(_ files: [LabelledResults], _ workload: String, _ metric: String, _ backends: [String]) -> String {
        var parts: [String] = []
        for f in files {
            for b in backends {
                let n = values(f, workload, metric, b).count
                if n > 0 { parts.append("\(seriesLabel(b, f, files)) n=\(n)") }
            }
        }
        return parts.joined(separator: ", ")
    }

    // MARK: Start-up

    /// Box plots of each start-up metric per backend, log scale, files side by side.
    static func startupLatency(_ files: [LabelledResults]) -> [Figure] {
        let ms = metrics(files, workload: MetricRoles.startup)
        var figures: [Figure] = []
        let headline = MetricRoles.headlineStartup(ms.map(\.0))
        for (metric, unit) in ms.sorted(by: { ($0.0 == headline ? 0 : 1, $0.0) < ($1.0 == headline ? 0 : 1, $1.0) }).prefix(mostStartupFigures) {
            let bs = backends(files) { !values($0, MetricRoles.startup, metric, $1).isEmpty }
            guard !bs.isEmpty else { continue }
            var body = ""
            var plots: [String] = []
            let width = 0.7 / Double(files.count)
            for (fi, f) in files.enumerated() {
                var titled = false
                for (bi, b) in bs.enumerated() {
                    let v = values(f, MetricRoles.startup, metric, b).filter { $0 > 0 }
                    guard !v.isEmpty else { continue }
                    let block = "s\(fi)_\(bi)"
                    body += Gnuplot.dataBlock(block, v.map { [Gnuplot.number($0)] })
                    let x = Double(bi + 1) + (Double(fi) - Double(files.count - 1) / 2) * width
                    let title = files.count > 1 && !titled ? "title \(Gnuplot.quoted(f.label))" : "notitle"
                    titled = true
                    // One file: containers and VMs in their colours; several: one colour per file.
                    let lc = files.count > 1 ? palette(fi) : colour(f.results, b)
                    plots.append("$\(block) using (\(x)):1 with boxplot lc rgb '\(lc)' \(title)")
                }
            }
            // A log scale shows no zero: a metric whose every sample is 0 has nothing to plot.
            guard !plots.isEmpty else { continue }
            let tics = bs.enumerated().map { "\(Gnuplot.quoted($0.element)) \($0.offset + 1)" }.joined(separator: ", ")
            let symbol = unit.symbol.isEmpty ? unit.rawValue : unit.symbol
            body += """
            set title \(Gnuplot.quoted("Start-up: \(MetricRoles.plainName(metric))"))
            set ylabel \(Gnuplot.quoted("time (\(symbol), log scale)"))
            set xlabel 'backend (containers blue, VMs red)'
            set xtics rotate by -30
            set bmargin 6
            set logscale y
            set grid ytics mytics
            set style boxplot outliers pointtype 7
            set style fill solid 0.35 border -1
            set boxwidth \(width * 0.9)
            set xtics (\(tics))
            set xrange [0.4:\(Double(bs.count) + 0.6)]
            set key \(files.count > 1 ? "top left" : "off")
            plot \(plots.joined(separator: ", \\\n     "))

            """
            let safe = metric.map { $0.isLetter || $0.isNumber ? $0 : "-" }
            figures.append(Figure(
                name: "startup-\(String(safe))", title: "Start-up latency: \(MetricRoles.plainName(metric))",
                caption: "Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. "
                    + sampleCounts(files, MetricRoles.startup, metric, bs) + ".",
                body: body))
        }
        return figures
    }

    /// Where start-up time goes, per backend: the phases as a 100% stacked bar of the start-up
    /// itself; cleanup after the exit is outside the bar, said in the label.
    static func startupPhases(_ files: [LabelledResults]) -> Figure? {
        var rows: [[String]] = []
        let categories = PhaseCategory.allCases.filter { $0 != .cleanup }
        for f in files {
            let metric = MetricRoles.headlineStartup(metrics([f], workload: MetricRoles.startup).map(\.0))
            for b in f.results.backendOrder {
                let samples = f.results.samples.filter {
                    !$0.warmup && $0.workload == MetricRoles.startup && $0.backend == b && $0.phases?.isEmpty == false
                }
                // The headline metric's phases when it has them, else any metric's.
                let chosen = samples.contains { $0.metric == metric } ? samples.filter { $0.metric == metric } : samples
                guard let parts = PhaseCategory.breakdown(chosen) else { continue }
                let total = categories.reduce(0) { $0 + (parts[$1] ?? 0) }
                guard total > 0 else { continue }
                let cleanup = parts[.cleanup].map { $0 > 0 ? ", +\(Self.duration($0)) cleanup" : "" } ?? ""
                let label = "\(seriesLabel(b, f, files)): \(Self.duration(total))\(cleanup)"
                rows.append([Gnuplot.column(label)] + categories.map { Gnuplot.number(100 * (parts[$0] ?? 0) / total) })
            }
        }
        guard !rows.isEmpty else { return nil }
        let body = stackedBars(
            "phases", rows, series: categories.map(\.rawValue),
            title: "Where start-up time goes (median of each phase mark)", ylabel: "share of start-up (%)",
            xlabel: "backend: median start-up (cleanup after the exit, outside the bar)", yrange: "[0:100]",
            key: "outside bottom center horizontal maxrows 2 font ',10'")
        return Figure(
            name: "startup-phases", title: "Where start-up time goes",
            caption: "Each backend's phase marks (recorded by its library, ms after the spawn) sorted by median offset; each interval is "
                + "attributed to the part it ends: runtime or libvirt set-up, firmware (QEMU and the BIOS), the full guest's boot loader, "
                + "kernel and systemd (its marks do not separate them), the micro guest's kernel and init, the command. Cleanup after the "
                + "exit is not start-up: it is in the label, not the bar. Backends that record no phases are absent.",
            body: body)
    }

    /// Milliseconds as a label says them: "12 ms", "4.31 s".
    static func duration(_ ms: Double) -> String { ms >= 1000 ? "\(Format.number(ms / 1000)) s" : "\(Format.number(ms)) ms" }

    // MARK: Memory

    static func memoryMetric(_ f: LabelledResults) -> String? {
        MetricRoles.perInstanceMemory(metrics([f], workload: MetricRoles.memory))
    }

    /// Idle memory per instance, stacked by component (MiB): containers (and native) in one panel,
    /// VMs in another, each on its own linear scale, so that a container's few MiB are not a
    /// hairline under a guest's hundreds.
    static func memoryByComponent(_ files: [LabelledResults]) -> Figure? {
        var components: [String] = []
        var perRow: [(label: String, parts: [String: Double], n: Int, vm: Bool)] = []
        for f in files {
            guard let metric = memoryMetric(f) else { continue }
            for b in f.results.backendOrder {
                let samples = f.results.measuredSamples(SeriesKey(workload: MetricRoles.memory, metric: metric, backend: b))
                guard !samples.isEmpty else { continue }
                var parts: [String: Double] = [:]
                if samples.allSatisfy({ $0.components?.isEmpty == false }) {
                    var keys: [String] = []
                    for s in samples { for k in s.components!.keys.sorted() where !keys.contains(k) { keys.append(k) } }
                    for k in keys { parts[k] = median(samples.map { $0.components![k] ?? 0 }) }
                } else {
                    parts["total"] = median(samples.map(\.value))
                }
                for k in parts.keys.sorted() where !components.contains(k) { components.append(k) }
                perRow.append((seriesLabel(b, f, files), parts, samples.count, f.results.kind(of: b) == "vm"))
            }
        }
        guard !perRow.isEmpty else { return nil }
        func rows(_ vm: Bool) -> [[String]] {
            perRow.filter { $0.vm == vm }.map { r in
                [Gnuplot.column("\(r.label) n=\(r.n)")] + components.map { Gnuplot.number((r.parts[$0] ?? 0) / 1_048_576) }
            }
        }
        let groups = [(false, "containers and native"), (true, "VMs")].filter { !rows($0.0).isEmpty }
        var body = groups.count > 1
            ? "set multiplot layout 1,2 title 'Idle memory per instance, by component (note the two scales)' margins 0.08,0.98,0.22,0.86 spacing 0.1\n"
            : ""
        for (i, g) in groups.enumerated() {
            body += stackedBars(
                "memory\(i)", rows(g.0), series: components, title: g.1,
                ylabel: "memory per instance (MiB)", xlabel: "backend", key: i == groups.count - 1 ? "top left" : "off")
            body += "unset title\n"
        }
        if groups.count > 1 { body += "unset multiplot\n" }
        return Figure(
            name: "memory-components", title: "Idle memory per instance",
            caption: "Median per instance of each component (the instance's own processes, its monitor, QEMU, ...), MiB; n is the samples per backend. "
                + "Containers and VMs are in separate panels with their own scales: on one axis the containers' bars would not show.",
            body: body)
    }

    /// How many instances fit: the measured curve where the run has the density workload, else
    /// the estimate from the idle memory per instance.
    public static func density(_ files: [LabelledResults]) -> Figure? {
        measuredDensity(files) ?? estimatedDensity(files)
    }

    /// The density workload's curve: host memory per running instance against the number of
    /// idle instances started, one line per backend, linear axes, with instances per GiB in the
    /// legend. Containers and VMs differ by hundreds of times: two panels, each its own scale.
    static func measuredDensity(_ files: [LabelledResults]) -> Figure? {
        var blocks: [String] = []
        var plots: [(vm: Bool, command: String)] = []
        for f in files {
            for b in f.results.backendOrder {
                let all = f.results.samples
                    .filter { $0.workload == MetricRoles.density && $0.metric == MetricRoles.densityStep && $0.backend == b && !$0.warmup }
                    .compactMap { s in s.components?["instances"].map { ($0, s.value) } }
                    .sorted { $0.0 < $1.0 }
                guard let last = all.last, last.0 > 0 else { continue }
                let name = "density\(blocks.count)"
                blocks.append(Gnuplot.dataBlock(name, all.map { [Gnuplot.number($0.0), Gnuplot.number($0.1 / $0.0 / 1_048_576)] }))
                let each = last.1 / last.0
                let perGiB = each > 0 ? "\(Format.whole((Double(1 << 30) / each).rounded())) per GiB" : "no memory drop measured"
                let label = seriesLabel(b, f, files) + ": \(Format.whole(last.0)) started, \(perGiB)"
                let vm = f.results.kind(of: b) == "vm"
                let lc = vm ? colour(f.results, b) : palette(plots.count)
                plots.append((vm, "$\(name) using 1:2 with linespoints lw 2 pt 7 lc rgb '\(lc)' title \(Gnuplot.quoted(label))"))
            }
        }
        guard !plots.isEmpty else { return nil }
        let groups = [(false, "containers and native"), (true, "VMs")].filter { g in plots.contains { $0.vm == g.0 } }
        var body = blocks.joined()
        if groups.count > 1 {
            body += "set multiplot layout 1,2 title 'Density, measured: host memory per idle instance as more are started' "
                + "margins 0.08,0.98,0.16,0.86 spacing 0.1\n"
        }
        for g in groups {
            body += """
            set title \(Gnuplot.quoted(g.1))
            set xlabel 'idle instances running'
            set ylabel 'host memory per instance (MiB)'
            set grid
            set key top right font ',9'
            plot \(plots.filter { $0.vm == g.0 }.map(\.command).joined(separator: ", \\\n     "))

            """
        }
        if groups.count > 1 { body += "unset multiplot\n" }
        return Figure(
            name: "density", title: "How many instances fit",
            caption: "Measured: idle instances started one after another and kept running, until the suite's memory budget or count; "
                + "after each start, the host memory all of them use (the drop of MemAvailable since the first) divided by how many run. "
                + "The legend gives how many were started and how many would fit in a GiB at the last step. MemAvailable moves with "
                + "everything else on the host: a step can even show a gain. Containers and VMs have separate panels and scales.",
            body: body)
    }

    /// Memory against the instance count, per backend, to the host's memory: estimated.
    static func estimatedDensity(_ files: [LabelledResults]) -> Figure? {
        var lines: [(String, Double)] = []
        var hostMemory = 0.0
        for f in files {
            guard let metric = memoryMetric(f) else { continue }
            hostMemory = max(hostMemory, Double(f.results.environment.memoryBytes))
            for b in f.results.backendOrder {
                if let m = median(values(f, MetricRoles.memory, metric, b)), m > 0 { lines.append((seriesLabel(b, f, files), m)) }
            }
        }
        guard !lines.isEmpty, hostMemory > 0 else { return nil }
        let gib = Double(1 << 30)
        let maxCount = max(10, lines.map { hostMemory / $0.1 }.max() ?? 10) * 1.5
        let plots = lines.enumerated().map { i, l in
            "(x * \(Gnuplot.number(l.1 / gib))) with lines lw 2 lc rgb '\(palette(i))' title \(Gnuplot.quoted("\(l.0): \(Format.whole(hostMemory / l.1)) fit"))"
        } + ["\(Gnuplot.number(hostMemory / gib)) with lines dt 2 lw 2 lc rgb '#000000' title 'host memory'"]
        let body = """
        set title 'Density: memory against the number of idle instances'
        set xlabel 'idle instances (log scale)'
        set ylabel 'memory used (GiB)'
        set logscale x
        set xrange [1:\(Gnuplot.number(maxCount))]
        set yrange [0:\(Gnuplot.number(hostMemory / gib * 1.15))]
        set samples 400
        set grid
        set key outside right
        plot \(plots.joined(separator: ", \\\n     "))

        """
        return Figure(
            name: "density", title: "How many instances fit",
            caption: "Estimated, not measured at these counts: the median idle memory per instance times the count, against the host's memory "
                + "(\(Format.bytes(hostMemory))). The legend gives where each line crosses it; page cache and the host's own use are ignored.",
            body: body)
    }

    // MARK: Disk

    /// Disk footprint per backend: shared bytes (image, base disk) and bytes paid per instance, stacked.
    static func diskFootprint(_ files: [LabelledResults]) -> Figure? {
        var rows: [[String]] = []
        for f in files {
            let ms = metrics([f], workload: MetricRoles.disk).filter { $0.1 == .bytes }.map(\.0)
            for b in f.results.backendOrder {
                var shared = 0.0, unique = 0.0, any = false
                for m in ms {
                    guard let v = median(values(f, MetricRoles.disk, m, b)) else { continue }
                    any = true
                    if MetricRoles.isPerInstanceDisk(m) { unique += v } else { shared += v }
                }
                if any { rows.append([Gnuplot.column(seriesLabel(b, f, files)), Gnuplot.number(shared / 1_048_576), Gnuplot.number(unique / 1_048_576)]) }
            }
        }
        guard !rows.isEmpty else { return nil }
        let body = stackedBars(
            "disk", rows, series: ["shared (image, base disk)", "per instance (writable layer, overlay disk)"],
            title: "Disk footprint: shared and per-instance bytes", ylabel: "allocated bytes on disk (MiB)",
            xlabel: "backend", key: "top left")
        return Figure(
            name: "disk-footprint", title: "Disk footprint",
            caption: "Median allocated bytes (blocks, not apparent sizes): what all instances share once, and what each instance adds.",
            body: body)
    }

    // MARK: Throughput

    /// Performance relative to native (1 = native, higher is better) with its 95% interval.
    struct Relative {
        var value: Double
        var interval: ClosedInterval?
    }

    /// The harness's own ratio where it has one (it knows which native series a bridge or a
    /// volume compares with), else the ratio of the medians of the same metric.
    static func relativeToNative(_ f: LabelledResults, _ key: SeriesKey) -> Relative? {
        guard key.backend != "native",
              let direction = f.index.first[key]?.direction else { return nil }
        let summary = f.index.summaries[key]
        var ratio = summary?.ratioToNative
        var interval = summary?.ratioToNativeCI95
        let series = f.index.measured
        if ratio == nil, let mine = series[key], let native = series[SeriesKey(workload: key.workload, metric: key.metric, backend: "native")],
           let a = median(mine), let b = median(native), b != 0 {
            ratio = a / b
            interval = Bootstrap.ratioOfMediansInterval(mine, native, seed: 1)
        }
        guard let r = ratio, r > 0 else { return nil }
        if direction == .higherIsBetter { return Relative(value: r, interval: interval) }
        // Lower is better (a latency): native / backend, so that higher still reads as better.
        return Relative(value: 1 / r, interval: interval.flatMap { $0.low > 0 ? ClosedInterval(low: 1 / $0.high, high: 1 / $0.low) : nil })
    }

    /// The figure's groups present in `files`: the harness's headlines, then, for a workload
    /// without one here, its first rate.
    public static func throughputGroups(_ files: [LabelledResults]) -> [MetricRoles.ThroughputGroup] {
        var present: [(workload: String, metric: String, direction: Direction)] = []
        for f in files {
            for s in f.results.samples where MetricRoles.isThroughputWorkload(s.workload) && !present.contains(where: { $0.workload == s.workload && $0.metric == s.metric }) {
                present.append((s.workload, s.metric, s.direction))
            }
        }
        var groups = MetricRoles.throughputHeadlines.filter { g in present.contains { $0.workload == g.workload && g.metrics.contains($0.metric) } }
        for p in present where p.direction == .higherIsBetter && !groups.contains(where: { $0.workload == p.workload }) {
            groups.append(.init(workload: p.workload, label: "\(p.workload): \(p.metric)", metrics: [p.metric]))
        }
        return groups
    }

    /// A backend's figure for a group: the first of its metrics the backend has a ratio for.
    static func relative(_ f: LabelledResults, _ group: MetricRoles.ThroughputGroup, _ backend: String) -> Relative? {
        for metric in group.metrics {
            if let r = relativeToNative(f, SeriesKey(workload: group.workload, metric: metric, backend: backend)) { return r }
        }
        return nil
    }

    /// One bar group per workload headline, one bar per backend (and file), normalised to native, with CIs.
    static func throughput(_ files: [LabelledResults]) -> Figure? {
        let groups = throughputGroups(files)
        var columns: [(LabelledResults, String)] = []
        for f in files {
            for b in f.results.backendOrder where b != "native" {
                if groups.contains(where: { relative(f, $0, b) != nil }) { columns.append((f, b)) }
            }
        }
        guard !groups.isEmpty, !columns.isEmpty else { return nil }
        let rows = groups.map { g -> [String] in
            [Gnuplot.column(g.label)] + columns.flatMap { f, b -> [String] in
                let r = relative(f, g, b)
                return [Gnuplot.number(r?.value ?? .nan), Gnuplot.number(r?.interval?.low ?? r?.value ?? .nan), Gnuplot.number(r?.interval?.high ?? r?.value ?? .nan)]
            }
        }
        // Dots with their intervals, not bars: a bar's length on a log axis depends on where the
        // axis starts and means nothing.
        let spread = 0.7 / Double(max(columns.count, 1))
        let plots = columns.enumerated().map { i, c in
            let offset = (Double(i) - Double(columns.count - 1) / 2) * spread
            let lc = c.0.results.kind(of: c.1) == "vm" ? colour(c.0.results, c.1) : palette(i)
            return "$throughput using ($0 + \(Gnuplot.number(offset))):\(3 * i + 2):\(3 * i + 3):\(3 * i + 4) with yerrorbars pt 7 ps 1.2 lw 1.5 "
                + "lc rgb '\(lc)' title \(Gnuplot.quoted(seriesLabel(c.1, c.0, files)))"
        }
        let tics = groups.enumerated().map { "\(Gnuplot.quoted($0.element.label)) \($0.offset)" }.joined(separator: ", ")
        let body = Gnuplot.dataBlock("throughput", rows) + """
        set title 'Performance relative to native (1 = native)'
        set ylabel 'relative to native (ratio, higher is better, log scale)'
        set logscale y
        set yrange [0.005:5]
        set xrange [-0.6:\(Gnuplot.number(Double(groups.count) - 0.4))]
        set xtics (\(tics)) rotate by -25 font ',9'
        set bmargin 8
        set key outside right font ',9'
        set grid ytics
        set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb '#000000'
        plot \(plots.joined(separator: ", \\\n     "))

        """
        return Figure(
            name: "throughput", title: "Throughput normalised to native",
            caption: "One group per workload's headline figure: each backend's median over native's median in the same run (a dot, log scale); error bars are 95% bootstrap intervals over both sides. "
                + "For lower-is-better figures (a round trip) the ratio is inverted, so higher always reads as better. A network group shows each backend's bridge where it has one, else the host's network, against native's loopback. Every other series is in the table below.",
            body: body)
    }
}

// MARK: Headline

extension Plots {
    /// The colours of containers and of VMs in every figure, so a slide reads the same way.
    static let containerColour = "#1f77b4", vmColour = "#d62728", fullVMColour = "#8b0000", nativeColour = "#7f7f7f"

    static func colour(_ file: ResultsFile, _ backend: String) -> String {
        switch file.kind(of: backend) ?? (backend.hasPrefix("vm") ? "vm" : "container") {
        case "vm": return backend == "vm-full" ? fullVMColour : vmColour
        case "native": return nativeColour
        default: return containerColour
        }
    }

    /// The 3-4 backends a headline shows: ours, the best-known peer (docker, else podman, runc,
    /// crun), the micro guest and the full-OS guest, those the file measured.
    static func headlineBackends(_ f: ResultsFile) -> [String] {
        let measured = Set(f.samples.map(\.backend))
        var out = ["intermodal"].filter(measured.contains)
        if let peer = ["docker", "podman", "runc", "crun"].first(where: measured.contains) { out.append(peer) }
        out += ["vm", "vm-full"].filter(measured.contains)
        return out
    }

    /// One panel's figures: (backend, median, n, label), in the headline's order.
    struct Panel {
        /// A table column's name.
        var short: String
        var title: String
        var ylabel: String
        var bars: [Bar]
    }

    typealias Bar = (backend: String, value: Double, n: Int, label: String)

    /// The headline panels of one file: start-up, idle memory per instance, disk, instances per GiB.
    static func headlinePanels(_ f: LabelledResults) -> [Panel] {
        let r = f.results
        let backends = headlineBackends(r)
        var panels: [Panel] = []
        let startupMetric = MetricRoles.headlineStartup(metrics([f], workload: MetricRoles.startup).map(\.0))
        if let metric = startupMetric {
            let bars = backends.compactMap { b -> Bar? in
                let v = values(f, MetricRoles.startup, metric, b)
                guard let m = median(v) else { return nil }
                return (b, m, v.count, m >= 1000 ? "\(Format.number(m / 1000)) s" : "\(Format.number(m)) ms")
            }
            if !bars.isEmpty { panels.append(Panel(short: "start-up", title: "Start-up: \(MetricRoles.plainName(metric))", ylabel: "median (ms)", bars: bars)) }
        }
        if let metric = memoryMetric(f) {
            let bars = backends.compactMap { b -> Bar? in
                let v = values(f, MetricRoles.memory, metric, b)
                guard let m = median(v), m > 0 else { return nil }
                return (b, m / 1_048_576, v.count, Format.bytes(m))
            }
            if !bars.isEmpty { panels.append(Panel(short: "idle memory per instance", title: "Idle memory per instance", ylabel: "median (MiB)", bars: bars)) }
        }
        let diskBars = backends.compactMap { b -> Bar? in
            let shared = metrics([f], workload: MetricRoles.disk).filter { $0.1 == .bytes && !MetricRoles.isPerInstanceDisk($0.0) }
            let parts = shared.compactMap { median(values(f, MetricRoles.disk, $0.0, b)) }
            guard !parts.isEmpty else { return nil }
            let total = parts.reduce(0, +)
            return (b, total / 1_048_576, 1, Format.bytes(total))
        }
        if !diskBars.isEmpty { panels.append(Panel(short: "image or disk", title: "Image or VM disk on the host", ylabel: "allocated (MiB)", bars: diskBars)) }
        let densityBars = backends.compactMap { b -> Bar? in
            let measured = values(f, MetricRoles.density, "host-memory-per-instance", b)
            let idle = memoryMetric(f).map { values(f, MetricRoles.memory, $0, b) } ?? []
            let each = median(measured) ?? median(idle)
            guard let each, each > 0 else { return nil }
            let perGiB = Double(1 << 30) / each
            return (b, perGiB, measured.isEmpty ? idle.count : measured.count, perGiB >= 1 ? String(Int(perGiB.rounded())) : Format.number(perGiB))
        }
        if !densityBars.isEmpty { panels.append(Panel(short: "instances per GiB", title: "Idle instances per GiB of host memory", ylabel: "instances", bars: densityBars)) }
        return panels
    }

    /// Container against VM on one slide: four panels of medians, each bar labelled with its
    /// value, containers and VMs in their own colours, the accelerator printed in the image.
    public static func headline(_ files: [LabelledResults]) -> Figure? {
        guard let f = files.first else { return nil }
        let panels = headlinePanels(f)
        guard panels.count >= 2 else { return nil }
        var body = "set multiplot layout 2,2 title \(Gnuplot.quoted("Containers and VMs on this host: medians (\(f.label))")) "
            + "margins 0.09,0.98,0.1,0.84 spacing 0.11,0.18\n"
        for (i, p) in panels.enumerated() {
            let block = "headline\(i)"
            body += Gnuplot.dataBlock(block, p.bars.enumerated().map { j, bar in
                [Gnuplot.number(Double(j)), Gnuplot.number(bar.value), Gnuplot.column(bar.backend), Gnuplot.column(bar.label),
                 String(Int(colour(f.results, bar.backend).dropFirst(), radix: 16) ?? 0)]
            })
            let top = (p.bars.map(\.value).max() ?? 1) * 1.3
            body += """
            set title \(Gnuplot.quoted(p.title))
            set ylabel \(Gnuplot.quoted(p.ylabel))
            unset xlabel
            set yrange [0:\(Gnuplot.number(top))]
            set xrange [-0.6:\(Gnuplot.number(Double(p.bars.count) - 0.4))]
            set style fill solid 0.85 border -1
            set boxwidth 0.6
            set grid ytics
            set key off
            set format y '%.0f'
            plot $\(block) using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \\
                 $\(block) using 1:2:4 with labels offset 0,0.8 font ',10' notitle

            """
        }
        body += "unset multiplot\n"
        let counts = panels.first.map { p in p.bars.map { "\($0.backend) n=\($0.n)" }.joined(separator: ", ") } ?? ""
        return Figure(
            name: "headline", title: "Containers and VMs on this host",
            caption: "Medians on linear axes, each bar labelled with its value: start-up (\(counts)), idle memory per instance, "
                + "the image (containers) or disk (VMs) on the host, and how many idle instances fit in a GiB of host memory "
                + "(measured by the density workload where it ran, else from the idle memory). Containers blue, VMs red.",
            body: body, mark: f.results.acceleratorMark)
    }
}
