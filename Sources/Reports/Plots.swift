import BenchmarkResults
import Foundation

/// The report's figures, built from one or more labelled results files side by side. A figure
/// with nothing to show is not made; ``Plots/all(_:)`` says why in its `missing` list.
public enum Plots {
    /// Every figure the files have data for, and a sentence for each one they do not.
    public static func all(_ files: [LabelledResults]) -> (figures: [Figure], missing: [String]) {
        var figures: [Figure] = []
        var missing: [String] = []
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
        yrange: String? = nil, key: String
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
        set xtics rotate by -20
        set key \(key)
        set grid ytics
        plot \(plots.joined(separator: ", \\\n     "))

        """
    }

    static func palette(_ i: Int) -> String {
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
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
                    plots.append("$\(block) using (\(x)):1 with boxplot lc rgb '\(palette(fi))' \(title)")
                }
            }
            // A log scale shows no zero: a metric whose every sample is 0 has nothing to plot.
            guard !plots.isEmpty else { continue }
            let tics = bs.enumerated().map { "\(Gnuplot.quoted($0.element)) \($0.offset + 1)" }.joined(separator: ", ")
            let symbol = unit.symbol.isEmpty ? unit.rawValue : unit.symbol
            body += """
            set title \(Gnuplot.quoted("Start-up: \(metric)"))
            set ylabel \(Gnuplot.quoted("\(metric) (\(symbol), log scale)"))
            set xlabel 'backend'
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
                name: "startup-\(String(safe))", title: "Start-up latency: \(metric)",
                caption: "Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. "
                    + sampleCounts(files, MetricRoles.startup, metric, bs) + ".",
                body: body))
        }
        return figures
    }

    /// Where start-up time goes, per backend: the phases as a 100% stacked bar, totals in the labels.
    static func startupPhases(_ files: [LabelledResults]) -> Figure? {
        var rows: [[String]] = []
        let categories = PhaseCategory.allCases
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
                let label = "\(seriesLabel(b, f, files)) \(Format.number(total)) ms"
                rows.append([Gnuplot.column(label)] + categories.map { Gnuplot.number(100 * (parts[$0] ?? 0) / total) })
            }
        }
        guard !rows.isEmpty else { return nil }
        let body = stackedBars(
            "phases", rows, series: categories.map(\.rawValue),
            title: "Where start-up time goes (median of each phase mark)", ylabel: "share of start-up (%)",
            xlabel: "backend and its median start-up (ms)", yrange: "[0:100]", key: "outside right")
        return Figure(
            name: "startup-phases", title: "Where start-up time goes",
            caption: "Each backend's phase marks (recorded by its library, ms after the spawn) sorted by median offset; each interval is "
                + "attributed to the part it ends (runtime set-up, kernel, init, command, cleanup). Backends that record no phases are absent.",
            body: body)
    }

    // MARK: Memory

    static func memoryMetric(_ f: LabelledResults) -> String? {
        MetricRoles.perInstanceMemory(metrics([f], workload: MetricRoles.memory))
    }

    /// Idle memory per instance, stacked by component (MiB).
    static func memoryByComponent(_ files: [LabelledResults]) -> Figure? {
        var components: [String] = []
        var perRow: [(String, [String: Double], Int)] = []
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
                perRow.append((seriesLabel(b, f, files), parts, samples.count))
            }
        }
        guard !perRow.isEmpty else { return nil }
        let rows = perRow.map { label, parts, n in
            [Gnuplot.column("\(label) n=\(n)")] + components.map { Gnuplot.number((parts[$0] ?? 0) / 1_048_576) }
        }
        let body = stackedBars(
            "memory", rows, series: components, title: "Idle memory per instance, by component",
            ylabel: "memory per instance (MiB)", xlabel: "backend", key: "outside right")
        return Figure(
            name: "memory-components", title: "Idle memory per instance",
            caption: "Median per instance of each component (the instance's own processes, its monitor, QEMU, ...), MiB; n is the samples per backend.",
            body: body)
    }

    /// How many instances fit: the measured curve where the run has the density workload, else
    /// the estimate from the idle memory per instance.
    public static func density(_ files: [LabelledResults]) -> Figure? {
        measuredDensity(files) ?? estimatedDensity(files)
    }

    /// The density workload's curve: host memory used against the number of idle instances
    /// running, one line per backend, measured step by step.
    static func measuredDensity(_ files: [LabelledResults]) -> Figure? {
        var blocks: [String] = []
        var plots: [String] = []
        for f in files {
            for b in f.results.backendOrder {
                let all = f.results.samples
                    .filter { $0.workload == MetricRoles.density && $0.metric == MetricRoles.densityStep && $0.backend == b && !$0.warmup }
                    .compactMap { s in s.components?["instances"].map { ($0, s.value) } }
                    .sorted { $0.0 < $1.0 }
                // A log scale has no place for a step where MemAvailable did not drop.
                let steps = all.filter { $0.1 > 0 }
                guard let last = all.last, !steps.isEmpty else { continue }
                let name = "density\(blocks.count)"
                blocks.append(Gnuplot.dataBlock(name, steps.map { [Gnuplot.number($0.0), Gnuplot.number($0.1 / 1_048_576)] }))
                let label = seriesLabel(b, f, files) + ": \(Format.whole(last.0)) started"
                plots.append("$\(name) using 1:2 with linespoints lw 2 pt 7 lc rgb '\(palette(plots.count))' title \(Gnuplot.quoted(label))")
            }
        }
        guard !plots.isEmpty else { return nil }
        let body = blocks.joined() + """
        set title 'Density: host memory used by idle instances, measured'
        set xlabel 'idle instances running'
        set ylabel 'host memory used (MiB, drop of MemAvailable)'
        set logscale y
        set grid
        set key outside right
        plot \(plots.joined(separator: ", \\\n     "))

        """
        return Figure(
            name: "density", title: "How many instances fit",
            caption: "Measured: idle instances started one after another and kept running, until the suite's memory budget or count; "
                + "after each start, the host memory all of them use (the drop of MemAvailable since the first; steps where it did not drop are left out of the log scale). "
                + "The legend gives how many were started. MemAvailable moves with everything else on the host: read the slope, not single steps.",
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
        let plots = columns.enumerated().map { i, c in
            (i == 0 ? "$throughput using 2:3:4:xtic(1)" : "'' using \(3 * i + 2):\(3 * i + 3):\(3 * i + 4)")
                + " title \(Gnuplot.quoted(seriesLabel(c.1, c.0, files))) lc rgb '\(palette(i))'"
        }
        let body = Gnuplot.dataBlock("throughput", rows) + """
        set title 'Performance relative to native (1 = native)'
        set ylabel 'relative to native (ratio, higher is better)'
        set style data histograms
        set style histogram errorbars gap 2 lw 1
        set style fill solid 0.7 border -1
        set logscale y
        set yrange [0.005:5]
        set xtics rotate by -25 font ',9'
        set bmargin 7
        set key outside right
        set grid ytics
        set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb '#000000'
        plot \(plots.joined(separator: ", \\\n     "))

        """
        return Figure(
            name: "throughput", title: "Throughput normalised to native",
            caption: "One group per workload's headline figure: each backend's median over native's median in the same run (log scale); error bars are 95% bootstrap intervals over both sides. "
                + "For lower-is-better figures (a round trip) the ratio is inverted, so higher always reads as better. A network group shows each backend's bridge where it has one, else the host's network, against native's loopback. Every other series is in the table below.",
            body: body)
    }
}
