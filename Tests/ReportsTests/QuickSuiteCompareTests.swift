#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import Foundation
import Reports
import Testing

/// The acceptance check of the precision rule and `compare` together, on the quick suite as
/// `scripts/bench` runs it here: each start-up series is drawn from a log-normal around the
/// median and robust spread that series had in results/bench-quick-20261201.json (a recorded
/// quick run on this host), with 5% of samples made 1.5-2.5x slower (a busy host's stragglers),
/// and takes as many samples as ``PrecisionSettings`` grants it (at least 10, the guest 8, up to
/// a ±5% interval, 60 samples or a minute of measuring). Memory and disk keep the recorded
/// counts (3 and 1). Nothing here was measured: the spreads were.
@Suite struct QuickSuiteCompareTests {
    struct Recorded {
        var file: ResultsFile
        /// Per start-up series: median (ms) and robust standard deviation of the logs.
        var startup: [SeriesKey: (median: Double, sigma: Double)]
    }

    static let recorded: Recorded = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("results/bench-quick-20261201.json")
        let file = try! JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf: url))
        var startup: [SeriesKey: (Double, Double)] = [:]
        for (key, values) in file.measuredSeries where key.workload == "startup" {
            let logs = values.map { log($0) }.sorted()
            let m = Quantile.of(sorted: logs, 0.5)
            startup[key] = (exp(m), 1.4826 * Quantile.of(sorted: logs.map { abs($0 - m) }.sorted(), 0.5))
        }
        return Recorded(file: file, startup: startup)
    }()

    /// A quick-suite results file: start-up drawn under the precision rule, `slowdown` applied
    /// to one backend's start-up samples.
    static func draw(seed: UInt64, slowdown: [String: Double] = [:], label: String) -> ResultsFile {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func gaussian() -> Double { (-2 * log(max(uniform(), 1e-12))).squareRoot() * cos(2 * .pi * uniform()) }
        let rule = PrecisionSettings()
        var f = recorded.file
        f.label = label
        f.samples.removeAll { $0.workload == "startup" }
        let byBackend = Dictionary(grouping: recorded.startup.keys, by: \.backend)
        for backend in byBackend.keys.sorted() {
            let keys = byBackend[backend]!.sorted()
            let minimum = backend == "vm" ? 8 : 10
            var values: [SeriesKey: [Double]] = [:]
            var elapsed = 0.0
            var round = 0
            while true {
                let decisions = keys.map { rule.decide(values[$0] ?? [], minimum: minimum, elapsedSeconds: elapsed) }
                if decisions.allSatisfy({ $0 != nil }) { break }
                for key in keys {
                    let (median, sigma) = recorded.startup[key]!
                    var v = median * exp(sigma * gaussian())
                    if uniform() < 0.05 { v *= 1.5 + uniform() }
                    v *= slowdown[backend] ?? 1
                    values[key, default: []].append(v)
                    elapsed += v / 1000
                    f.samples.append(Sample(workload: key.workload, metric: key.metric, backend: backend, round: round,
                                            value: v, unit: .milliseconds, takenAt: Double(round)))
                }
                round += 1
            }
        }
        return f
    }

    static func labelled(_ f: ResultsFile) -> LabelledResults { LabelledResults(label: f.label ?? "file", results: f) }

    @Test func aTwentyPercentSlowdownOfOneBackendsStartupIsFlaggedAndAAStaysQuiet() throws {
        var alarms = 0
        for i in 0..<100 {
            let a = Self.draw(seed: UInt64(10 * i + 1), label: "A")
            let b = Self.draw(seed: UInt64(10 * i + 2), label: "A again")
            let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b), options: .init(resamples: 200))
            if c.exitCode != 0 { alarms += 1 }
        }
        #expect(alarms <= 1, "A/A alarms: \(alarms) of 100")
        var caught = 0, detectable: [Double] = [], counts: [Int] = []
        for i in 0..<20 {
            let a = Self.draw(seed: UInt64(5000 + 2 * i), label: "before")
            let b = Self.draw(seed: UInt64(5001 + 2 * i), slowdown: ["intermodal": 1.2], label: "intermodal 20% slower")
            let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b), options: .init(resamples: 200))
            #expect(c.exitCode == 2, "draw \(i): \(c.rendered(.text))")
            if c.exitCode == 2 { caught += 1 }
            for s in c.series where s.series.backend == "intermodal" && s.series.workload == "startup" {
                detectable.append(s.detectableChange ?? .nan)
                counts.append(s.currentCount)
            }
            #expect(Set(c.regressions.map(\.series.backend)) == ["intermodal"], "draw \(i): \(c.regressions.map(\.series))")
            // The series with too few samples (memory's 3, disk's 1) are set aside, not counted.
            #expect(c.underpowered.allSatisfy { $0.workload != "startup" })
            #expect(c.hypotheses < c.series.count)
            // The slowed series could have shown a change well below the 20% it had.
            for s in c.series where s.series.workload == "startup" && s.series.backend == "intermodal" {
                #expect((s.detectableChange ?? .infinity) < 0.2, "\(s.series): detectable \(s.detectableChange ?? .nan)")
            }
        }
        // The figures, for whoever reads the test log.
        print("quick suite, synthetic: A/A alarms \(alarms) of 100; 20% slowdown caught \(caught) of 20; intermodal start-up "
            + "n \(counts.min() ?? 0)-\(counts.max() ?? 0), detectable change \(detectable.min() ?? .nan)-\(detectable.max() ?? .nan)")
    }

    /// The same draws without the precision rule (the fixed 10 and 8 samples of before): what
    /// the rule buys, said as a figure rather than assumed.
    @Test func thePrecisionRuleGivesNoisySeriesMoreSamples() {
        let f = Self.draw(seed: 7, label: "counts")
        let counts = f.measuredSeries.filter { $0.key.workload == "startup" }.mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 >= 8 && $0 <= 60 })
        // runc's start-up spreads most here (robust log sd about 0.33): it takes the most samples.
        let runc = counts[SeriesKey(workload: "startup", metric: "echo:spawn-to-first-output", backend: "runc")]!
        let lib = counts[SeriesKey(workload: "startup", metric: "echo:spawn-to-first-output", backend: "intermodal-lib")]!
        #expect(runc > lib, "runc \(runc), intermodal-lib \(lib)")
    }
}
