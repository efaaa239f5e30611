import BenchmarkResults
import Foundation
import IntermodalCore
import SystemPackage

/// One host of a fleet run (`deploy/ansible/bench.yml`), as its files in `results/fleet-NAME/` say.
public struct FleetHost: Sendable {
    /// The inventory's name for the host: the files' stem.
    public var name: String
    /// `HOST.json`, when the run came back.
    public var results: ResultsFile?
    /// `HOST.doctor.json`, as the checks it lists.
    public var doctor: [DoctorCheck]?
    /// `HOST.failed.txt`: the task that failed and its error.
    public var failure: String?

    public init(name: String, results: ResultsFile? = nil, doctor: [DoctorCheck]? = nil, failure: String? = nil) {
        self.name = name
        self.results = results
        self.doctor = doctor
        self.failure = failure
    }
}

/// One line of a host's `intermodal doctor --json`, as the fleet report shows it.
public struct DoctorCheck: Sendable, Equatable {
    public var name: String
    /// `ok`, `warning` or `missing`.
    public var status: String
    public var detail: String

    public init(name: String, status: String, detail: String) {
        self.name = name
        self.status = status
        self.detail = detail
    }
}

/// The hosts of one fleet run.
public struct Fleet: Sendable {
    public var name: String
    public var hosts: [FleetHost]

    public init(name: String, hosts: [FleetHost]) {
        self.name = name
        self.hosts = hosts
    }

    /// The hosts whose results came back, labelled by their inventory names.
    public var measured: [LabelledResults] {
        hosts.compactMap { h in h.results.map { LabelledResults(label: h.name, results: $0) } }
    }
}

/// The cross-host report of a fleet run: a description of each host side by side, never a
/// verdict (numbers from different hosts do not compare as regressions; `compare` refuses them).
public enum FleetReport {
    /// Reads a fleet directory: `HOST.json` (results), `HOST.doctor.json` (read by `doctor`, which
    /// knows the doctor's format), `HOST.failed.txt`. Anything else there (the report) is ignored.
    public static func load(
        _ directory: FilePath, doctor: (FilePath) throws(IntermodalError) -> [DoctorCheck]
    ) throws(IntermodalError) -> Fleet {
        guard FileSystem.isDirectory(directory) else { throw IntermodalError(.invalidArgument, "\(directory) is not a directory") }
        let names = try FileSystem.list(directory)
        var hosts: [String: FleetHost] = [:]
        func host(_ name: String) -> FleetHost { hosts[name] ?? FleetHost(name: name) }
        for file in names.sorted() {
            let path = directory.appending(file)
            if file.hasSuffix(".doctor.json") {
                let name = String(file.dropLast(".doctor.json".count))
                var h = host(name)
                h.doctor = try doctor(path)
                hosts[name] = h
            } else if file.hasSuffix(".failed.txt") {
                let name = String(file.dropLast(".failed.txt".count))
                var h = host(name)
                h.failure = try FileSystem.readString(path).trimmingCharacters(in: .whitespacesAndNewlines)
                hosts[name] = h
            } else if file.hasSuffix(".json") {
                let name = String(file.dropLast(".json".count))
                var h = host(name)
                h.results = try LabelledResults.load(path).results
                hosts[name] = h
            }
        }
        guard !hosts.isEmpty else {
            throw IntermodalError(.invalidArgument, "\(directory) holds no HOST.json, HOST.doctor.json or HOST.failed.txt: not a fleet run's directory")
        }
        let base = directory.lastComponent?.string ?? "fleet"
        let name = base.hasPrefix("fleet-") ? String(base.dropFirst("fleet-".count)) : base
        return Fleet(name: name, hosts: hosts.keys.sorted().map { hosts[$0]! })
    }

    /// The report as a document and its figures.
    public static func document(_ fleet: Fleet) -> (Document, [Figure]) {
        let files = fleet.measured
        var doc = Document(title: "Intermodal fleet report: \(fleet.name)")
        doc.blocks.append(.paragraph(
            "\(fleet.hosts.count) hosts, \(files.count) with results. Each host is described side by side with the others: "
                + "medians with their interquartile range (IQR) and sample count n, from each host's raw samples. "
                + "This is a description, not a verdict: numbers from different hosts do not compare as regressions "
                + "(`intermodal compare` refuses them)."))
        var notes: [String] = []
        for h in fleet.hosts {
            if let failure = h.failure { notes.append("**\(h.name) failed**: \(failure.replacingOccurrences(of: "\n", with: " "))") }
            else if h.results == nil { notes.append("**\(h.name)**: no results file came back") }
        }
        let hashes = Set(files.map(\.results.suiteHash)), seeds = Set(files.map(\.results.seed))
        if hashes.count > 1 {
            notes.append("**The hosts ran different suites** (\(files.map { "\($0.label): \($0.results.suite.name) \(String($0.results.suiteHash.prefix(12)))" }.joined(separator: ", "))): a backend left out on a host changes the suite.")
        }
        if seeds.count > 1 { notes.append("**The hosts ran with different seeds**: \(files.map { "\($0.label) \($0.results.seed)" }.joined(separator: ", ")).") }
        for f in files where f.results.isEmulated { notes.append("\(f.label): guests ran under **TCG** (software emulation).") }
        if !notes.isEmpty { doc.blocks.append(.list(notes)) }
        guard !files.isEmpty else { return (doc, []) }
        doc.blocks += environmentSection(files)
        doc.blocks += doctorSection(fleet)
        doc.blocks += workloadSections(files)
        doc.blocks += courseSection(files)
        let figures = workloads(files).compactMap { figure(files, workload: $0) }
        if !figures.isEmpty {
            doc.blocks.append(.heading(level: 2, "Figures"))
            for f in figures { doc.blocks.append(.figure(f)) }
        }
        return (doc, figures)
    }

