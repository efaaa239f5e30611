import BenchmarkResults
import Foundation
import IntermodalCore
import SystemPackage

/// `intermodal report --history DIR`: many results files of one host and suite (a CI runner's
/// last runs, one per commit) as each headline metric over time, with the steps that `compare`
/// finds between neighbouring runs marked: the per-benchmark history graphs with detected steps
/// of airspeed velocity (asv), with `compare`'s own test (Mann-Whitney U, Holm-adjusted over the
/// series of each neighbouring pair, and a median change beyond the threshold) as the detector.
public enum History {
    /// A significant change between a run and the one before it.
    public struct Step: Sendable {
        /// Index of the later run in ``Analysis/runs``.
        public var run: Int
        public var comparison: SeriesComparison
    }

    /// A headline metric of a workload; a line per backend in its figure.
    public struct Headline: Sendable, Equatable {
        public var workload: String
        public var metric: String
        public var unit: MetricUnit
    }

    public struct Analysis: Sendable {
        /// The runs in time order (RFC 3339 start times, then file names).
        public var runs: [LabelledResults]
        /// The metrics drawn: each workload's headline, then any other with a step.
        public var headlines: [Headline]
        /// Every series' significant changes, in run order.
        public var steps: [Step]
        /// Neighbouring pairs whose samples are too few to flag a change in some series, by later run.
        public var underpowered: [Int: [SeriesKey]]
        public var options: ComparisonOptions
    }

    /// Every `*.json` file in `directory` (not below it), each of which must be a results file.
    public static func load(_ directory: FilePath) throws(IntermodalError) -> [LabelledResults] {
        guard FileSystem.isDirectory(directory) else { throw IntermodalError(.invalidArgument, "\(directory) is not a directory") }
        var runs: [(LabelledResults, String)] = []
        for name in try FileSystem.list(directory) where name.hasSuffix(".json") {
            runs.append((try LabelledResults.load(directory.appending(name)), name))
        }
        guard runs.count >= 2 else {
            throw IntermodalError(.invalidArgument, "\(directory) holds \(runs.count) results file(s); a history needs at least two")
        }
        // The harness writes start times as RFC 3339 UTC to the second: they sort as strings.
        runs.sort { ($0.0.results.startedAt, $0.1) < ($1.0.results.startedAt, $1.1) }
        return LabelledResults.uniquelyLabelled(runs.map(\.0))
    }

    /// Compares each run with the one before it. Throws when two runs are of different suites,
    /// or of different hosts unless `options.allowDifferentHosts`.
    public static func analyse(_ runs: [LabelledResults], options: ComparisonOptions = .init()) throws(IntermodalError) -> Analysis {
        guard runs.count >= 2 else { throw IntermodalError(.invalidArgument, "a history needs at least two results files") }
        var steps: [Step] = []
        var underpowered: [Int: [SeriesKey]] = [:]
        for i in 1..<runs.count {
            let before = runs[i - 1], after = runs[i]
            guard before.results.suite.name == after.results.suite.name else {
                throw IntermodalError(
                    .invalidArgument,
                    "\(after.label) ran suite \(after.results.suite.name), \(before.label) suite \(before.results.suite.name): a history is of one suite")
            }
            let comparison: Comparison
            do { comparison = try Compare.run(baseline: before, current: after, options: options) } catch {
                throw IntermodalError(.invalidArgument, "\(before.label) and \(after.label): \(error.message)")
            }
            steps += comparison.series.filter { $0.verdict != .unchanged }.map { Step(run: i, comparison: $0) }
            if !comparison.underpowered.isEmpty { underpowered[i] = comparison.underpowered }
        }
        // Each headline metric, and every other metric in which a step was found: a step is never
        // only a table row.
        var shown = headlines(runs)
        for s in steps where !shown.contains(where: { $0.workload == s.comparison.series.workload && $0.metric == s.comparison.series.metric }) {
            shown.append(Headline(workload: s.comparison.series.workload, metric: s.comparison.series.metric, unit: s.comparison.unit))
        }
        return Analysis(runs: runs, headlines: shown, steps: steps, underpowered: underpowered, options: options)
    }

    /// Each workload's headline metric, as the fleet report picks it, in first-seen order.
    static func headlines(_ runs: [LabelledResults]) -> [Headline] {
        FleetReport.workloads(runs).compactMap { w in
            FleetReport.headlineMetric(runs, workload: w).map { Headline(workload: w, metric: $0.0, unit: $0.1) }
        }
    }

