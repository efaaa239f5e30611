#if canImport(Glibc)
import Glibc
#endif
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
        // Resamples built one by one (Python's statistics.median, 20,000 of them) give about
        // [-0.27, 1.01]: medians of 50 values move by a seventh either way.
        #expect(ci.low > -0.35 && ci.high < 1.2 && ci.low < 0.2, "\(ci)")
    }
}

/// The bootstrap draws a resample's median from its exact distribution (order statistics of
/// uniforms) instead of building the resample; these check that distribution.
@Suite struct BootstrapTests {
    /// Odd n: P(median <= x(j)) = P(Bin(n, j/n) >= (n+1)/2), Efron's closed form for the
    /// bootstrap median; 40,000 seeded draws stay within 0.015 of it at every j.
    @Test func oddResampledMediansFollowTheClosedForm() {
        let n = 7, k = 4
        let sorted = (1...n).map(Double.init)
        var rng = SplitMix64(seed: 11)
        var counts = [Int](repeating: 0, count: n)
        let draws = 40_000
        for _ in 0..<draws { counts[Int(Bootstrap.resampledMedian(sorted, &rng)) - 1] += 1 }
        var empirical = 0.0
        for j in 1...n {
            empirical += Double(counts[j - 1]) / Double(draws)
            let p = Double(j) / Double(n)
            let exact = (k...n).reduce(0.0) { $0 + binomial(n, $1) * pow(p, Double($1)) * pow(1 - p, Double(n - $1)) }
            #expect(abs(empirical - exact) < 0.015, "j \(j): \(empirical) against \(exact)")
        }
    }

    /// Even n: the mean of the two middle values of a resample, against resamples built and
    /// sorted one by one.
    @Test func evenResampledMediansMatchBuiltResamples() {
        let sorted: [Double] = [1, 2, 4, 8, 16, 32, 64, 128]
        var rng = SplitMix64(seed: 5), other = SplitMix64(seed: 6)
        let draws = 40_000
        var fast: [Double: Int] = [:], built: [Double: Int] = [:]
        for _ in 0..<draws {
            fast[Bootstrap.resampledMedian(sorted, &rng), default: 0] += 1
            let resample = sorted.indices.map { _ in sorted[Int(other.next() % UInt64(sorted.count))] }.sorted()
            built[Quantile.of(sorted: resample, 0.5), default: 0] += 1
        }
        var a = 0.0, b = 0.0
        for v in Set(fast.keys).union(built.keys).sorted() {
            a += Double(fast[v] ?? 0) / Double(draws)
            b += Double(built[v] ?? 0) / Double(draws)
            #expect(abs(a - b) < 0.02, "at \(v): \(a) against \(b)")
        }
        #expect(Set(fast.keys).isSubset(of: Set(built.keys).union(fast.keys)) && fast.count > 10)
    }

    /// A 100,000-sample series summarises with an interval around its median, from the same seed
    /// the same interval.
    @Test func longSeriesKeepAnIntervalAndItsSeed() {
        var rng = SplitMix64(seed: 2)
        let values = (0..<100_000).map { _ in 10 + rng.unitOpen() }
        let a = Summary(values, seed: 4), b = Summary(values, seed: 4)
        #expect(a.medianCI95 == b.medianCI95)
        let ci = a.medianCI95!
        #expect(ci.contains(a.median) && ci.high - ci.low < 0.02 && ci.high - ci.low > 0)
    }

    func binomial(_ n: Int, _ k: Int) -> Double {
        (0..<k).reduce(1.0) { $0 * Double(n - $1) / Double($1 + 1) }
    }
}

