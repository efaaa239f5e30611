import BenchmarkResults
import Foundation
import IntermodalCore

/// What `compare` judges by.
public struct ComparisonOptions: Sendable {
    /// The smallest relative change of the median that counts (0.05 for 5%).
    public var threshold: Double
    /// The significance level the p-value must be below; the CI of the change is at 1 - alpha.
    public var alpha: Double
    /// Compare files from different hosts or accelerators anyway.
    public var allowDifferentHosts: Bool
    /// Compare files of different suites (their suite hashes differ) anyway.
    public var allowDifferentSuites = false
    /// Bootstrap resamples for the interval of the change.
    public var resamples: Int
    public var seed: UInt64

    public init(threshold: Double = 0.05, alpha: Double = 0.01, allowDifferentHosts: Bool = false,
                resamples: Int = 2000, seed: UInt64 = 1) {
        self.threshold = threshold
        self.alpha = alpha
        self.allowDifferentHosts = allowDifferentHosts
        self.resamples = resamples
        self.seed = seed
    }
}

/// A series' verdict: a change must be significant (p < alpha) and beyond the threshold.
public enum Verdict: String, Codable, Sendable {
    case regressed, improved, unchanged
    /// Too few samples for any change to reach significance: no verdict either way.
    case undecidable = "too-few-samples"
}

/// One series in both files.
public struct SeriesComparison: Codable, Sendable {
    public var series: SeriesKey
    public var unit: MetricUnit
    public var direction: Direction
    public var baselineCount: Int
    public var currentCount: Int
    public var baselineMedian: Double
    public var currentMedian: Double
    /// median(current) / median(baseline) - 1.
    public var change: Double
    /// Bootstrap interval of ``change`` at 1 - alpha.
    public var changeInterval: ClosedInterval?
    /// Two-sided Mann-Whitney U p-value.
    public var pValue: Double
    /// ``pValue`` adjusted by Holm's method over the series that can reach significance
    /// (Tarone's K of them), so that the chance of any false alarm in one comparison stays below
    /// alpha; the verdict uses this. 1 for a series that cannot reach significance.
    public var adjustedPValue: Double
    /// The smallest p-value these sample counts can give at all.
    public var smallestPossiblePValue: Double
    /// The smallest relative change of the median this comparison would detect (80% power, at the
    /// per-series level of the correction); infinity when none can be; nil for non-positive figures.
    public var detectableChange: Double?
    /// The samples sit on a few levels (the clock's resolution): the change must pass a step.
    public var quantised: Quantisation.Finding?
    public var verdict: Verdict
}

/// The result of comparing a baseline results file with a current one.
public struct Comparison: Codable, Sendable {
    public var baselineLabel: String
    public var currentLabel: String
    public var threshold: Double
    public var alpha: Double
    public var series: [SeriesComparison]
    /// Series in only one of the files (not judged).
    public var onlyInBaseline: [SeriesKey]
    public var onlyInCurrent: [SeriesKey]
    /// What differs between the two hosts, when the comparison was allowed anyway.
    public var hostDifferences: [String]
    /// Series with too few samples to ever reach significance after the correction (even fully
    /// separated samples give a p-value above alpha / K): a regression there cannot be flagged.
    public var underpowered: [SeriesKey]
    /// How many series the correction counts (Tarone's K): those that can reach significance.
    public var hypotheses: Int

    public var regressions: [SeriesComparison] { series.filter { $0.verdict == .regressed } }
    public var improvements: [SeriesComparison] { series.filter { $0.verdict == .improved } }

    /// package-benchmark's convention: 0 unchanged, 2 on any regression, 4 on improvements only.
    public var exitCode: Int32 {
        if !regressions.isEmpty { return 2 }
        if !improvements.isEmpty { return 4 }
        return 0
    }
}

/// `intermodal compare`: the change of each series' median, its interval and its significance.
public enum Compare {
    /// What makes two files' numbers incomparable: host, CPU, core count, accelerator.
    public static func hostDifferences(_ a: Environment, _ b: Environment) -> [String] {
        var out: [String] = []
        if a.hostName != b.hostName { out.append("host \(a.hostName) vs \(b.hostName)") }
        if a.cpuModel != b.cpuModel { out.append("CPU \(a.cpuModel) vs \(b.cpuModel)") }
        if a.cpuCount != b.cpuCount { out.append("\(a.cpuCount) vs \(b.cpuCount) CPUs") }
        if a.accelerator != b.accelerator { out.append("accelerator \(a.accelerator) vs \(b.accelerator)") }
        return out
    }

