/// Many series judged at once: corrections that keep the chance of any false alarm in one
/// comparison below alpha.
public enum Multiplicity {
    /// Holm's step-down adjustment (Holm, A simple sequentially rejective multiple test procedure,
    /// Scand. J. Statist. 6, 1979): the i-th smallest p-value times (m - i), made monotone, where m
    /// is `hypotheses` (at least the number of p-values; Tarone's K when some were set aside).
    public static func holm(_ p: [Double], hypotheses: Int? = nil) -> [Double] {
        let m = Swift.max(hypotheses ?? p.count, p.count)
        let order = p.indices.sorted { p[$0] < p[$1] }
        var adjusted = [Double](repeating: 1, count: p.count)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = Swift.max(running, Swift.min(1, Double(m - rank) * p[i]))
            adjusted[i] = running
        }
        return adjusted
    }

    /// Tarone's modified Bonferroni for discrete tests (Tarone, A modified Bonferroni method for
    /// discrete data, Biometrics 46, 1990): a rank test on few samples has a smallest possible
    /// p-value, and a series whose smallest possible p is above alpha / K can never be rejected, so
    /// it need not be counted. K is the smallest count such that at most K series have a smallest
    /// possible p-value of alpha / K or less; those series are the ones that can reach significance.
    public static func tarone(smallestPossible: [Double], alpha: Double) -> (k: Int, eligible: [Int]) {
        let m = smallestPossible.count
        guard m > 0 else { return (0, []) }
        for k in 1...m {
            let eligible = smallestPossible.indices.filter { smallestPossible[$0] <= alpha / Double(k) }
            if eligible.count <= k { return (k, eligible) }
        }
        return (m, Array(smallestPossible.indices))
    }
}
