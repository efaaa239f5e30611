import ArgumentParser
import BenchmarkHarness
import BenchmarkResults
import FoundationEssentials
import ImageStore
import Reports
import IntermodalCore
import Reports
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `intermodal bench`: the same workloads natively, in our containers, in peer runtimes and in
/// guests; every sample kept in a results file, a summary table printed.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark suite (default: the quick one) on every backend; write results/ and print a summary.")

    @Flag(name: .long, help: "The quick built-in suite (the default).") var quick = false
    @Option(name: .long, help: "A suite: quick, full, or a TOML file (see Benchmarks/suites/).") var suite: String?
    @Option(name: .long, help: "Only these backends (comma-separated), in the suite's order.") var backends: String?
    @Option(name: .long, help: "Leave these backends of the suite out (comma-separated): a fleet host without KVM, Docker, ...")
    var skipBackends: String?
    @Option(name: .long, help: "Only these workloads (comma-separated).") var workloads: String?
    @Option(name: .long, help: "Measured runs per backend (overrides the suite; a fixed count, no precision rule).") var runs: Int?
    @Option(name: .long, help: "Warm-up runs (overrides the suite).") var warmup: Int?
    @Option(name: .long, help: "The results file (default: results/bench-SUITE-TIME.json).") var out: String?
    @Option(name: .long, help: "A label stored with the results (a commit, a host).") var label: String?
    @Option(name: .long, help: "Run exactly the suite stored in this results file again.") var rerun: String?
    @Option(name: .long, help: "The shuffle's seed (overrides the suite's): one seed for every host of a fleet.") var seed: UInt64?
    @Option(name: .long, help: "The harness's own store and work directories.") var benchRoot = "/var/lib/intermodal-bench"
    @Flag(name: .long, help: "Also print every series' table and every warning (the report has them all).") var allSeries = false

    func validate() throws {
        if [quick, suite != nil, rerun != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --quick, --suite and --rerun")
        }
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be 0 or more") }
    }

    func run() async throws {
        var chosen = try loadSuite()
        if let backends {
            let names = backends.split(separator: ",").map { String($0).trimmed }
            for n in names where !SuiteFile.knownBackends.contains(n) {
                throw IntermodalError(.invalidArgument, "--backends: unknown backend \(n) (known: \(SuiteFile.knownBackends.joined(separator: ", ")))")
            }
            chosen.backends = names
        }
        if let workloads {
            let names = workloads.split(separator: ",").map { String($0).trimmed }
            for n in names where !SuiteFile.knownWorkloads.contains(n) {
                throw IntermodalError(.invalidArgument, "--workloads: unknown workload \(n) (known: \(SuiteFile.knownWorkloads.joined(separator: ", ")))")
            }
            chosen.workloads = names
        }
        if let skipBackends {
            let names = skipBackends.split(separator: ",").map { String($0).trimmed }
            for n in names where !SuiteFile.knownBackends.contains(n) {
                throw IntermodalError(.invalidArgument, "--skip-backends: unknown backend \(n) (known: \(SuiteFile.knownBackends.joined(separator: ", ")))")
            }
            chosen.backends.removeAll { names.contains($0) }
            if chosen.backends.isEmpty { throw IntermodalError(.invalidArgument, "--skip-backends leaves no backend to run") }
        }
        if let seed { chosen.seed = seed }
        if let runs {
            chosen.runs = runs
            chosen.runsByBackend = chosen.runsByBackend.mapValues { min($0, runs) }
            chosen.precision = nil
        }
        if let warmup { chosen.warmup = warmup }
        // The overrides meet the same limits as a suite file, before anything runs.
        do { try chosen.validate() } catch { throw IntermodalError(.invalidArgument, "suite \(chosen.name): \(error.description)") }
        // Relative paths are the caller's: resolved before anything runs. The suite's name is
        // data (a file's, a results file's): it names a file in results/, never a path.
        let path = try out.map { FileSystem.absolute(FilePath($0)) }
            ?? FileSystem.child(FileSystem.absolute("results"), "bench-\(chosen.name)-\(WallClock.fileStamp()).json", what: "the suite's name")
        let runner = Runner(.init(suite: chosen, label: label, root: FileSystem.absolute(FilePath(benchRoot)), intermodalExecutable: Self.ownExecutable()))
        let results = try await runner.run()
        try FileSystem.createDirectory(path.removingLastComponent())
        try FileSystem.writeAtomically(try JSON.encode(results, pretty: true) + [10], to: path)
        // The answer first: the headline medians and the course's verdicts in a few lines; every
        // series and warning is in the report (and here with --all-series).
        if allSeries { StandardStreams.writeOutput(SummaryTable.render(results) + "\n") }
        let name = path.lastComponent?.stem ?? "results"
        StandardStreams.writeOutput(Report.terminalAnswer(LabelledResults(label: results.label ?? name, results: results)))
        let directory = path.removingLastComponent().appending("\(name)-report")
        var lines = "results: \(path)\n"
        do {
            let report = try await Report.write([LabelledResults(label: results.label ?? name, results: results)], to: directory)
            lines += "summary: \(report.summary)\nreport: \(report.html)\n"
        } catch {
            // The results are written; the report can be made later, where gnuplot is installed.
            lines += "report: not written (\(error.description)); `intermodal report \(path)` makes it\n"
        }
        StandardStreams.writeOutput(lines)
        if results.interrupted { throw ExitCode(130) }
    }

    private func loadSuite() throws(IntermodalError) -> Suite {
        if let rerun {
            // The same suite with the same seed: the same plan; read and checked as `report` reads it.
            return try LabelledResults.load(FilePath(rerun)).results.suite
        }
        switch suite {
        case nil, "quick": return BuiltInSuites.quick
        case "full": return BuiltInSuites.full
        case let file?: return try SuiteFile.load(FilePath(file))
        }
    }

    static func ownExecutable() -> FilePath {
        FileSystem.ownExecutable ?? FilePath("")
    }
}
