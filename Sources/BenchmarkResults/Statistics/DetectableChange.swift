#if canImport(Glibc)
import Glibc
#endif

/// The smallest change of a median that a comparison of two series could detect: what "no
/// significant change" is worth. Without it, "unchanged" on three samples a side reads like
/// evidence when the test could not have flagged anything below a doubling.
public enum DetectableChange {
    /// The smallest relative change of the median that the two-sided Mann-Whitney test at `alpha`
    /// detects with probability `power`, for these sample sizes and the spread of both series.
    ///
    /// The shift a two-sample test detects is (z(1 - alpha/2) + z(power)) sigma sqrt(1/n1 + 1/n2);
    /// the rank test needs pi/3 times the samples a t-test needs under normality (its asymptotic
    /// relative efficiency 3/pi: Hodges and Lehmann, The efficiency of some nonparametric
    /// competitors of the t-test, Ann. Math. Statist. 27, 1956), so the shift is multiplied by
    /// sqrt(pi/3). The spread is taken on the log scale (a slowdown multiplies) as the pooled robust
    /// deviation 1.4826 MAD of the logs, and the relative change is exp(shift) - 1. (Noether's
    /// formula is the usual sample-size rule for this test, but its null-variance approximation
    /// declares every effect undetectable at 10 samples a side and alpha 0.001, where fully
    /// separated samples give p = 1e-5.)
    ///
    /// Infinity when the sizes' smallest possible p-value is not below `alpha` (no change can be
    /// detected at all); nil when a value is not positive.
    public static func relative(baseline: [Double], current: [Double], alpha: Double, power: Double = 0.8) -> Double? {
        guard !baseline.isEmpty, !current.isEmpty, (baseline + current).allSatisfy({ $0 > 0 }) else { return nil }
        if smallestPossiblePValue(baseline.count, current.count) >= alpha { return .infinity }
        let sigma = pooledLogDeviation(baseline.map { log($0) }, current.map { log($0) })
        let z = Normal.quantile(1 - alpha / 2) + Normal.quantile(power)
        let shift = z * sigma * (1 / Double(baseline.count) + 1 / Double(current.count)).squareRoot() * (Double.pi / 3).squareRoot()
        return exp(shift) - 1
    }

    /// The smallest two-sided Mann-Whitney p-value samples of these sizes can give (fully
    /// separated, no ties): 2 / C(n1 + n2, n1).
    public static func smallestPossiblePValue(_ n1: Int, _ n2: Int) -> Double {
        guard n1 > 0, n2 > 0 else { return 1 }
        var c = 1.0
        for i in 0..<Swift.min(n1, n2) { c = c * Double(n1 + n2 - i) / Double(i + 1) }
        return Swift.min(1, 2 / c)
    }

    /// sqrt of the sample-size-weighted mean of both sides' squared robust deviations.
    static func pooledLogDeviation(_ a: [Double], _ b: [Double]) -> Double {
        func robust(_ x: [Double]) -> Double {
            let sorted = x.sorted()
            let median = Quantile.of(sorted: sorted, 0.5)
            return 1.4826 * Quantile.of(sorted: x.map { abs($0 - median) }.sorted(), 0.5)
        }
        let sa = robust(a), sb = robust(b)
        let na = Double(a.count), nb = Double(b.count)
        return ((na * sa * sa + nb * sb * sb) / (na + nb)).squareRoot()
    }
}

/// The standard normal distribution's quantile function.
public enum Normal {
    /// Phi^-1(p) by Acklam's rational approximation (P. J. Acklam, An algorithm for computing the
    /// inverse normal cumulative distribution function, 2003; relative error below 1.15e-9).
    public static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "a normal quantile needs 0 < p < 1")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -quantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
