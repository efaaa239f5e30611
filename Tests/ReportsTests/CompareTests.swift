import BenchmarkResults
import Foundation
import IntermodalCore
import Reports
import Testing

@Suite struct CompareTests {
    static func labelled(_ f: ResultsFile) -> LabelledResults { LabelledResults(label: f.label ?? "file", results: f) }

    /// A/A on generated samples: two files drawn from the same distributions, 100 times over
    /// (every series of the file at once, 20 per file), raise an alarm in at most 1 case.
    @Test func aaOnGeneratedSamplesRaisesNoAlarm() throws {
        var alarms = 0
        for i in 0..<100 {
            let a = SyntheticResults.file(label: "A", seed: UInt64(2 * i + 1), runs: 10, sigma: 0.1)
            let b = SyntheticResults.file(label: "A again", seed: UInt64(2 * i + 2), runs: 10, sigma: 0.1)
            let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b), options: .init(resamples: 300))
            #expect(c.series.count == 20)
            if c.exitCode != 0 { alarms += 1 }
        }
        #expect(alarms <= 1, "A/A alarms: \(alarms) of 100")
    }

    /// A/A on recorded samples: the 100 interleaved start-up samples per runtime in
    /// results/runtime-startup-benchmark.json (one build, one run), split at random into two
    /// halves 100 times; each split compares 6 series (cycle and run, for ours, runc and crun).
    @Test func aaOnRecordedRunsRaisesNoAlarm() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("results/runtime-startup-benchmark.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var recorded: [SeriesKey: [Double]] = [:]
        for what in ["cycle", "run"] {
            let byRuntime = try #require(json[what] as? [String: [Double]])
            for (runtime, values) in byRuntime { recorded[SeriesKey(workload: "startup", metric: what, backend: runtime)] = values }
        }
        #expect(recorded.count == 6 && recorded.values.allSatisfy { $0.count == 100 })
        var rng = SplitMix64(seed: 42)
        var alarms = 0
        for _ in 0..<100 {
            var first = SyntheticResults.file(label: "recorded, half 1", runs: 0), second = first
            second.label = "recorded, half 2"
            first.samples = []
            second.samples = []
            for key in recorded.keys.sorted() {
                for (i, v) in recorded[key]!.shuffled(using: &rng).enumerated() {
                    let s = Sample(workload: key.workload, metric: key.metric, backend: key.backend, round: i / 2,
                                   value: v, unit: .milliseconds, takenAt: 0)
                    if i % 2 == 0 { first.samples.append(s) } else { second.samples.append(s) }
                }
            }
            let c = try Compare.run(baseline: Self.labelled(first), current: Self.labelled(second), options: .init(resamples: 300))
            #expect(c.series.count == 6 && c.series.allSatisfy { $0.baselineCount == 50 })
            if c.exitCode != 0 { alarms += 1 }
        }
        #expect(alarms <= 1, "recorded A/A alarms: \(alarms) of 100")
    }

    /// A 20% slowdown of one backend's start-up and memory is caught in every one of 20 draws,
    /// and only that backend is flagged.
    @Test func injectedSlowdownIsCaught() throws {
        for i in 0..<20 {
            let a = SyntheticResults.file(label: "before", seed: UInt64(1000 + 2 * i), runs: 10, sigma: 0.05)
            let b = SyntheticResults.file(label: "after", seed: UInt64(1001 + 2 * i), runs: 10, sigma: 0.05, slowdown: ["runc": 1.2])
            let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b), options: .init(resamples: 300))
            #expect(c.exitCode == 2)
            let flagged = Set(c.regressions.map(\.series.backend))
            #expect(flagged == ["runc"], "draw \(i): flagged \(flagged)")
            let startup = try #require(c.series.first { $0.series.backend == "runc" && $0.series.workload == "startup" })
            #expect(startup.verdict == .regressed)
            #expect(startup.changeInterval!.contains(startup.change))
            // The throughput went down by the same factor: lower is worse there too.
            #expect(c.series.first { $0.series.backend == "runc" && $0.series.workload == "cpu" }?.verdict == .regressed)
        }
    }

    @Test func improvementsOnlyExitFourAndUnchangedExitZero() throws {
        let a = SyntheticResults.file(label: "before", seed: 5, runs: 10, sigma: 0.05)
        let faster = SyntheticResults.file(label: "after", seed: 6, runs: 10, sigma: 0.05, slowdown: ["vm": 0.7])
        let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(faster))
        #expect(c.regressions.isEmpty && !c.improvements.isEmpty && c.exitCode == 4)
        let same = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(a))
        #expect(same.exitCode == 0 && same.series.allSatisfy { $0.change == 0 })
    }

    /// Significance alone is not enough (a 2% change, certain), and neither is size (a 40% change of 3 noisy samples).
    @Test func verdictNeedsBothSignificanceAndThreshold() {
        let base = (0..<200).map { 100 + Double($0 % 10) * 0.01 }
        let small = Compare.series(SeriesKey(workload: "w", metric: "m", backend: "b"), unit: .milliseconds, direction: .lowerIsBetter,
                                   baseline: base, current: base.map { $0 * 1.02 }, options: .init(), seed: 1)
        #expect(small.pValue < 0.0001 && small.verdict == .unchanged)
        let noisy = Compare.series(SeriesKey(workload: "w", metric: "m", backend: "b"), unit: .milliseconds, direction: .lowerIsBetter,
                                   baseline: [10, 30, 20], current: [14, 42, 28], options: .init(), seed: 1)
        #expect(noisy.change > 0.3 && noisy.pValue > 0.01 && noisy.verdict == .unchanged)
    }

    @Test func differentHostsAreRefusedUnlessAllowed() throws {
        let a = SyntheticResults.file(label: "tcg", seed: 1)
        let b = SyntheticResults.file(label: "kvm", seed: 2, host: "other-host", accelerator: "kvm")
        #expect {
            try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b))
        } throws: { error in
            let e = error as? IntermodalError
            return e?.code == .invalidArgument && e!.message.contains("accelerator tcg vs kvm") && e!.message.contains("--allow-different-hosts")
        }
        let allowed = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b), options: .init(allowDifferentHosts: true))
        #expect(allowed.hostDifferences.count == 2)
        #expect(allowed.rendered(.markdown).contains("**The hosts differ**"))
    }

    @Test func renderingsCarryEverySeries() throws {
        let a = SyntheticResults.file(label: "before", seed: 1)
        var b = SyntheticResults.file(label: "after", seed: 2, slowdown: ["runc": 1.2])
        b.samples.removeAll { $0.workload == "cpu" && $0.backend == "vm" }
        let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b))
        let md = c.rendered(.markdown), text = c.rendered(.text)
        #expect(md.contains("| startup/echo:spawn-to-exit/runc |") && md.contains("**regressed**"))
        #expect(text.contains("startup/echo:spawn-to-exit/runc") && text.contains("regressed"))
        #expect(md.contains("Only in the baseline") && md.contains("cpu/sysbench-events/vm"))
        let decoded = try JSONDecoder().decode(Comparison.self, from: Data(c.rendered(.json).utf8))
        #expect(decoded.series.count == c.series.count && decoded.exitCode == 2)
    }

    @Test func holmAdjustsForManySeries() throws {
        let adjusted = Multiplicity.holm([0.01, 0.04, 0.03])
        #expect(zip(adjusted, [0.03, 0.06, 0.06]).allSatisfy { abs($0 - $1) < 1e-12 })
        // Three samples a side can never be significant at 0.01: said, not silently passed.
        let a = SyntheticResults.file(label: "a", seed: 1, runs: 3), b = SyntheticResults.file(label: "b", seed: 2, runs: 3, slowdown: ["runc": 2])
        let c = try Compare.run(baseline: Self.labelled(a), current: Self.labelled(b))
        #expect(c.exitCode == 0 && c.underpowered.count == c.series.count)
        #expect(c.rendered(.text).contains("Too few samples to reach significance"))
    }
}