    /// Compares every series measured in both files. Throws when the hosts or accelerators differ
    /// and that was not allowed.
    public static func run(
        baseline: LabelledResults, current: LabelledResults, options: ComparisonOptions = .init()
    ) throws(IntermodalError) -> Comparison {
        let differences = hostDifferences(baseline.results.environment, current.results.environment)
        if !differences.isEmpty, !options.allowDifferentHosts {
            throw IntermodalError(
                .invalidArgument,
                "the files were measured on different hosts (\(differences.joined(separator: "; "))): their numbers do not compare; pass --allow-different-hosts to compare them anyway")
        }
        // Another suite measures other work under the same names (a quick suite's runs and
        // budgets against a full one's): its medians are no baseline for these.
        if baseline.results.suiteHash != current.results.suiteHash, !options.allowDifferentSuites {
            throw IntermodalError(
                .invalidArgument,
                "the files come from different suites (\(baseline.results.suite.name) \(baseline.results.suiteHash.prefix(12)) vs "
                    + "\(current.results.suite.name) \(current.results.suiteHash.prefix(12))): their numbers do not compare; "
                    + "pass --allow-different-suites to compare them anyway")
        }
        let b = baseline.index.measured, c = current.index.measured
        let keys = b.keys.filter { c[$0] != nil }.sorted()
        // Many series are judged at once: without a correction, 20 series at alpha 0.01 would
        // raise a false alarm in about one comparison of five. A series whose sample counts cannot
        // give a small enough p-value is left out of the count (Tarone), not allowed to dilute it.
        let smallest = keys.map { DetectableChange.smallestPossiblePValue(b[$0]!.count, c[$0]!.count) }
        let (k, eligible) = Multiplicity.tarone(smallestPossible: smallest, alpha: options.alpha)
        let perSeriesAlpha = options.alpha / Double(max(k, 1))
        var judged: [SeriesComparison] = []
        for (index, key) in keys.enumerated() {
            guard let sample = current.index.first[key] else { continue }
            judged.append(series(key, unit: sample.unit, direction: sample.direction,
                                 baseline: b[key]!, current: c[key]!, options: options,
                                 seed: options.seed &+ UInt64(index), perSeriesAlpha: perSeriesAlpha))
        }
        let eligibleSet = Set(eligible.map { keys[$0] })
        let inCount = judged.indices.filter { eligibleSet.contains(judged[$0].series) }
        let adjusted = Multiplicity.holm(inCount.map { judged[$0].pValue }, hypotheses: k)
        for i in judged.indices { judged[i].adjustedPValue = 1 }
        for (j, i) in inCount.enumerated() { judged[i].adjustedPValue = adjusted[j] }
        for i in judged.indices {
            judged[i].verdict = eligibleSet.contains(judged[i].series)
                ? verdict(judged[i], p: judged[i].adjustedPValue, options: options) : .undecidable
        }
        return Comparison(
            baselineLabel: baseline.label, currentLabel: current.label,
            threshold: options.threshold, alpha: options.alpha, series: judged,
            onlyInBaseline: b.keys.filter { c[$0] == nil }.sorted(),
            onlyInCurrent: c.keys.filter { b[$0] == nil }.sorted(),
            hostDifferences: differences,
            underpowered: judged.filter { !eligibleSet.contains($0.series) }.map(\.series),
            hypotheses: k)
    }

    /// Judges one series on its own (no correction: `perSeriesAlpha` is the level its detectable
    /// change is computed at).
    public static func series(
        _ key: SeriesKey, unit: MetricUnit, direction: Direction, baseline: [Double], current: [Double],
        options: ComparisonOptions, seed: UInt64, perSeriesAlpha: Double? = nil
    ) -> SeriesComparison {
        let mb = Quantile.of(sorted: baseline.sorted(), 0.5)
        let mc = Quantile.of(sorted: current.sorted(), 0.5)
        let change = mb == 0 ? (mc == 0 ? 0 : .infinity) : mc / mb - 1
        let interval = Bootstrap.medianChangeInterval(
            baseline: baseline, current: current, level: 1 - options.alpha, seed: seed, resamples: options.resamples)
        let p = MannWhitney.pValue(baseline, current)
        let level = perSeriesAlpha ?? options.alpha
        var s = SeriesComparison(
            series: key, unit: unit, direction: direction, baselineCount: baseline.count, currentCount: current.count,
            baselineMedian: mb, currentMedian: mc, change: change, changeInterval: interval, pValue: p,
            adjustedPValue: p, smallestPossiblePValue: DetectableChange.smallestPossiblePValue(baseline.count, current.count),
            detectableChange: DetectableChange.relative(baseline: baseline, current: current, alpha: level),
            quantised: Quantisation.detect(baseline + current), verdict: .unchanged)
        // A quantised median moves a step at a time: nothing below a step shows.
        if let q = s.quantised, let d = s.detectableChange { s.detectableChange = max(d, q.relativeStep) }
        s.verdict = verdict(s, p: p, options: options)
        return s
    }

