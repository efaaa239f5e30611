#if canImport(Glibc)
import Glibc
#endif

/// Percentile bootstrap confidence intervals, with a seeded generator so that a results file's
/// intervals can be recomputed exactly from its raw samples.
///
/// A resample's median is drawn from its exact distribution instead of by building and sorting
/// the resample (see ``resampledMedian(_:_:)``): each interval then costs the same whatever the
/// series' length, where sorting 2,000 resamples of a 100,000-sample series took minutes.
public enum Bootstrap {
    /// A 95% interval of the median of `values`.
    public static func medianInterval(_ values: [Double], seed: UInt64, resamples: Int = 2000) -> ClosedInterval {
        var rng = SplitMix64(seed: seed)
        let sorted = values.sorted()
        var medians = (0..<resamples).map { _ in resampledMedian(sorted, &rng) }
        medians.sort()
        return ClosedInterval(low: Quantile.of(sorted: medians, 0.025), high: Quantile.of(sorted: medians, 0.975))
    }

    /// A 95% interval of median(`a`) / median(`b`), both sides resampled independently (a
    /// ratio to native carries the uncertainty of native's own figure too). Nil when a resampled
    /// median is not positive.
    public static func ratioOfMediansInterval(_ a: [Double], _ b: [Double], seed: UInt64, resamples: Int = 2000) -> ClosedInterval? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        var rng = SplitMix64(seed: seed)
        let sa = a.sorted(), sb = b.sorted()
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let ma = resampledMedian(sa, &rng), mb = resampledMedian(sb, &rng)
            // A ratio means something only between positive figures: when resamples reach zero
            // or below (a MemAvailable drop near nothing), there is no interval to give.
            guard ma > 0, mb > 0 else { return nil }
            ratios.append(ma / mb)
        }
        guard !ratios.isEmpty else { return nil }
        ratios.sort()
        return ClosedInterval(low: Quantile.of(sorted: ratios, 0.025), high: Quantile.of(sorted: ratios, 0.975))
    }

    /// The median (``Quantile`` type 7) of one bootstrap resample of `sorted` (n values, drawn n
    /// times with replacement), without drawing the resample.
    ///
    /// A resample is n indices drawn uniformly from 0..<n; its k-th smallest index is
    /// floor(n U(k)), where U(k) is the k-th order statistic of n uniforms on [0, 1), because
    /// floor(n U) is uniform on the indices and keeps their order. U(k) ~ Beta(k, n - k + 1);
    /// given U(k) = u, the other n - k uniforms above it are uniform on (u, 1), so U(k+1) is the
    /// least of them (David and Nagaraja, Order Statistics, 3rd ed., 2003, sections 2.2 and 2.5).
    /// The draw is exact, not an approximation, and costs O(1) whatever n.
    public static func resampledMedian(_ sorted: [Double], _ rng: inout SplitMix64) -> Double {
        let n = sorted.count
        precondition(n > 0)
        if n == 1 { return sorted[0] }
        // Type 7 at 0.5: position h = (n - 1) / 2 (0-based); the k-th smallest is index k - 1.
        let k = (n - 1) / 2 + 1
        let u = Self.beta(Double(k), Double(n - k + 1), &rng)
        func value(_ u: Double) -> Double { sorted[Swift.min(n - 1, Int(Double(n) * u))] }
        if n % 2 == 1 { return value(u) }
        let next = u + (1 - u) * (1 - pow(rng.unitOpen(), 1 / Double(n - k)))
        return (value(u) + value(next)) / 2
    }

    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
    static func beta(_ a: Double, _ b: Double, _ rng: inout SplitMix64) -> Double {
        let x = gamma(a, &rng), y = gamma(b, &rng)
        return x / (x + y)
    }

    /// Gamma(shape, 1) for shape >= 1: Marsaglia and Tsang, "A simple method for generating gamma
    /// variables", ACM TOMS 26(3), 2000, with its squeeze; normals by Box and Muller (1958).
    static func gamma(_ shape: Double, _ rng: inout SplitMix64) -> Double {
        precondition(shape >= 1)
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = (-2 * log(rng.unitOpen())).squareRoot() * cos(2 * Double.pi * rng.unitOpen())
            let t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t, u = rng.unitOpen()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}

/// SplitMix64: a small, fast, well-distributed generator whose whole state is its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1): 53 random bits, offset by half a step so that neither end
    /// is reached (log and pow of it stay finite).
    public mutating func unitOpen() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }
}

extension Bootstrap {
    /// A confidence interval of the relative change of the median from `baseline` to `current`
    /// (median(current) / median(baseline) - 1), both sides resampled independently.
    /// `level` is the coverage (0.99 for an alpha of 0.01).
    public static func medianChangeInterval(
        baseline: [Double], current: [Double], level: Double = 0.95, seed: UInt64, resamples: Int = 2000
    ) -> ClosedInterval? {
        guard !baseline.isEmpty, !current.isEmpty else { return nil }
        var rng = SplitMix64(seed: seed)
        var changes: [Double] = []
        changes.reserveCapacity(resamples)
        let sb = baseline.sorted(), sc = current.sorted()
        for _ in 0..<resamples {
            let mb = resampledMedian(sb, &rng), mc = resampledMedian(sc, &rng)
            if mb != 0 { changes.append(mc / mb - 1) }
        }
        guard !changes.isEmpty else { return nil }
        changes.sort()
        let tail = (1 - level) / 2
        return ClosedInterval(low: Quantile.of(sorted: changes, tail), high: Quantile.of(sorted: changes, 1 - tail))
    }
}