    /// Renders the figures with gnuplot into `DIR/plots` and writes `DIR/report.md` and `DIR/report.html`.
    public static func write(_ fleet: Fleet, to directory: FilePath) async throws(IntermodalError) -> RenderedReport {
        let (doc, figures) = document(fleet)
        return try await Rendering.write(doc, figures, to: directory)
    }

    // MARK: Sections

    /// A row whose cells differ between hosts: its name and cells in bold.
    static func highlighted(_ name: String, _ cells: [String]) -> [String] {
        guard Set(cells).count > 1 else { return [name] + cells }
        return ["**\(name)** (differs)"] + cells.map { "**\($0)**" }
    }

    static func environmentSection(_ files: [LabelledResults]) -> [Block] {
        func row(_ name: String, _ value: (ResultsFile) -> String) -> [String] {
            highlighted(name, files.map { value($0.results) })
        }
        var rows: [[String]] = [
            row("host name") { $0.environment.hostName },
            row("CPU") { $0.environment.cpuModel },
            row("cores") { String($0.environment.cpuCount) },
            row("memory") { Format.bytes(Double($0.environment.memoryBytes)) },
            row("kernel") { $0.environment.kernel },
            row("distribution") { $0.environment.distribution },
            row("cgroups") { $0.environment.cgroupMode },
            row("accelerator") { $0.environment.accelerator },
            row("suite") { "\($0.suite.name) (\(String($0.suiteHash.prefix(12))))" },
            row("backends") { $0.suite.backends.joined(separator: ", ") },
            row("seed") { String($0.seed) },
            row("commit") { $0.environment.gitCommit ?? "unknown" },
        ]
        var tools: [String] = []
        for f in files { for k in f.results.environment.versions.keys.sorted() where !tools.contains(k) { tools.append(k) } }
        for t in tools { rows.append(row(t) { $0.environment.versions[t] ?? "—" }) }
        rows.append(row("started") { "\($0.startedAt), \(Format.number($0.wallSeconds)) s" + ($0.interrupted ? ", interrupted" : "") })
        return [
            .heading(level: 2, "Hosts"),
            .paragraph("What differs between the hosts is in bold: any of it can explain a difference in the figures below."),
            .table(header: [""] + files.map(\.label), rows: rows),
        ]
    }

    /// The doctor's checks that are not `ok` on some host, or differ between hosts.
    static func doctorSection(_ fleet: Fleet) -> [Block] {
        let hosts = fleet.hosts.filter { $0.doctor != nil }
        guard !hosts.isEmpty else { return [] }
        var names: [String] = []
        for h in hosts { for c in h.doctor! where !names.contains(c.name) { names.append(c.name) } }
        var rows: [[String]] = []
        for name in names {
            let checks = hosts.map { h in h.doctor!.first { $0.name == name } }
            let statuses = checks.map { $0?.status ?? "—" }
            guard statuses.contains(where: { $0 != "ok" }) else { continue }
            rows.append(highlighted(name, zip(statuses, checks).map { s, c in c.map { "\(s): \($0.detail)" } ?? s }))
        }
        return [
            .heading(level: 2, "What each host's doctor found"),
            rows.isEmpty
                ? .paragraph("Every check of `intermodal doctor` was ok on every host.")
                : .table(header: ["check (not ok somewhere)"] + hosts.map(\.name), rows: rows),
        ]
    }

    static func workloads(_ files: [LabelledResults]) -> [String] {
        var out: [String] = []
        for f in files { for s in f.results.samples where !s.warmup && !out.contains(s.workload) { out.append(s.workload) } }
        return out
    }

    /// One table per workload: a row per metric and backend, a column per host.
    static func workloadSections(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [.heading(level: 2, "Every workload, host by host")]
        for workload in workloads(files) {
            var keys: [SeriesKey] = []
            for f in files {
                for s in f.results.samples where !s.warmup && s.workload == workload && !keys.contains(s.series) { keys.append(s.series) }
            }
            let rows = keys.map { key in
                [key.metric, key.backend] + files.map { f -> String in
                    let samples = f.results.measuredSamples(key)
                    guard let first = samples.first else { return "—" }
                    let accelerator = samples.compactMap(\.accelerator).first.map { ", \($0.uppercased())" } ?? ""
                    return Format.summary(Summary(samples.map(\.value), seed: 1, resamples: 200), first.unit) + accelerator
                }
            }
            blocks.append(.heading(level: 3, workload))
            blocks.append(.table(header: ["metric", "backend"] + files.map(\.label), rows: rows))
        }
        return blocks
    }

