#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import Foundation
import IntermodalCore
import SystemPackage
import Testing

/// `intermodal report` and `intermodal compare` as a user or CI runs them: the built executable.
@Suite(.serialized) struct ReportCommandTests {
    static var intermodal: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = FilePath(String(decoding: buffer[0..<max(0, n)].map(UInt8.init(bitPattern:)), as: UTF8.self))
        return exe.removingLastComponent().appending("intermodal").string
    }

    /// Writes `file` as the harness does (sorted keys).
    static func write(_ file: ResultsFile, _ path: FilePath) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(Array(try encoder.encode(file)), to: path)
    }

    @Test func compareExitCodesFollowPackageBenchmark() async throws {
        try await withTemporaryDirectory { dir in
            let base = dir.appending("baseline.json"), slow = dir.appending("slow.json")
            let fast = dir.appending("fast.json"), other = dir.appending("other.json")
            try Self.write(SyntheticResults.file(label: "baseline", seed: 1), base)
            try Self.write(SyntheticResults.file(label: "slow", seed: 2, slowdown: ["runc": 1.2]), slow)
            try Self.write(SyntheticResults.file(label: "fast", seed: 3, slowdown: ["vm": 0.7]), fast)
            try Self.write(SyntheticResults.file(label: "kvm", seed: 4, host: "elsewhere", accelerator: "kvm"), other)

            let same = try await HostCommand.run(Self.intermodal, ["compare", base.string, base.string])
            #expect(same.exitCode == 0, "\(same.standardError)")
            #expect(same.standardOutput.contains("no significant change"))
            let regressed = try await HostCommand.run(Self.intermodal, ["compare", base.string, slow.string, "--format", "markdown"])
            #expect(regressed.exitCode == 2)
            #expect(regressed.standardOutput.contains("## Benchmark comparison") && regressed.standardOutput.contains("**regressed**"))
            let improved = try await HostCommand.run(Self.intermodal, ["compare", base.string, fast.string, "--format", "json", "--threshold", "10%", "--alpha", "0.01"])
            #expect(improved.exitCode == 4)
            #expect(improved.standardOutput.contains("\"verdict\" : \"improved\""))
            let refused = try await HostCommand.run(Self.intermodal, ["compare", base.string, other.string])
            #expect(refused.exitCode != 0 && refused.exitCode != 2 && refused.exitCode != 4)
            #expect(refused.standardError.contains("different hosts") && refused.standardError.contains("--allow-different-hosts"))
            let allowed = try await HostCommand.run(Self.intermodal, ["compare", base.string, other.string, "--allow-different-hosts"])
            #expect([0, 2, 4].contains(allowed.exitCode ?? -1))
            let badThreshold = try await HostCommand.run(Self.intermodal, ["compare", base.string, slow.string, "--threshold", "five"])
            #expect(badThreshold.exitCode != 0 && badThreshold.standardError.contains("--threshold"))
        }
    }

    @Test func reportWritesMarkdownHTMLAndPlots() async throws {
        try await withTemporaryDirectory { dir in
            let a = dir.appending("a.json"), b = dir.appending("b.json")
            var unlabelled = SyntheticResults.file(seed: 2)
            unlabelled.label = nil
            try Self.write(SyntheticResults.file(label: "synthetic A", seed: 1), a)
            try Self.write(unlabelled, b)
            let r = try await HostCommand.run(Self.intermodal, ["report", a.string, b.string, "--out", dir.appending("out").string])
            #expect(r.exitCode == 0, "\(r.standardError)")
            #expect(r.standardOutput.contains("out/report.md") && r.standardOutput.contains("out/report.html"))
            let md = try FileSystem.readString(dir.appending("out/report.md"))
            // The unlabelled file goes by its file name.
            #expect(md.contains("synthetic A vs b"))
            #expect(FileSystem.exists(dir.appending("out/plots/density.png")))
            // Without --out: beside the first file.
            let beside = try await HostCommand.run(Self.intermodal, ["report", a.string])
            #expect(beside.exitCode == 0 && FileSystem.exists(dir.appending("a-report/report.html")))
            let missing = try await HostCommand.run(Self.intermodal, ["report", dir.appending("nope.json").string])
            #expect(missing.exitCode != 0 && missing.standardError.contains("nope.json"))
        }
    }
}
