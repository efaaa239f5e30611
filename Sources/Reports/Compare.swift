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
    /// ``pValue`` adjusted by Holm's method over every series of the comparison, so that the
    /// chance of any false alarm in one comparison stays below alpha; the verdict uses this.
    public var adjustedPValue: Double
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
    /// Series with too few samples to ever reach significance after the adjustment (even fully
    /// separated samples give a p-value above alpha): a regression there cannot be flagged.
    public var underpowered: [SeriesKey]

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
        var judged: [SeriesComparison] = []
        for (index, key) in b.keys.filter({ c[$0] != nil }).sorted().enumerated() {
            guard let sample = current.index.first[key] else { continue }
            judged.append(series(key, unit: sample.unit, direction: sample.direction,
                                 baseline: b[key]!, current: c[key]!, options: options,
                                 seed: options.seed &+ UInt64(index)))
        }
        // Many series are judged at once: without a correction, 20 series at alpha 0.01 would
        // raise a false alarm in about one comparison of five.
        let adjusted = holm(judged.map(\.pValue))
        for i in judged.indices {
            judged[i].adjustedPValue = adjusted[i]
            judged[i].verdict = verdict(change: judged[i].change, p: adjusted[i], direction: judged[i].direction, options: options)
        }
        return Comparison(
            baselineLabel: baseline.label, currentLabel: current.label,
            threshold: options.threshold, alpha: options.alpha, series: judged,
            onlyInBaseline: b.keys.filter { c[$0] == nil }.sorted(),
            onlyInCurrent: c.keys.filter { b[$0] == nil }.sorted(),
            hostDifferences: differences,
            underpowered: judged.filter { smallestPValue($0.baselineCount, $0.currentCount) * Double(judged.count) >= options.alpha }.map(\.series))
    }

    /// The smallest two-sided Mann-Whitney p-value samples of these sizes can give: 2 / C(n1 + n2, n1).
    static func smallestPValue(_ n1: Int, _ n2: Int) -> Double {
        var c = 1.0
        for i in 0..<min(n1, n2) { c = c * Double(n1 + n2 - i) / Double(i + 1) }
        return min(1, 2 / c)
    }

    /// Judges one series.
    public static func series(
        _ key: SeriesKey, unit: MetricUnit, direction: Direction, baseline: [Double], current: [Double],
        options: ComparisonOptions, seed: UInt64
    ) -> SeriesComparison {
        let mb = Quantile.of(sorted: baseline.sorted(), 0.5)
        let mc = Quantile.of(sorted: current.sorted(), 0.5)
        let change = mb == 0 ? (mc == 0 ? 0 : .infinity) : mc / mb - 1
        let interval = Bootstrap.medianChangeInterval(
            baseline: baseline, current: current, level: 1 - options.alpha, seed: seed, resamples: options.resamples)
        let p = MannWhitney.pValue(baseline, current)
        return SeriesComparison(
            series: key, unit: unit, direction: direction, baselineCount: baseline.count, currentCount: current.count,
            baselineMedian: mb, currentMedian: mc, change: change, changeInterval: interval, pValue: p,
            adjustedPValue: p, verdict: verdict(change: change, p: p, direction: direction, options: options))
    }

    /// Regressed or improved only when significant and beyond the threshold.
    static func verdict(change: Double, p: Double, direction: Direction, options: ComparisonOptions) -> Verdict {
        guard p < options.alpha, abs(change) > options.threshold else { return .unchanged }
        let worse = direction == .lowerIsBetter ? change > 0 : change < 0
        return worse ? .regressed : .improved
    }

    /// Holm's step-down adjustment: the i-th smallest of m p-values times (m - i), made monotone.
    public static func holm(_ p: [Double]) -> [Double] {
        let order = p.indices.sorted { p[$0] < p[$1] }
        var adjusted = [Double](repeating: 1, count: p.count)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = Swift.max(running, Swift.min(1, Double(p.count - rank) * p[i]))
            adjusted[i] = running
        }
        return adjusted
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
            + "(a verdict needs p < \(Format.number(alpha)), Holm-adjusted over the \(series.count) series, and a median change beyond \(Format.percent(threshold)))"
    }

    private func row(_ s: SeriesComparison) -> [String] {
        [s.series.description,
         "\(Format.value(s.baselineMedian, s.unit)) (n=\(s.baselineCount))",
         "\(Format.value(s.currentMedian, s.unit)) (n=\(s.currentCount))",
         Format.signedPercent(s.change),
         s.changeInterval.map { "\(Format.signedPercent($0.low)) … \(Format.signedPercent($0.high))" } ?? "n/a",
         Format.pValue(s.pValue), Format.pValue(s.adjustedPValue), s.verdict.rawValue]
    }

    private var header: [String] {
        ["series", "baseline median", "current median", "change", "\(Format.percent(1 - alpha)) CI", "p", "p (Holm)", "verdict"]
    }

    var markdown: String {
        var out = "## Benchmark comparison\n\n\(headline).\n\n"
        if !hostDifferences.isEmpty {
            out += "**The hosts differ** (\(hostDifferences.joined(separator: "; "))): compared because it was asked for; the changes may be the host's.\n\n"
        }
        let rows = series.map { s -> [String] in
            var r = row(s)
            if s.verdict != .unchanged { r[r.count - 1] = "**\(s.verdict.rawValue)**" }
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

    private func notJudged(bullet: String) -> String {
        var out = ""
        if !underpowered.isEmpty {
            out += "\nToo few samples to reach significance over \(series.count) series (a regression there cannot be flagged; raise the runs):\n"
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