    /// Regressed or improved only when significant, beyond the threshold and, for quantised
    /// samples, by at least one step of the clock.
    static func verdict(_ s: SeriesComparison, p: Double, options: ComparisonOptions) -> Verdict {
        guard p < options.alpha, abs(s.change) > options.threshold else { return .unchanged }
        if let q = s.quantised, abs(s.currentMedian - s.baselineMedian) < q.step { return .unchanged }
        let worse = s.direction == .lowerIsBetter ? s.change > 0 : s.change < 0
        return worse ? .regressed : .improved
    }
}

/// How `compare` prints.
public enum ComparisonFormat: String, CaseIterable, Sendable {
    case text, markdown, json
}

extension Comparison {
    /// The comparison in `format`.
    public func rendered(_ format: ComparisonFormat) -> String {
        switch format {
        case .json:
            return (try? JSON.encode(self, pretty: true)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? "{}\n"
        case .markdown: return markdown
        case .text: return text
        }
    }

    private var headline: String {
        let r = regressions.count, i = improvements.count
        let what = r > 0 ? "\(r) regressed" + (i > 0 ? ", \(i) improved" : "") : i > 0 ? "\(i) improved, none regressed" : "no significant change"
        return "\(currentLabel) against \(baselineLabel): \(what) of \(series.count) series "
            + "(a verdict needs p < \(Format.number(alpha)), Holm-adjusted over the \(hypotheses) series that can reach significance, "
            + "and a median change beyond \(Format.percent(threshold)); \(underpowered.count) series have too few samples for any verdict)"
    }

    private func row(_ s: SeriesComparison) -> [String] {
        [s.series.description,
         "\(Format.value(s.baselineMedian, s.unit)) (n=\(s.baselineCount))",
         "\(Format.value(s.currentMedian, s.unit)) (n=\(s.currentCount))",
         Format.signedPercent(s.change),
         s.changeInterval.map { "\(Format.signedPercent($0.low)) … \(Format.signedPercent($0.high))" } ?? "n/a",
         Format.pValue(s.pValue), Format.pValue(s.adjustedPValue), Self.detectable(s), s.verdict.rawValue]
    }

    /// The smallest change the series could show, as the table says it.
    static func detectable(_ s: SeriesComparison) -> String {
        var out = s.detectableChange.map { $0.isFinite ? "±\(Format.percent($0))" : "none" } ?? "n/a"
        if let q = s.quantised { out += " (quantised: steps of \(Format.percent(q.relativeStep)))" }
        return out
    }

    private var header: [String] {
        ["series", "baseline median", "current median", "change", "\(Format.percent(1 - alpha)) CI", "p", "p (Holm)",
         "detectable change", "verdict"]
    }

    var markdown: String {
        var out = "## Benchmark comparison\n\n\(headline).\n\n"
        if !hostDifferences.isEmpty {
            out += "**The hosts differ** (\(hostDifferences.joined(separator: "; "))): compared because it was asked for; the changes may be the host's.\n\n"
        }
        let rows = series.map { s -> [String] in
            var r = row(s)
            if s.verdict == .regressed || s.verdict == .improved { r[r.count - 1] = "**\(s.verdict.rawValue)**" }
            return r
        }
        out += Markdown.table(header: header, rows: rows)
        out += notJudged(bullet: "- ")
        return out
    }

    var text: String {
        var out = headline + "\n"
        if !hostDifferences.isEmpty { out += "warning: the hosts differ: \(hostDifferences.joined(separator: "; "))\n" }
        out += "\n" + TextTable.render(header: header, rows: series.map(row))
        out += notJudged(bullet: "  ")
        return out
    }

    /// What a short summary carries: the headline and only the series with a verdict.
    public var summaryMarkdown: String {
        var out = "**Against the baseline**: \(headline).\n\n"
        let changed = series.filter { $0.verdict == .regressed || $0.verdict == .improved }
        if !changed.isEmpty { out += Markdown.table(header: header, rows: changed.map(row)) }
        return out
    }

    private func notJudged(bullet: String) -> String {
        var out = ""
        if !underpowered.isEmpty {
            out += "\nToo few samples to reach significance (a regression there cannot be flagged; raise the runs):\n"
                + underpowered.map { "\(bullet)\($0)\n" }.joined()
        }
        if !onlyInBaseline.isEmpty {
            out += "\nOnly in the baseline (not judged):\n" + onlyInBaseline.map { "\(bullet)\($0)\n" }.joined()
        }
        if !onlyInCurrent.isEmpty {
            out += "\nOnly in the current file (not judged):\n" + onlyInCurrent.map { "\(bullet)\($0)\n" }.joined()
        }
        return out
    }
}
