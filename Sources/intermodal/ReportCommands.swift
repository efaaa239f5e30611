import ArgumentParser
import HostProbe
import IntermodalCore
import Reports
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `intermodal report RESULTS.json [MORE.json ...] [--out DIR]`, `--fleet DIR` or `--history DIR`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a Markdown and a self-contained HTML report, with gnuplot plots (SVG and PNG), of one or more results files.",
        discussion: "Several files (two hosts, KVM against TCG, two commits) go side by side, each under its own label (its --label, else its file name).")

    @Argument(help: "Results files written by `intermodal bench`.")
    var results: [String] = []

    @Option(name: .long, help: "Directory for report.md, report.html and plots/ (default: beside the first file, <name>-report).")
    var out: String?

    @Option(name: .long, help: "A fleet run's directory (results/fleet-NAME: HOST.json, HOST.doctor.json): the cross-host report.")
    var fleet: String?

    @Option(name: .long, help: "A directory of results files of one host and suite: each headline metric over the runs, steps marked.")
    var history: String?

    @Option(name: .long, help: "With --history: smallest median change that counts as a step.")
    var threshold: String = "5%"

    @Option(name: .long, help: "With --history: significance level of a step.")
    var alpha: Double = 0.01

    @Flag(name: .long, help: "With --history: allow runs from different hosts or accelerators.")
    var allowDifferentHosts = false

    @Option(name: .long, help: "A baseline results file: summary.md then carries `compare`'s verdict of the first file against it.")
    var baseline: String?

    func validate() throws {
        let sources = [!results.isEmpty, fleet != nil, history != nil].filter { $0 }.count
        if sources != 1 { throw ValidationError("name results files, or one --fleet or --history directory") }
        if history != nil {
            _ = try CompareCommand.parseThreshold(threshold)
            guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1 (got \(alpha))") }
        }
    }

    func run() async throws {
        if let dir = fleet ?? history {
            let directory = FilePath(dir)
            let target = out.map { FilePath($0) } ?? directory.appending("report")
            let output: RenderedReport
            if fleet != nil {
                output = try await FleetReport.write(try FleetReport.load(directory, doctor: Self.doctorChecks), to: target)
            } else {
                let options = ComparisonOptions(
                    threshold: try CompareCommand.parseThreshold(threshold), alpha: alpha, allowDifferentHosts: allowDifferentHosts)
                output = try await History.write(directory, options: options, to: target)
            }
            StandardStreams.writeOutput("\(output.markdown)\n\(output.html)\n")
            return
        }
        var files: [LabelledResults] = []
        for path in results { files.append(try LabelledResults.load(FilePath(path))) }
        let first = FilePath(results[0])
        let directory = out.map { FilePath($0) }
            ?? first.removingLastComponent().appending("\(first.lastComponent?.stem ?? "results")-report")
        var base: LabelledResults?
        if let baseline { base = try LabelledResults.load(FilePath(baseline)) }
        let output = try await Report.write(files, to: directory, baseline: base)
        StandardStreams.writeOutput("\(output.markdown)\n\(output.html)\n\(output.summary)\n")
    }
}

extension ReportCommand {
    /// A host's `intermodal doctor --json`, read with the doctor's own type.
    static func doctorChecks(_ path: FilePath) throws(IntermodalError) -> [DoctorCheck] {
        let report = try JSON.decode(HostReport.self, from: try FileSystem.readBytes(path),
                                     what: "\(path) is not the output of `intermodal doctor --json`", code: .invalidArgument)
        return report.results.map { DoctorCheck(name: $0.name, status: $0.status.rawValue, detail: $0.detail) }
    }
}

/// `intermodal compare BASELINE.json CURRENT.json`: exit 0 unchanged, 2 on a regression, 4 on improvements only.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two results files series by series: median change, its bootstrap interval, a Mann-Whitney U p-value and a verdict.",
        discussion: """
        A series regressed or improved only when its p-value is below --alpha and its median moved by more than --threshold. \
        Exit status: 0 when nothing changed, 2 when anything regressed, 4 when there are only improvements \
        (package-benchmark's convention); 125 when the files cannot be compared.
        """)

    @Argument(help: "The results file to compare against.")
    var baseline: String

    @Argument(help: "The results file to judge.")
    var current: String

    @Option(name: .long, help: "Smallest median change that counts: 5% (or 5) means five percent.")
    var threshold: String = "5%"

    @Option(name: .long, help: "Significance level for the p-value; the change's interval is at 1 - alpha.")
    var alpha: Double = 0.01

    @Option(name: .long, help: "text, markdown or json.")
    var format: String = "text"

    @Flag(name: .long, help: "Compare files from different hosts or accelerators (their numbers may not compare).")
    var allowDifferentHosts = false

    @Flag(name: .long, help: "Compare files of different suites (their runs, sizes and budgets differ).")
    var allowDifferentSuites = false

    static func parseThreshold(_ s: String) throws -> Double {
        let digits = s.hasSuffix("%") ? String(s.dropLast()) : s
        guard let v = Double(digits), v >= 0, v.isFinite else {
            throw ValidationError("--threshold must be a percentage such as 5% (got \(s))")
        }
        return v / 100
    }

    func validate() throws {
        _ = try Self.parseThreshold(threshold)
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1 (got \(alpha))") }
        guard ComparisonFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be text, markdown or json (got \(format))")
        }
    }

    func run() throws {
        var options = ComparisonOptions(
            threshold: try Self.parseThreshold(threshold), alpha: alpha, allowDifferentHosts: allowDifferentHosts)
        options.allowDifferentSuites = allowDifferentSuites
        let comparison = try Compare.run(
            baseline: try LabelledResults.load(FilePath(baseline)),
            current: try LabelledResults.load(FilePath(current)), options: options)
        StandardStreams.writeOutput(comparison.rendered(ComparisonFormat(rawValue: format)!))
        if comparison.exitCode != 0 { throw ExitCode(comparison.exitCode) }
    }
}