@Suite struct PrecisionTests {
    /// The order-statistic interval: at n = 6 only [x(1), x(6)] covers 95% (1 - 2/64); at n = 5
    /// nothing does; at n = 100 the 40th and 61st values (Conover's table, 95%).
    @Test func orderStatisticIntervalsOfTheMedian() throws {
        #expect(Precision.medianInterval(sorted: [1, 2, 3, 4, 5]) == nil)
        #expect(Precision.medianInterval(sorted: [1, 2, 3, 4, 5, 6]) == ClosedInterval(low: 1, high: 6))
        let hundred = (1...100).map(Double.init)
        #expect(Precision.medianInterval(sorted: hundred) == ClosedInterval(low: 40, high: 61))
        // Coverage, checked by drawing: at least 95% for a skewed distribution at n = 20.
        var rng = SplitMix64(seed: 9)
        var covered = 0
        let trueMedian = exp(0.0)
        for _ in 0..<2000 {
            let x = (0..<20).map { _ in exp(-log(max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12)) - log(2.0)) }.sorted()
            if let ci = Precision.medianInterval(sorted: x), ci.contains(trueMedian) { covered += 1 }
        }
        #expect(covered >= 1880, "covered \(covered) of 2000")
    }

    @Test func theRuleStopsForItsStatedReasons() {
        let rule = PrecisionSettings(target: 0.05, maximumRuns: 30, budgetSeconds: 10)
        let tight = (0..<12).map { 100 + Double($0 % 3) }
        #expect(rule.decide(Array(tight.prefix(9)), minimum: 10, elapsedSeconds: 0) == nil)
        #expect(rule.decide(tight, minimum: 10, elapsedSeconds: 1) == .precisionReached)
        let wide = (0..<12).map { 100 * (1 + Double($0 % 4)) }
        #expect(rule.decide(wide, minimum: 10, elapsedSeconds: 1) == nil)
        #expect(rule.decide(wide, minimum: 10, elapsedSeconds: 9.5) == .budgetSpent)
        #expect(rule.decide(wide + wide + wide, minimum: 10, elapsedSeconds: 1) == .maximumRuns)
    }

    @Test func quantisedSamplesAreFound() throws {
        // Round trips as a coarse clock gives them (issue 27): five levels.
        let rtt = [0.071, 0.079, 0.079, 0.087, 0.071, 0.095, 0.079, 0.015, 0.087, 0.079, 0.071, 0.079]
        let q = try #require(Quantisation.detect(rtt))
        #expect(q.levels == 5 && abs(q.step - 0.008) < 1e-9)
        var rng = SplitMix64(seed: 3)
        let continuous = (0..<50).map { _ in 20 + Double(rng.next() % 1_000_000) / 1e5 }
        #expect(Quantisation.detect(continuous) == nil)
        // Page-sized steps of hundreds of MiB are no quantisation that matters.
        let mib200 = Double(200 * 1_048_576)
        #expect(Quantisation.detect([Double](repeating: mib200, count: 5) + [mib200 + 4096]) == nil)
    }

    @Test func detectableChangeFollowsTheSampleCounts() throws {
        // 3 against 3 can never reach p < 0.01: nothing is detectable.
        #expect(DetectableChange.relative(baseline: [10, 11, 12], current: [10, 11, 12], alpha: 0.01) == .infinity)
        var rng = SplitMix64(seed: 5)
        func draw(_ n: Int) -> [Double] {
            var out: [Double] = []
            for _ in 0..<n {
                let u = Double(rng.next() % 2001) / 1000 - 1
                out.append(20 * exp(0.1 * u))
            }
            return out
        }
        let ten = try #require(DetectableChange.relative(baseline: draw(10), current: draw(10), alpha: 0.001))
        let fifty = try #require(DetectableChange.relative(baseline: draw(50), current: draw(50), alpha: 0.001))
        #expect(ten.isFinite && fifty < ten && fifty > 0)
        #expect(DetectableChange.relative(baseline: [0, 1, 2], current: [1, 2, 3], alpha: 0.01) == nil)
        #expect(abs(Normal.quantile(0.975) - 1.959964) < 1e-5 && abs(Normal.quantile(0.001) + 3.090232) < 1e-5)
    }

    @Test func taroneSetsAsideWhatCannotReachSignificance() {
        // Two series that can reach 0.01 / 2, three that never can (3 against 3: 0.1).
        let (k, eligible) = Multiplicity.tarone(smallestPossible: [1e-5, 0.1, 2e-4, 0.1, 0.1], alpha: 0.01)
        #expect(k == 2 && eligible == [0, 2])
        #expect(Multiplicity.holm([0.001, 0.004], hypotheses: 2) == [0.002, 0.004])
    }

    @Test func noIntervalAndNoOutlierTestBelowFiveSamples() {
        let three = Summary([10, 10.1, 30])
        #expect(three.medianCI95 == nil && three.outliers.isEmpty)
        let six = Summary([10, 10.1, 10.2, 9.9, 10, 30])
        #expect(six.medianCI95 != nil && six.outliers == [5])
    }
}

@Suite struct NativeRatioTests {
    @Test func ratiosSayWhichWayTheyGo() {
        #expect(NativeRatio.words(mine: 1.44, native: 1, unit: .bytes, direction: .lowerIsBetter) == "1.44x more")
        #expect(NativeRatio.words(mine: 0.5, native: 1, unit: .bytes, direction: .lowerIsBetter) == "2x less")
        #expect(NativeRatio.words(mine: 4149, native: 2.81, unit: .milliseconds, direction: .lowerIsBetter) == "1477x slower")
        #expect(NativeRatio.words(mine: 26, native: 100, unit: .eventsPerSecond, direction: .higherIsBetter) == "26% of native's rate")
        #expect(NativeRatio.words(mine: -45_875, native: 10_649, unit: .bytes, direction: .lowerIsBetter) == nil)
        #expect(NativeRatio.words(mine: 5, native: 0, unit: .milliseconds, direction: .lowerIsBetter) == nil)
    }
}
