import BenchmarkResults
import Testing

@Suite struct MannWhitneyTests {
    @Test func exactDistributionOfFullySeparatedSamples() {
        // U = 0 of C(6,3) = 20 arrangements, two-sided: 2/20.
        #expect(abs(MannWhitney.pValue([1, 2, 3], [4, 5, 6]) - 0.1) < 1e-12)
        // 5 against 5: 2/252.
        #expect(abs(MannWhitney.pValue([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) - 2.0 / 252) < 1e-12)
        // Interleaved samples: no evidence at all.
        #expect(MannWhitney.pValue([1, 3, 5, 7], [2, 4, 6, 8]) > 0.6)
    }

    @Test func normalApproximationWithTies() {
        let a = [Double](repeating: 1, count: 30) + [Double](repeating: 2, count: 30)
        let b = [Double](repeating: 2, count: 30) + [Double](repeating: 3, count: 30)
        #expect(MannWhitney.pValue(a, b) < 0.0001)
        #expect(MannWhitney.pValue(a, a) > 0.9)
        // The same with one side shifted far: both tails agree.
        #expect(abs(MannWhitney.pValue(a, b) - MannWhitney.pValue(b, a)) < 1e-12)
    }

    @Test func medianChangeIntervalCoversTheChange() {
        let base = (1...50).map { Double($0) }
        let slower = base.map { $0 * 1.2 }
        let ci = Bootstrap.medianChangeInterval(baseline: base, current: slower, level: 0.99, seed: 3)!
        #expect(ci.contains(0.2))
        #expect(ci.low > -0.3 && ci.high < 1.0 && ci.low < 0.2)
    }
}
