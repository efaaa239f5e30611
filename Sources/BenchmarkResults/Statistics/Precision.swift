/// How precisely a series' median is known, and when a series has samples enough: the rule the
/// harness follows instead of a fixed count. The Phoronix Test Suite's dynamic run count is the
/// model (keep running while the result is not yet stable, up to a limit); the stability measure
/// here is the relative half-width of a 95% interval of the median, which needs no normality.
public enum Precision {
    /// A distribution-free confidence interval of the median from two order statistics:
    /// [x(j), x(n+1-j)] with the largest j such that P(B < j) <= (1 - level) / 2 for B ~ Bin(n, 1/2),
    /// so its coverage is at least `level` whatever the distribution (Conover, Practical
    /// Nonparametric Statistics, 3rd ed., 1999, section 3.2; Le Boudec, Performance Evaluation of
    /// Computer and Communication Systems, 2010, theorem 2.1). Nil when no pair of order statistics
    /// reaches `level` (n < 6 at 95%).
    public static func medianInterval(sorted: [Double], level: Double = 0.95) -> ClosedInterval? {
        let n = sorted.count
        guard n >= 2 else { return nil }
        let tail = (1 - level) / 2
        // P(B <= k) for k = 0, 1, ... in log space, so that n in the thousands does not underflow.
        var logPmf = Double(-n) * log2Of2
        var cumulative = 0.0
        var j = 0
        for k in 0..<n {
            cumulative += exp(logPmf)
            // x(k + 1) may be the lower bound while P(B <= k) stays within the tail.
            if cumulative > tail { break }
            j = k + 1
            logPmf += log(Double(n - k)) - log(Double(k + 1))
        }
        guard j >= 1, j <= n + 1 - j else { return nil }
        return ClosedInterval(low: sorted[j - 1], high: sorted[n - j])
    }

    private static let log2Of2 = log(2.0)

    /// The interval's half-width over the median's magnitude; nil without an interval or with a
    /// median of 0 (no relative precision exists there).
    public static func relativeHalfWidth(_ values: [Double], level: Double = 0.95) -> Double? {
        let sorted = values.sorted()
        guard let ci = medianInterval(sorted: sorted, level: level) else { return nil }
        let median = Quantile.of(sorted: sorted, 0.5)
        guard median != 0 else { return nil }
        return (ci.high - ci.low) / 2 / abs(median)
    }
}

/// Why a series has the sample count it has.
public enum StopReason: String, Codable, Sendable, CaseIterable {
    /// The relative half-width of the 95% interval of the median reached the target.
    case precisionReached = "precision-reached"
    /// Another round would have passed the series' time budget.
    case budgetSpent = "time-budget-spent"
    /// The largest count the rule allows was reached.
    case maximumRuns = "maximum-runs"
    /// The suite asked for a fixed count (no precision target for this workload).
    case fixedRuns = "fixed-runs"
}

/// The sample-count rule of a suite: after the suite's own runs, rounds are added to a series
/// until its median is known to ``target`` (relative 95% half-width), ``maximumRuns`` are taken,
/// or the next round would pass ``budgetSeconds`` of the series' measuring time.
public struct PrecisionSettings: Codable, Sendable, Equatable {
    /// The relative half-width to reach (0.05: the median within ±5% at 95%).
    public var target: Double
    /// Never more samples than this per series.
    public var maximumRuns: Int
    /// Measuring time one series may take, seconds (its backend's rounds of the workload).
    public var budgetSeconds: Double
    /// The workloads the rule applies to; the others take the suite's fixed counts.
    public var workloads: [String]

    public init(target: Double = 0.05, maximumRuns: Int = 60, budgetSeconds: Double = 60, workloads: [String] = ["startup"]) {
        self.target = target
        self.maximumRuns = maximumRuns
        self.budgetSeconds = budgetSeconds
        self.workloads = workloads
    }

    /// Whether a series with `values` (at least `minimum` wanted) stops, and why; nil: take
    /// another round. `elapsedSeconds` is what its rounds took so far; the next is assumed to
    /// take their mean.
    public func decide(_ values: [Double], minimum: Int, elapsedSeconds: Double) -> StopReason? {
        if values.count < minimum { return nil }
        if let w = Precision.relativeHalfWidth(values), w <= target { return .precisionReached }
        if values.count >= maximumRuns { return .maximumRuns }
        let perRound = values.isEmpty ? 0 : elapsedSeconds / Double(values.count)
        if elapsedSeconds + perRound > budgetSeconds { return .budgetSpent }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif
