#if canImport(Glibc)
import Glibc
#endif

/// The Mann-Whitney U test (Wilcoxon rank-sum): do two samples come from the same distribution?
/// Rank-based, so it assumes no normality and one slow outlier moves it little, which suits
/// latency samples. `compare` uses it for the p-value of a change.
public enum MannWhitney {
    /// The two-sided p-value for `a` against `b`. Exact (the U distribution counted) when both are
    /// small and there are no ties; otherwise the normal approximation with the tie correction and
    /// a continuity correction. 1 when either side is empty.
    public static func pValue(_ a: [Double], _ b: [Double]) -> Double {
        let n1 = a.count, n2 = b.count
        guard n1 > 0, n2 > 0 else { return 1 }
        let (u, tieTerm) = statistic(a, b)
        if tieTerm == 0, n1 + n2 <= 40 {
            return exactTwoSided(u: u, n1: n1, n2: n2)
        }
        let n = Double(n1 + n2)
        let meanU = Double(n1 * n2) / 2
        let variance = Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }
        let z = (abs(u - meanU) - 0.5) / variance.squareRoot()
        return Swift.min(1, 2 * upperNormalTail(Swift.max(0, z)))
    }

    /// U of `a` (how many pairs have a's value above b's, ties counting half) and the tie term
    /// Σ(t³ - t) over groups of equal values.
    static func statistic(_ a: [Double], _ b: [Double]) -> (u: Double, tieTerm: Double) {
        let all = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: all.count)
        var tieTerm = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = rank }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        var rankSumA = 0.0
        for (k, item) in all.enumerated() where item.1 == 0 { rankSumA += ranks[k] }
        let n1 = Double(a.count)
        return (rankSumA - n1 * (n1 + 1) / 2, tieTerm)
    }

    /// P(|U - mean| >= |u - mean|) under the null, by counting the arrangements giving each U:
    /// f(i, j) = f(i - 1, j) shifted by j + f(i, j - 1), the coefficients of a Gaussian binomial.
    static func exactTwoSided(u: Double, n1: Int, n2: Int) -> Double {
        // row[j]: the distribution of U for (i, j) samples, for the current i.
        var row = [[Double]](repeating: [1], count: n2 + 1)
        for i in 1...n1 {
            var next = row
            next[0] = [1]
            for j in 1...n2 {
                var dist = [Double](repeating: 0, count: i * j + 1)
                for (k, c) in row[j].enumerated() { dist[k + j] += c }
                for (k, c) in next[j - 1].enumerated() { dist[k] += c }
                next[j] = dist
            }
            row = next
        }
        let dist = row[n2]
        let total = dist.reduce(0, +)
        let mean = Double(n1 * n2) / 2
        let distance = abs(u - mean)
        var tail = 0.0
        for (k, count) in dist.enumerated() where abs(Double(k) - mean) >= distance - 1e-9 { tail += count }
        return Swift.min(1, tail / total)
    }

    /// P(Z > z) for a standard normal Z.
    static func upperNormalTail(_ z: Double) -> Double {
        0.5 * erfcApprox(z / 2.0.squareRoot())
    }

    /// erfc by the Numerical Recipes Chebyshev fit (relative error < 1.2e-7): enough for p-values.
    static func erfcApprox(_ x: Double) -> Double {
        let z = abs(x)
        let t = 1 / (1 + 0.5 * z)
        let poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
            + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
            + t * (-0.82215223 + t * 0.17087277))))))))
        let r = t * exp(poly)
        return x >= 0 ? r : 2 - r
    }
}
