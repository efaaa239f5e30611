import BenchmarkResults
import Foundation
import IntermodalCore
@testable import Reports
import SystemPackage
import Testing

/// `report --history`: a series of synthetic runs of one host with a step change part-way.
@Suite struct HistoryTests {
    /// Six runs, a day apart; from the fourth on, intermodal is 1.5 times slower (start-up,
    /// memory) and its CPU rate a third lower. Nothing else changes.
    static func runs(stepAt: Int = 3, count: Int = 6) -> [ResultsFile] {
        (0..<count).map { i in
            var f = SyntheticResults.file(label: "r\(i + 1)", seed: UInt64(100 + i), runs: 12,
                                          slowdown: i >= stepAt ? ["intermodal": 1.5] : [:])
            f.startedAt = "2026-12-0\(i + 1)T10:00:00Z"
            f.environment.gitCommit = String(repeating: "\(i + 1)", count: 40)
            return f
        }
    }

    static func labelled(_ files: [ResultsFile]) -> [LabelledResults] { files.map { LabelledResults(label: $0.label!, results: $0) } }

    @Test func theStepIsMarkedWhereItHappenedAndNowhereElse() throws {
        let a = try History.analyse(Self.labelled(Self.runs()))
        let startup = SeriesKey(workload: "startup", metric: "echo:spawn-to-exit", backend: "intermodal")
        let stepped = a.steps.filter { $0.comparison.series == startup }
        #expect(stepped.map(\.run) == [3], "steps of intermodal's start-up: \(stepped.map(\.run))")
        #expect(stepped.first?.comparison.verdict == .regressed)
        // Memory regressed and the CPU rate (higher is better) too, at the same run; no other backend moved.
        #expect(a.steps.filter { $0.comparison.series.backend == "intermodal" }.allSatisfy { $0.run == 3 })
        #expect(Set(a.steps.map(\.comparison.series.workload)).isSuperset(of: ["startup", "memory", "cpu"]))
        #expect(a.steps.allSatisfy { $0.comparison.series.backend == "intermodal" }, "\(a.steps.map(\.comparison.series))")

        let (doc, figures) = History.document(a)
        let md = Markdown.render(doc)
        #expect(md.contains("r3 → r4 | startup/echo:spawn-to-exit/intermodal"))
        #expect(!md.contains("r2 → r3 |") && !md.contains("r4 → r5 |"))
        // The start-up figure circles run 4 of intermodal (its data block of steps) and names every run.
        let fig = try #require(figures.first { $0.name == "history-startup-echo-spawn-to-exit" })
        let intermodalIndex = try #require(["native", "intermodal", "runc", "vm"].firstIndex(of: "intermodal"))
        #expect(fig.body.contains("$s\(intermodalIndex) << EOD\n4 "), "\(fig.body)")
        #expect(!fig.body.contains("$s0 << EOD"), "native never changed")
        #expect(fig.body.contains("'r1' 1") && fig.body.contains("'r6' 6"))
    }

    @Test func noStepWithoutAChange() throws {
        let a = try History.analyse(Self.labelled(Self.runs(stepAt: 99)))
        #expect(a.steps.isEmpty, "\(a.steps.map { "\($0.run) \($0.comparison.series)" })")
        #expect(Markdown.render(History.document(a).0).contains("No series changed significantly"))
    }

    @Test func theCommandRendersTheHistoryAndRefusesMixedInput() async throws {
        try await withTemporaryDirectory { dir in
            let runs = dir.appending("runs")
            try FileSystem.createDirectory(runs)
            // Written in an order unlike their start times: the history orders them by time.
            for (i, f) in Self.runs().enumerated().reversed() { try ReportCommandTests.write(f, runs.appending("run-\(9 - i).json")) }
            let r = try await HostCommand.run(ReportCommandTests.intermodal, ["report", "--history", runs.string, "--out", dir.appending("out").string])
            #expect(r.exitCode == 0, "\(r.standardError)")
            let md = try FileSystem.readString(dir.appending("out/report.md"))
            #expect(md.contains("r3 → r4 | startup/echo:spawn-to-exit/intermodal"))
            #expect(FileSystem.exists(dir.appending("out/plots/history-startup-echo-spawn-to-exit.svg")))
            #expect(FileSystem.exists(dir.appending("out/plots/history-startup-echo-spawn-to-exit.png")))

            // Another host's run in the series: refused, naming both runs.
            var other = Self.runs()[5]
            other.environment.hostName = "elsewhere"
            other.label = "r7"
            other.startedAt = "2026-12-09T10:00:00Z"
            try ReportCommandTests.write(other, runs.appending("run-other.json"))
            let mixed = try await HostCommand.run(ReportCommandTests.intermodal, ["report", "--history", runs.string, "--out", dir.appending("out2").string])
            #expect(mixed.exitCode != 0)
            #expect(mixed.standardError.contains("r6 and r7") && mixed.standardError.contains("different hosts"), "\(mixed.standardError)")
            try FileSystem.removeTree(runs.appending("run-other.json"))

            // A file that is no results file: refused, naming it.
            try FileSystem.writeAtomically("{\"results\": []}\n", to: runs.appending("doctor.json"))
            let bad = try await HostCommand.run(ReportCommandTests.intermodal, ["report", "--history", runs.string])
            #expect(bad.exitCode != 0 && bad.standardError.contains("doctor.json"), "\(bad.standardError)")
            #expect(!FileSystem.exists(runs.appending("report")))

            let neither = try await HostCommand.run(ReportCommandTests.intermodal, ["report", "--history", runs.string, "--fleet", runs.string])
            #expect(neither.exitCode != 0 && neither.standardError.contains("--fleet or --history"))
        }
    }
}
