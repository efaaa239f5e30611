#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import Foundation
@testable import Reports
import IntermodalCore
import SystemPackage
import Testing

/// Results files cross machines (CI artifacts, fleet hosts, a colleague's mail): `report`,
/// `compare` and `bench --rerun` take them as data. Nothing in one runs, writes outside the
/// output directory, or crashes the reader.
@Suite(.serialized) struct UntrustedResultsTests {
    static var intermodal: String { ReportCommandTests.intermodal }

    /// Every shell escape gnuplot has: `!` at the start of a line, backquotes in double quotes,
    /// `system()` needs a command, which a string cannot start.
    static func hostile(_ marker: FilePath) -> [String] {
        [
            "x\n!touch \(marker.string)-bang\n#",
            "x\r\n!touch \(marker.string)-cr\n",
            "`touch \(marker.string)-tick`",
            "x' ; system('touch \(marker.string)-system') ; '",
            "x\" `touch \(marker.string)-dq` \"",
            "x\\\n!touch \(marker.string)-continued",
            "x\u{2028}!touch \(marker.string)-ls",
        ]
    }

    static func evil(_ marker: FilePath) -> ResultsFile {
        let names = hostile(marker)
        var backends = SyntheticResults.backends
        backends[2].name = names[0]            // runc
        backends[1].name = names[2]            // intermodal
        var file = SyntheticResults.file(label: names[3], seed: 5, backends: backends)
        for i in file.samples.indices where file.samples[i].backend == "vm" { file.samples[i].backend = names[4] }
        for i in file.samples.indices where file.samples[i].workload == "startup" { file.samples[i].metric = names[5] }
        file.suite.name = names[6]
        file.environment.hostName = names[1]
        return file
    }

    @Test("report of a results file whose names carry gnuplot shell escapes runs nothing")
    func gnuplotRunsNothing() async throws {
        try await withTemporaryDirectory { dir in
            let marker = dir.appending("pwned")
            let a = dir.appending("a.json"), b = dir.appending("b.json")
            try ReportCommandTests.write(Self.evil(marker), a)
            try ReportCommandTests.write(SyntheticResults.file(label: Self.hostile(marker)[1], seed: 6), b)
            for files in [[a], [a, b]] {
                let r = try await HostCommand.run(Self.intermodal, ["report"] + files.map(\.string) + ["--out", dir.appending("out").string])
                #expect(r.exitCode == 0, "\(r.standardError)")
                #expect(FileSystem.exists(dir.appending("out/plots/density.svg")), "the plots were rendered")
            }
            let made = try FileSystem.list(dir).filter { $0.hasPrefix("pwned") }
            #expect(made.isEmpty, "gnuplot ran a command from the results file: \(made)")
            // Every script line is a command of ours: none starts with `!`, none holds a backquote
            // outside single quotes.
            for name in try FileSystem.list(dir.appending("out/plots")) where name.hasSuffix(".gp") {
                let script = try FileSystem.readString(dir.appending("out/plots/\(name)"))
                #expect(!script.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("!") }, "\(name)")
            }
        }
    }

    @Test("one quoting helper: strings become one line, in one token")
    func quoting() {
        for s in Self.hostile(FilePath("/tmp/x")) {
            for q in [Gnuplot.quoted(s), Gnuplot.column(s), Gnuplot.text(s)] {
                #expect(!q.contains("\n") && !q.contains("\r") && !q.contains("\u{2028}"), "\(q)")
                #expect(!q.hasSuffix("\\"))
            }
            let q = Gnuplot.quoted(s)
            #expect(q.dropFirst().dropLast().replacingOccurrences(of: "''", with: "").contains("'") == false)
        }
        let script = Gnuplot.script(Figure(name: "f", title: "t\n!touch /tmp/x", caption: "c\n!touch /tmp/y", body: "plot 1\n"))
        #expect(!script.split(separator: "\n").contains { $0.hasPrefix("!") })
    }

