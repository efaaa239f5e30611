/// Measurements that sit on a few levels because the clock (or counter) that took them ticks
/// coarsely: a round trip of 0.071, 0.079, 0.087 or 0.095 ms and nothing between. Their median
/// moves a whole step at a time, so a ratio or a change smaller than a step says nothing.
public enum Quantisation {
    public struct Finding: Codable, Sendable, Equatable {
        /// Distinct values among ``count`` samples.
        public var levels: Int
        public var count: Int
        /// The smallest gap between two adjacent levels: the resolution seen.
        public var step: Double
        /// ``step`` over the median's magnitude.
        public var relativeStep: Double
    }

    /// Quantised when at least 5 samples share at most half as many distinct values (continuous
    /// timings at nanosecond resolution essentially never tie) and the step is at least 1% of the
    /// median (bytes counted in pages are quantised too, but finely enough not to matter).
    /// A constant series is not reported here: it has no step to measure.
    public static func detect(_ values: [Double]) -> Finding? {
        guard values.count >= 5 else { return nil }
        let sorted = values.sorted()
        var levels: [Double] = []
        for v in sorted where levels.last != v { levels.append(v) }
        guard levels.count >= 2, 2 * levels.count <= values.count else { return nil }
        var step = Double.infinity
        for i in 1..<levels.count { step = Swift.min(step, levels[i] - levels[i - 1]) }
        let median = Quantile.of(sorted: sorted, 0.5)
        guard median != 0 else { return nil }
        let relative = step / abs(median)
        guard relative >= 0.01 else { return nil }
        return Finding(levels: levels.count, count: values.count, step: step, relativeStep: relative)
    }
}