    /// The history as a document and its figures.
    public static func document(_ a: Analysis) -> (Document, [Figure]) {
        let first = a.runs[0].results
        var doc = Document(title: "Intermodal history: \(first.suite.name) on \(first.environment.hostName)")
        doc.blocks.append(.paragraph(
            "\(a.runs.count) runs of suite \(first.suite.name) on one host, oldest first. Each headline metric is drawn per backend "
                + "as its median with a 95% bootstrap interval; a marked point is a significant change from the run before "
                + "(`intermodal compare`: p < \(Format.number(a.options.alpha)) after Holm's adjustment over the pair's series, "
                + "and a median change beyond \(Format.percent(a.options.threshold)))."))
        doc.blocks.append(.heading(level: 2, "Runs"))
        doc.blocks.append(.table(
            header: ["#", "label", "commit", "started", "suite hash", "samples"],
            rows: a.runs.enumerated().map { i, r in
                ["\(i + 1)", r.label, r.results.environment.gitCommit.map { String($0.prefix(12)) } ?? "unknown",
                 r.results.startedAt + (r.results.interrupted ? " (interrupted)" : ""),
                 String(r.results.suiteHash.prefix(12)), "\(r.results.samples.filter { !$0.warmup }.count)"]
            }))
        doc.blocks.append(.heading(level: 2, "Steps between neighbouring runs"))
        if a.steps.isEmpty {
            doc.blocks.append(.paragraph("No series changed significantly between two neighbouring runs."))
        } else {
            doc.blocks.append(.table(
                header: ["between", "series", "before", "after", "change", "\(Format.percent(1 - a.options.alpha)) CI", "p (Holm)", "verdict"],
                rows: a.steps.map { s in
                    let c = s.comparison
                    return ["\(a.runs[s.run - 1].label) → \(a.runs[s.run].label)", c.series.description,
                            "\(Format.value(c.baselineMedian, c.unit)) (n=\(c.baselineCount))",
                            "\(Format.value(c.currentMedian, c.unit)) (n=\(c.currentCount))",
                            Format.signedPercent(c.change),
                            c.changeInterval.map { "\(Format.signedPercent($0.low)) … \(Format.signedPercent($0.high))" } ?? "n/a",
                            Format.pValue(c.adjustedPValue), "**\(c.verdict.rawValue)**"]
                }))
        }
        if !a.underpowered.isEmpty {
            doc.blocks.append(.list(a.underpowered.keys.sorted().map { i in
                "\(a.runs[i - 1].label) → \(a.runs[i].label): too few samples for a change in \(a.underpowered[i]!.count) series to reach significance (raise the runs)"
            }))
        }
        let figures = a.headlines.compactMap { figure(a, $0) }
        doc.blocks.append(.heading(level: 2, "Headline metrics (and any with a step) over the runs"))
        for f in figures { doc.blocks.append(.figure(f)) }
        return (doc, figures)
    }

    /// Reads, analyses and writes the history of the results files in `directory`.
    public static func write(
        _ directory: FilePath, options: ComparisonOptions = .init(), to out: FilePath
    ) async throws(IntermodalError) -> RenderedReport {
        let (doc, figures) = document(try analyse(try load(directory), options: options))
        return try await Rendering.write(doc, figures, to: out)
    }

    /// One headline metric: a line per backend over the runs, with interval bars and the steps marked.
    static func figure(_ a: Analysis, _ h: Headline) -> Figure? {
        let backends = Plots.backends(a.runs) { !Plots.values($0, h.workload, h.metric, $1).isEmpty }
        guard !backends.isEmpty else { return nil }
        var body = "", plots: [String] = [], counts: [String] = []
        var values: [Double] = []
        for (bi, b) in backends.enumerated() {
            var rows: [[String]] = []
            var n: [Int] = []
            for (i, r) in a.runs.enumerated() {
                let v = Plots.values(r, h.workload, h.metric, b)
                guard !v.isEmpty else { continue }
                let s = Summary(v, seed: 1, resamples: 500)
                let ci = s.medianCI95 ?? ClosedInterval(low: s.median, high: s.median)
                rows.append([String(i + 1), Gnuplot.number(s.median), Gnuplot.number(ci.low), Gnuplot.number(ci.high)])
                values += [ci.low, ci.high]
                n.append(s.count)
            }
            body += Gnuplot.dataBlock("b\(bi)", rows)
            plots.append("$b\(bi) using 1:2:3:4 with yerrorlines lc rgb '\(Plots.palette(bi))' pt 7 title \(Gnuplot.quoted(b))")
            counts.append("\(b) n=\(n.min() ?? 0)" + (n.min() != n.max() ? "–\(n.max() ?? 0)" : ""))
            let marked = a.steps.filter { $0.comparison.series == SeriesKey(workload: h.workload, metric: h.metric, backend: b) }
            if !marked.isEmpty {
                body += Gnuplot.dataBlock("s\(bi)", marked.map { s in
                    [String(s.run + 1), Gnuplot.number(s.comparison.currentMedian),
                     Gnuplot.column("\(Format.signedPercent(s.comparison.change)) \(s.comparison.verdict.rawValue)")]
                })
                plots.append("$s\(bi) using 1:2 with points pt 6 ps 3 lw 2 lc rgb '#d62728' notitle")
                plots.append("$s\(bi) using 1:2:3 with labels offset 0,1.5 tc rgb '#d62728' notitle")
            }
        }
        let logScale = FleetReport.wantsLogScale(values)
        let tics = a.runs.enumerated().map { "\(Gnuplot.quoted($0.element.label)) \($0.offset + 1)" }.joined(separator: ", ")
        let symbol = h.unit.symbol.isEmpty ? h.unit.rawValue : h.unit.symbol
        body += """
            set title \(Gnuplot.quoted("\(h.workload): \(h.metric) over \(a.runs.count) runs"))
            set ylabel \(Gnuplot.quoted("\(h.metric) (\(symbol)\(logScale ? ", log scale" : ""))"))
            set xlabel 'run (oldest first)'
            set xtics (\(tics)) rotate by -30
            set xrange [0.5:\(Double(a.runs.count) + 0.5)]
            \(logScale ? "set logscale y" : "set yrange [0:*]")
            set grid ytics
            set key outside right top
            plot \(plots.joined(separator: ", \\\n     "))

            """
        let safe = String("\(h.workload)-\(h.metric)".map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let stepCount = a.steps.filter { $0.comparison.series.workload == h.workload && $0.comparison.series.metric == h.metric }.count
        return Figure(
            name: "history-\(safe)", title: Gnuplot.text("\(h.workload): \(h.metric) over the runs"),
            // The script quotes title and caption in comments: no newline of a label may end one.
            caption: Gnuplot.text("Median per run and backend with its 95% bootstrap interval (none below n=3); "
                + "circled: \(stepCount) significant change(s) from the run before. Samples per run: "
                + counts.joined(separator: ", ") + "."),
            body: body)
    }
}
