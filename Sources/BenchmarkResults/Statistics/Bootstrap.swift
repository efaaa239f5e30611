/// Percentile bootstrap confidence intervals, with a seeded generator so that a results file's
/// intervals can be recomputed exactly from its raw samples.
public enum Bootstrap {
    /// A 95% interval of the median of `values`.
    public static func medianInterval(_ values: [Double], seed: UInt64, resamples: Int = 2000) -> ClosedInterval {
        var rng = SplitMix64(seed: seed)
        var medians: [Double] = []
        medians.reserveCapacity(resamples)
        var draw = [Double](repeating: 0, count: values.count)
        for _ in 0..<resamples {
            for i in draw.indices { draw[i] = values[Int(rng.next() % UInt64(values.count))] }
            draw.sort()
            medians.append(Quantile.of(sorted: draw, 0.5))
        }
        medians.sort()
        return ClosedInterval(low: Quantile.of(sorted: medians, 0.025), high: Quantile.of(sorted: medians, 0.975))
    }

    /// A 95% interval of median(`a`) / median(`b`), both sides resampled independently (a
    /// ratio to native carries the uncertainty of native's own figure too). Nil when a resampled
    /// median is not positive.
    public static func ratioOfMediansInterval(_ a: [Double], _ b: [Double], seed: UInt64, resamples: Int = 2000) -> ClosedInterval? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        var rng = SplitMix64(seed: seed)
        var ratios: [Double] = []
        var da = [Double](repeating: 0, count: a.count), db = [Double](repeating: 0, count: b.count)
        for _ in 0..<resamples {
            for i in da.indices { da[i] = a[Int(rng.next() % UInt64(a.count))] }
            for i in db.indices { db[i] = b[Int(rng.next() % UInt64(b.count))] }
            da.sort()
            db.sort()
            let ma = Quantile.of(sorted: da, 0.5), mb = Quantile.of(sorted: db, 0.5)
            // A ratio means something only between positive figures: when resamples reach zero
            // or below (a MemAvailable drop near nothing), there is no interval to give.
            guard ma > 0, mb > 0 else { return nil }
            ratios.append(ma / mb)
        }
        guard !ratios.isEmpty else { return nil }
        ratios.sort()
        return ClosedInterval(low: Quantile.of(sorted: ratios, 0.025), high: Quantile.of(sorted: ratios, 0.975))
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
        var db = [Double](repeating: 0, count: baseline.count), dc = [Double](repeating: 0, count: current.count)
        for _ in 0..<resamples {
            for i in db.indices { db[i] = baseline[Int(rng.next() % UInt64(baseline.count))] }
            for i in dc.indices { dc[i] = current[Int(rng.next() % UInt64(current.count))] }
            db.sort()
            dc.sort()
            let mb = Quantile.of(sorted: db, 0.5)
            if mb != 0 { changes.append(Quantile.of(sorted: dc, 0.5) / mb - 1) }
        }
        guard !changes.isEmpty else { return nil }
        changes.sort()
        let tail = (1 - level) / 2
        return ClosedInterval(low: Quantile.of(sorted: changes, tail), high: Quantile.of(sorted: changes, 1 - tail))
    }
}