    /// Values no run records: each is refused with the sample named, by report, compare and
    /// bench --rerun alike, with an error rather than a trap (exit 132).
    @Test("extreme, non-finite and negative values are refused where the file is read, naming the sample")
    func extremeValuesRefused() async throws {
        try await withTemporaryDirectory { dir in
            let good = dir.appending("good.json")
            try ReportCommandTests.write(SyntheticResults.file(seed: 1), good)
            let goodText = try FileSystem.readString(good)
            var cases: [(String, String)] = []   // (file text, what the error names)
            func mutate(_ name: String, _ change: (inout ResultsFile) -> Void, names: String) throws {
                var f = SyntheticResults.file(seed: 1)
                change(&f)
                let path = dir.appending("\(name).json")
                try ReportCommandTests.write(f, path)
                cases.append((try FileSystem.readString(path), names))
            }
            func index(_ f: ResultsFile, _ workload: String) -> Int { f.samples.firstIndex { $0.workload == workload }! }
            try mutate("tiny-bytes", { f in f.samples[index(f, "memory")].value = 5e-324 }, names: "samples[")
            try mutate("small-bytes", { f in f.samples[index(f, "memory")].value = 1e-300 }, names: "samples[")
            try mutate("many-instances", { f in
                let i = index(f, "memory")
                f.samples[i].components = ["instances": 1e300]
            }, names: "components.instances")
            try mutate("negative", { f in f.samples[index(f, "startup")].value = -3 }, names: "samples[")
            try mutate("huge", { f in f.samples[index(f, "startup")].value = 1.7e308 }, names: "samples[")
            try mutate("runs", { f in f.suite.runs = -5 }, names: "runs")
            try mutate("idle", { f in f.suite.idleInstances = -2 }, names: "idle_instances")
            try mutate("billion", { f in f.suite.runs = 1_000_000_000 }, names: "runs")
            try mutate("memory", { f in f.environment.memoryBytes = Int64.max }, names: "memoryBytes")
            // JSON's 1e999 decodes as infinity.
            let value = try #require(goodText.range(of: #""value":[0-9.e+-]+"#, options: .regularExpression))
            cases.append((goodText.replacingCharacters(in: value, with: #""value":1e999"#), "is not a results file"))
            for (i, (text, names)) in cases.enumerated() {
                let path = dir.appending("bad-\(i).json")
                try FileSystem.writeAtomically(text, to: path)
                for args in [["report", path.string, "--out", dir.appending("out-\(i)").string], ["compare", good.string, path.string],
                             ["bench", "--rerun", path.string, "--bench-root", dir.appending("bench").string,
                              "--backends", "native", "--workloads", "startup", "--out", dir.appending("rerun.json").string]] {
                    // A bound on a run the rerun should never start.
                    let r = try await HostCommand.run("timeout", ["-s", "KILL", "300", Self.intermodal] + args)
                    #expect(r.exitCode != nil && r.exitCode != 0 && r.exitCode! < 128, "\(args[0]) \(i): \(String(describing: r.exitCode))")
                    #expect(r.standardError.contains("bad-\(i).json") && r.standardError.contains(names), "\(args[0]) \(i): \(r.standardError)")
                }
            }
            #expect(!FileSystem.exists(dir.appending("bench/store")), "a refused rerun started nothing")
        }
    }

    @Test("a results file above the stated size is refused at once, by name and size")
    func largeFilesRefused() async throws {
        try await withTemporaryDirectory { dir in
            let good = dir.appending("good.json"), big = dir.appending("big.json")
            try ReportCommandTests.write(SyntheticResults.file(seed: 1), good)
            // 100 MB, sparse: the size alone decides.
            let fd = open(big.string, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0 && ftruncate(fd, 100_000_000) == 0)
            close(fd)
            for args in [["report", big.string, "--out", dir.appending("out").string], ["compare", good.string, big.string]] {
                let r = try await HostCommand.run(Self.intermodal, args)
                #expect(r.exitCode != 0 && r.exitCode! < 128, "\(args[0])")
                #expect(r.standardError.contains("big.json") && r.standardError.contains("64 MiB") && r.standardError.contains("refused"),
                        "\(args[0]): \(r.standardError)")
            }
        }
    }

    @Test("compare refuses files of different suites unless asked")
    func differentSuites() async throws {
        try await withTemporaryDirectory { dir in
            let quick = dir.appending("quick.json"), full = dir.appending("full.json")
            try ReportCommandTests.write(SyntheticResults.file(seed: 1), quick)
            var other = SyntheticResults.file(seed: 2)
            other.suite.name = "full"
            other.suiteHash = String(repeating: "cd", count: 32)
            try ReportCommandTests.write(other, full)
            let refused = try await HostCommand.run(Self.intermodal, ["compare", quick.string, full.string])
            #expect(refused.exitCode != 0 && refused.exitCode != 2 && refused.exitCode != 4, "\(String(describing: refused.exitCode))")
            #expect(refused.standardError.contains("different suites") && refused.standardError.contains("--allow-different-suites"))
            let allowed = try await HostCommand.run(Self.intermodal, ["compare", quick.string, full.string, "--allow-different-suites"])
            #expect([0, 2, 4].contains(allowed.exitCode ?? -1), "\(allowed.standardError)")
        }
    }

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    /// Mutation fuzzing of the reader and everything after it: each mutant of a valid results
    /// file is refused with an error naming the file, or read, summarised into a report and
    /// compared, without a trap or a hang. Seeded and bounded, so it runs in CI.
    @Test("500 mutated results files are refused or reported and compared; a few are rendered, inside the output")
    func mutations() async throws {
        try await withTemporaryDirectory { dir in
            let base = SyntheticResults.file(runs: 4)
            let baseBytes = Array(try JSONEncoder().encode(base))
            let baseline = LabelledResults(label: "base", results: base)
            let replacements = ["1e999", "-1e999", "5e-324", "-0", "1e300", "-7", "99999999999999999999", "\"\\n!touch pwned\\n\"",
                                "null", "[]", "{}", "\"`touch pwned`\"", "0", "1.7976931348623157e308", "\"\"", "true"]
            var rng = Generator(state: 0x5EC_2024)
            var read = 0
            let path = dir.appending("mutant.json")
            for i in 0..<500 {
                var bytes = baseBytes
                for _ in 0..<(1 + Int(rng.next() % 2)) {
                    switch rng.next() % 4 {
                    case 0:   // a number or literal replaced by an extreme one
                        let starts = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
                        let at: Int = starts[Int(rng.next() % UInt64(starts.count))] + 1
                        let stops: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")]
                        var end = at
                        while end < bytes.count, !stops.contains(bytes[end]) { end += 1 }
                        let replacement: String = replacements[Int(rng.next() % UInt64(replacements.count))]
                        if at < bytes.count, bytes[at] != UInt8(ascii: "{"), bytes[at] != UInt8(ascii: "[") {
                            bytes.replaceSubrange(at..<end, with: Array(replacement.utf8))
                        }
                    case 1: bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                    case 2:
                        let start = Int(rng.next() % UInt64(bytes.count))
                        let end = Swift.min(bytes.count, start + 1 + Int(rng.next() % 64))
                        bytes.removeSubrange(start..<end)
                    default:
                        let at = Int(rng.next() % UInt64(bytes.count))
                        bytes.insert(contentsOf: Array("\n!touch pwned`".utf8), at: at)
                    }
                    if bytes.isEmpty { bytes = [UInt8(ascii: "{")] }
                }
                try FileSystem.writeAtomically(bytes, to: path)
                let file: LabelledResults
                do {
                    file = try LabelledResults.load(path)
                } catch let error as IntermodalError {
                    #expect(error.message.contains(path.string), "mutant \(i): \(error.message)")
                    continue
                }
                read += 1
                _ = Report.document([file])
                _ = Report.document([baseline, file])
                var options = ComparisonOptions(allowDifferentHosts: true, resamples: 50)
                options.allowDifferentSuites = true
                _ = try? Compare.run(baseline: baseline, current: file, options: options)
                if read % 100 == 1 {
                    let out = dir.appending("out-\(i)")
                    _ = try? await Report.write([file, baseline], to: out)
                }
            }
            #expect(read >= 10, "the mutations were too destructive to reach the report (\(read) read)")
            let outside = try FileSystem.list(dir).filter { !$0.hasPrefix("out-") && $0 != "mutant.json" }
            #expect(outside.isEmpty, "files written outside the output directories: \(outside)")
            for out in try FileSystem.list(dir) where out.hasPrefix("out-") {
                let plots = (try? FileSystem.list(dir.appending(out).appending("plots"))) ?? []
                #expect(!plots.contains { $0.hasPrefix("pwned") }, "gnuplot ran a command in \(out)")
            }
            #expect(!FileSystem.exists(FilePath(FileManager.default.currentDirectoryPath).appending("pwned")))
        }
    }
}
