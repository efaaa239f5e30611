/// What a reader must know before trusting a series, in hyperfine's spirit: said, never hidden.
public struct Warning: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        /// The first measured sample is far slower than the rest (caches were cold).
        case slowFirstRun = "slow-first-run"
        /// The spread is high relative to the median.
        case highSpread = "high-spread"
        /// Outliers were flagged.
        case outliers
        /// The host's load was above its core count while measuring.
        case hostLoad = "host-load"
        /// Fewer samples than asked for (failures, a budget, an interruption).
        case fewSamples = "few-samples"
        /// A figure from a guest under software emulation.
        case emulated
        /// A workload did not run on a backend, and why.
        case notMeasured = "not-measured"
        /// Latencies timed by a clock with a coarse tick (a guest's jiffies clock).
        case coarseClock = "coarse-clock"
        /// The samples sit on a few levels (timer resolution): the median moves a step at a time.
        case quantised
    }
    public var kind: Kind
    public var series: SeriesKey?
    public var message: String

    public init(_ kind: Kind, series: SeriesKey?, _ message: String) {
        self.kind = kind
        self.series = series
        self.message = message
    }

    public var description: String { (series.map { "\($0): " } ?? "") + message }

    /// The warnings one series earns from its measured (non-warm-up) values, in order.
    public static func about(_ series: SeriesKey, values: [Double], summary: Summary, expected: Int) -> [Warning] {
        var out: [Warning] = []
        if values.count < expected {
            out.append(Warning(.fewSamples, series: series, "\(values.count) of \(expected) samples"))
        }
        if values.count >= 3, let first = values.first {
            let rest = Array(values.dropFirst()).sorted()
            let restMedian = Quantile.of(sorted: rest, 0.5)
            if restMedian > 0, first > 2 * restMedian, first > summary.p95 {
                out.append(Warning(.slowFirstRun, series: series,
                    "the first run took \(Self.short(first / restMedian))x the median of the others: caches were cold; more warm-up runs may help"))
            }
        }
        if summary.median != 0, summary.interquartileRange / abs(summary.median) > 0.25 {
            out.append(Warning(.highSpread, series: series,
                "the interquartile range is \(Self.short(100 * summary.interquartileRange / abs(summary.median)))% of the median: the host was busy or the workload varies"))
        }
        if !summary.outliers.isEmpty {
            out.append(Warning(.outliers, series: series,
                "\(summary.outliers.count) of \(values.count) samples are outliers (modified z-score > \(Outliers.threshold)); kept in the data"))
        }
        if let q = Quantisation.detect(values) {
            out.append(Warning(.quantised, series: series,
                "quantised: \(q.count) samples on \(q.levels) levels, steps of \(Self.short(100 * q.relativeStep))% of the median (the clock's resolution): a ratio or change below a step means nothing"))
        }
        return out
    }

    static func short(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
