/// The descriptive statistics of one series, as hyperfine and Kata's metrics report them.
public struct Summary: Codable, Sendable, Equatable {
    public var count: Int
    public var median: Double
    public var mean: Double
    public var standardDeviation: Double
    public var min: Double
    public var max: Double
    public var p5: Double
    public var p25: Double
    public var p75: Double
    public var p95: Double
    /// p75 - p25.
    public var interquartileRange: Double
    /// The median absolute deviation from the median (unscaled).
    public var medianAbsoluteDeviation: Double
    /// A 95% bootstrap confidence interval of the median; nil below ``minimumForInference``
    /// samples, where a percentile bootstrap of three values is their range by another name.
    public var medianCI95: ClosedInterval?
    /// Indices (into the values given) flagged as outliers by the modified z-score; kept, not dropped.
    public var outliers: [Int]

    /// Summarises `values` (at least one). `seed` makes the bootstrap repeatable.
    public init(_ values: [Double], seed: UInt64 = 1, resamples: Int = 2000) {
        precondition(!values.isEmpty, "a summary needs at least one value")
        let sorted = values.sorted()
        count = values.count
        median = Quantile.of(sorted: sorted, 0.5)
        mean = values.reduce(0, +) / Double(values.count)
        let m = mean
        standardDeviation = values.count > 1
            ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot() : 0
        min = sorted.first!
        max = sorted.last!
        p5 = Quantile.of(sorted: sorted, 0.05)
        p25 = Quantile.of(sorted: sorted, 0.25)
        p75 = Quantile.of(sorted: sorted, 0.75)
        p95 = Quantile.of(sorted: sorted, 0.95)
        interquartileRange = p75 - p25
        let med = median
        medianAbsoluteDeviation = Quantile.of(sorted: values.map { abs($0 - med) }.sorted(), 0.5)
        medianCI95 = values.count >= Self.minimumForInference ? Bootstrap.medianInterval(values, seed: seed, resamples: resamples) : nil
        outliers = Outliers.modifiedZScore(values)
    }

    /// Below this many samples no interval and no outlier test is given: the range and n say
    /// all there is (about 29% of Gaussian triples would be flagged by the outlier rule).
    public static let minimumForInference = 5

    /// Standard deviation over mean; 0 for a mean of 0.
    public var coefficientOfVariation: Double { mean == 0 ? 0 : standardDeviation / abs(mean) }
}

/// A closed range of reals that encodes as `{"low":…, "high":…}`.
public struct ClosedInterval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }
    public func contains(_ x: Double) -> Bool { low <= x && x <= high }
}

/// Quantiles by linear interpolation between closest ranks (R's type 7, numpy's default).
public enum Quantile {
    public static func of(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        if sorted.count == 1 { return sorted[0] }
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