    /// The course's claims, one column per host.
    static func courseSection(_ files: [LabelledResults]) -> [Block] {
        let perHost = files.map { CourseTable.rows($0.results) }
        var claims: [String] = []
        for rows in perHost { for r in rows where !claims.contains(r.claim) { claims.append(r.claim) } }
        let rows = claims.map { claim in
            [claim] + perHost.map { rows -> String in
                guard let r = rows.first(where: { $0.claim == claim }) else { return "—" }
                return (r.measuredFactor.map { "\(Format.number($0))x: " } ?? "") + r.verdict
            }
        }
        return [
            .heading(level: 2, "The course's table, host by host"),
            .paragraph("Measured factor (container against VM) and what it says of the claim, on each host."),
            .table(header: ["claim"] + files.map(\.label), rows: rows),
        ]
    }

    /// The metric a workload's figure shows: the one the single-file report leads with.
    static func headlineMetric(_ files: [LabelledResults], workload: String) -> (String, MetricUnit)? {
        let metrics = Plots.metrics(files, workload: workload)
        let chosen: String?
        switch workload {
        case MetricRoles.startup: chosen = MetricRoles.headlineStartup(metrics.map(\.0))
        case MetricRoles.memory: chosen = MetricRoles.perInstanceMemory(metrics)
        default:
            chosen = MetricRoles.throughputHeadlines.filter { $0.workload == workload }.flatMap(\.metrics)
                .first { m in metrics.contains { $0.0 == m } } ?? metrics.first?.0
        }
        return chosen.flatMap { c in metrics.first { $0.0 == c } }
    }

    /// Bars of a workload's headline metric: hosts as groups, a bar per backend (median), IQR whiskers.
    static func figure(_ files: [LabelledResults], workload: String) -> Figure? {
        guard let (metric, unit) = headlineMetric(files, workload: workload) else { return nil }
        let backends = Plots.backends(files) { !Plots.values($0, workload, metric, $1).isEmpty }
        guard !backends.isEmpty else { return nil }
        var counts: [String] = []
        var values: [Double] = []
        let rows = files.map { f -> [String] in
            var row = [Gnuplot.column(f.label)]
            for b in backends {
                let v = Plots.values(f, workload, metric, b)
                guard !v.isEmpty else { row += ["NaN", "NaN", "NaN"]; continue }
                let s = Summary(v, seed: 1, resamples: 200)
                counts.append("\(f.label) \(b) n=\(s.count)")
                row += [s.median, s.p25, s.p75].map(Gnuplot.number)
                values += [s.p25, s.p75]
            }
            return row
        }
        let symbol = unit.symbol.isEmpty ? unit.rawValue : unit.symbol
        let logScale = wantsLogScale(values)
        let plots = backends.enumerated().map { i, b in
            let columns = "\(3 * i + 2):\(3 * i + 3):\(3 * i + 4)" + (i == 0 ? ":xtic(1)" : "")
            return (i == 0 ? "$fleet" : "''") + " using \(columns) title \(Gnuplot.quoted(b)) lc rgb '\(Plots.palette(i))'"
        }
        let body = Gnuplot.dataBlock("fleet", rows) + """
            set title \(Gnuplot.quoted("\(workload): \(metric), by host"))
            set ylabel \(Gnuplot.quoted("\(metric) (\(symbol)\(logScale ? ", log scale" : ""))"))
            set xlabel 'host'
            set style data histograms
            set style histogram errorbars gap 2 lw 1
            set style fill solid 0.7 border -1
            \(logScale ? "set logscale y" : "set yrange [0:*]")
            set grid ytics
            set key outside right top
            plot \(plots.joined(separator: ", \\\n     "))

            """
        let safe = String("\(workload)-\(metric)".map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let accelerators = files.map { "\($0.label) \($0.results.environment.accelerator)" }.joined(separator: ", ")
        return Figure(
            name: "fleet-\(safe)", title: Gnuplot.text("\(workload): \(metric), host by host"),
            // The script quotes title and caption in comments: no newline of a host's name may end one.
            caption: Gnuplot.text("Bars: the median of every measured sample; whiskers: the interquartile range. Hosts as groups, a bar per backend. "
                + counts.joined(separator: ", ") + ". Accelerators: \(accelerators)."),
            body: body)
    }
}

extension FleetReport {
    /// A log scale when the values span more than 50x (a native start-up and a guest's boot).
    static func wantsLogScale(_ values: [Double]) -> Bool {
        let positive = values.filter { $0 > 0 }
        guard let low = positive.min(), let high = positive.max() else { return false }
        return high / low > 50
    }
}
