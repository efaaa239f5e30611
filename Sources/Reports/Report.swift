import BenchmarkResults
import Foundation
import IntermodalCore
import SystemPackage

/// `intermodal report`: a Markdown and a self-contained HTML report of one or more results files,
/// with gnuplot plots as SVG and PNG.
public enum Report {
    /// What ``write(_:to:)`` made.
    public struct Output: Sendable {
        public var markdown: FilePath
        public var html: FilePath
        /// The short summary for a CI job summary or a slide (at most ``summaryLimit`` bytes).
        public var summary: FilePath
        /// Every plot file (`.gp`, `.svg`, `.png`).
        public var plots: [FilePath]
    }

    /// The report as a document, figures included (not yet rendered).
    public static func document(_ files: [LabelledResults]) -> (Document, [Figure]) {
        let files = LabelledResults.uniquelyLabelled(files)
        var doc = Document(title: files.count == 1
            ? "Intermodal benchmark report: \(files[0].label)"
            : "Intermodal benchmark report: " + files.map(\.label).joined(separator: " vs "))
        doc.blocks.append(.paragraph(
            "Containers and virtual machines measured on the same host with the same image. Every figure below is computed from the raw samples in "
                + (files.count == 1 ? "the results file" : "the \(files.count) results files, side by side and labelled")
                + "; medians with their interquartile range (IQR) and sample count n."))
        if files.contains(where: \.results.isEmulated) {
            doc.blocks.append(.paragraph(
                "**Guests ran under TCG (software emulation)**: KVM was not usable. VM start-up, memory and throughput are those of an emulator, far from what a VM costs under KVM: the course's claims about VMs are marked not decidable on this host, with the measured figures shown."))
        }
        for f in files {
            if let caveat = f.results.nestedCaveat, !f.results.isEmulated {
                doc.blocks.append(.paragraph("**\(f.label): guests ran under KVM, \(caveat)**."))
            }
        }
        let (figures, missing) = Plots.all(files)
        doc.blocks += environmentSection(files)
        doc.blocks += courseSection(files)
        doc.blocks += courseExamplesSection(files)
        doc.blocks.append(.heading(level: 2, "Figures"))
        for f in figures { doc.blocks.append(.figure(f)) }
        if !missing.isEmpty { doc.blocks.append(.list(missing)) }
        doc.blocks += summarySection(files)
        doc.blocks += notesSection(files)
        return (doc, figures)
    }

    /// Renders the plots with gnuplot into `DIR/plots` and writes `DIR/report.md`, `DIR/report.html`
    /// and `DIR/summary.md`; with a `baseline`, the summary carries `compare`'s verdict of the
    /// first file against it.
    public static func write(
        _ files: [LabelledResults], to directory: FilePath, baseline: LabelledResults? = nil
    ) async throws(IntermodalError) -> Output {
        guard !files.isEmpty else { throw IntermodalError(.invalidArgument, "a report needs at least one results file") }
        let (doc, figures) = document(files)
        let rendered = try await Rendering.write(doc, figures, to: directory)
        let summary = directory.appending("summary.md")
        var comparison: Comparison?
        if let baseline {
            comparison = try Compare.run(baseline: baseline, current: LabelledResults.uniquelyLabelled(files)[0],
                                         options: .init(allowDifferentHosts: true))
        }
        try FileSystem.writeAtomically(summaryMarkdown(files, comparison: comparison), to: summary)
        return Output(markdown: rendered.markdown, html: rendered.html, summary: summary, plots: rendered.plots)
    }

    /// A job summary renders at most about 1 MiB, a slide far less: the summary stays short.
    public static let summaryLimit = 10 * 1024

    /// `summary.md`: the accelerator, the headline medians and figure, the course's table and,
    /// given a comparison, its verdict; every series stays in the full report.
    public static func summaryMarkdown(_ files: [LabelledResults], comparison: Comparison? = nil) -> String {
        let files = LabelledResults.uniquelyLabelled(files)
        let f = files[0]
        var doc = Document(title: "Containers and VMs on this host: \(f.label)")
        if let mark = f.results.acceleratorMark {
            doc.blocks.append(.paragraph("**\(mark)**" + (f.results.guestFiguresDecide("vm") ? "." : ": VM figures are shown, not judged.")))
        }
        doc.blocks.append(.paragraph("![Containers and VMs on this host](plots/headline.png)"))
        let (header, rows) = headlineTable(f)
        doc.blocks.append(.table(header: header, rows: rows))
        doc.blocks.append(.heading(level: 2, "The course's table, measured"))
        doc.blocks.append(courseTable(f.results))
        if let comparison { doc.blocks.append(.paragraph(comparison.summaryMarkdown)) }
        let warnings = Warnings.current(f.results)
        doc.blocks.append(.paragraph(
            "Warnings: \(warnings.isEmpty ? "none" : Warnings.counted(warnings)) (details in `report.md`). Every series, plot and note: "
                + "[report.md](report.md), [report.html](report.html)."))
        var out = Markdown.render(doc)
        if out.utf8.count > summaryLimit {
            // The course table's cells are the long part: keep the claims, factors and verdicts.
            doc.blocks = doc.blocks.map { block in
                guard case .table(let header, let rows) = block, header.first == "claim" else { return block }
                return .table(header: ["claim", "measured factor", "on this host"], rows: rows.map { [$0[0], $0[4], $0[5]] })
            }
            out = Markdown.render(doc)
        }
        return out
    }

    /// Per headline backend: its medians with n, as the summary and the terminal print them.
    public static func headlineTable(_ f: LabelledResults) -> (header: [String], rows: [[String]]) {
        let panels = Plots.headlinePanels(f)
        let backends = Plots.headlineBackends(f.results)
        let rows = backends.map { b in
            [b + (f.results.kind(of: b) == "vm" ? " (VM, \(f.results.accelerator(of: b).uppercased()))" : "")]
                + panels.map { p in p.bars.first { $0.backend == b }.map { "\($0.label) (n=\($0.n))" } ?? "—" }
        }
        return (["backend"] + panels.map(\.short), rows)
    }

    /// The few lines `intermodal bench` ends with: the accelerator, the headline medians, the
    /// course's verdicts, the warnings counted by kind.
    public static func terminalAnswer(_ file: LabelledResults) -> String {
        var lines: [String] = []
        lines.append("Containers and VMs on this host (\(file.label)):")
        if let mark = file.results.acceleratorMark {
            lines.append("  \(mark)" + (file.results.guestFiguresDecide("vm") ? "" : ": VM figures are shown, not judged"))
        }
        let (header, rows) = headlineTable(file)
        lines += TextTable.render(header: header, rows: rows).split(separator: "\n").map { "  " + String($0) }
        lines.append("The course's claims:")
        for row in CourseTable.rows(file.results) {
            let factor = row.measuredFactor.map { "\(Format.number($0))x" } ?? "—"
            let verdict = row.verdict.replacingOccurrences(of: "**", with: "")
            let short = verdict.split(separator: ":").first.map(String.init) ?? verdict
            lines.append("  " + factor + String(repeating: " ", count: max(1, 9 - factor.count)) + "\(short): \(row.claim)")
        }
        let warnings = Warnings.current(file.results)
        if !warnings.isEmpty { lines.append("Warnings: \(Warnings.counted(warnings)) (details in the report)") }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Sections

    static func environmentSection(_ files: [LabelledResults]) -> [Block] {
        func row(_ name: String, _ value: (ResultsFile) -> String) -> [String] { [name] + files.map { value($0.results) } }
        var rows: [[String]] = [
            row("host") { $0.environment.hostName },
            row("CPU") { "\($0.environment.cpuModel), \($0.environment.cpuCount) cores" },
            row("memory") { Format.bytes(Double($0.environment.memoryBytes)) },
            row("kernel") { $0.environment.kernel },
            row("distribution") { $0.environment.distribution },
            row("cgroups") { $0.environment.cgroupMode },
            row("virtualisation") { $0.environment.hostVirtualization ?? "none seen (bare metal, or a hypervisor that hides)" },
            row("accelerator") { r in
                let a = r.isEmulated ? "**\(r.environment.accelerator.uppercased())** (software emulation)" : r.environment.accelerator
                let nested = r.environment.nestedKVM
                    ? " — **nested KVM**: the guests ran under KVM inside a host that is itself a virtual machine, "
                        + "so their figures show that the KVM path works, not what KVM costs on bare metal" : ""
                return a + (r.environment.acceleratorDetail.map { ": \($0)" } ?? "") + nested
            },
            row("suite") { "\($0.suite.name) (image \($0.suite.image), \($0.suite.runs) runs, \($0.suite.warmup) warm-up, hash \(String($0.suiteHash.prefix(12))))" },
            row("started") { "\($0.startedAt), \(Format.number($0.wallSeconds)) s" + ($0.interrupted ? " — **interrupted**" : "") },
            row("seed") { String($0.seed) },
            row("commit") { $0.environment.gitCommit ?? "unknown" },
        ]
        var tools: [String] = []
        for f in files { for k in f.results.environment.versions.keys.sorted() where !tools.contains(k) { tools.append(k) } }
        for t in tools { rows.append(row(t) { $0.environment.versions[t] ?? "—" }) }
        rows.append(row("host load (1-min average, around each workload)") { r in
            guard let busiest = r.hostLoad.max(by: { $0.load1 < $1.load1 }), let calmest = r.hostLoad.min(by: { $0.load1 < $1.load1 }) else { return "not recorded" }
            let over = busiest.load1 > Double(r.environment.cpuCount) ? " — **above the \(r.environment.cpuCount) cores**: other work competed" : ""
            return "\(Format.number(calmest.load1)) (\(calmest.when)) to \(Format.number(busiest.load1)) (\(busiest.when))\(over)"
        })
        rows.append(row("guest shape") { r in
            r.environment.guestShape.map { $0.description + " (adjustments per backend in the notes)" }
                ?? "\(r.suite.vcpus) vCPU, \(r.suite.memoryMiB) MiB per guest (adjustments per backend in the notes)"
        })
        if files.contains(where: { $0.results.harnessOverhead != nil }) {
            rows.append(row("harness overhead") { r in r.harnessOverhead.map { Format.summary($0, .milliseconds) } ?? "—" })
        }
        return [.heading(level: 2, "Environment"), .table(header: [""] + files.map(\.label), rows: rows)]
    }

    static func courseSection(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [
            .heading(level: 2, "The course's table, measured"),
            .paragraph("What container courses claim, against what this host measured (median, IQR or range, n). A claim is contradicted when the measured factor is below the \(Int(CourseTable.claimedFactor))x it is usually stated with, and not decidable when the VM's figures come from emulation (TCG)."),
        ]
        for f in files {
            if files.count > 1 { blocks.append(.heading(level: 3, f.label)) }
            blocks.append(courseTable(f.results))
        }
        return blocks
    }

    /// The slides' own examples beside what this host measured for the nearest thing the suite ran.
    static func courseExamplesSection(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [
            .heading(level: 2, "The course's examples, on this host"),
            .paragraph("The slides this project answers time `docker run ubuntu echo`, compare the ubuntu image with a full server install, "
                + "and add a `RUN apt install inetutils-ping` layer (78.1 MB to 121 MB, 42.1 MB of it the `apt update` layer). "
                + "What this run measured for the same questions:"),
        ]
        for f in files {
            if files.count > 1 { blocks.append(.heading(level: 3, f.label)) }
            let r = f.results
            let metric = MetricRoles.headlineStartup(Plots.metrics([f], workload: MetricRoles.startup).map(\.0))
            func startup(_ b: String) -> String {
                guard let metric, let m = Plots.median(Plots.values(f, MetricRoles.startup, metric, b)) else { return "not measured" }
                return "\(b): \(Plots.duration(m)) (\(MetricRoles.plainName(metric)), n=\(Plots.values(f, MetricRoles.startup, metric, b).count))"
            }
            let disk = CourseTable.sharedDisk(r, kinds: CourseTable.containerKinds)
            let full = CourseTable.sharedDisk(r, kinds: CourseTable.vmKinds)
            blocks.append(.table(header: ["example", "the slide", "this host"], rows: [
                ["`time docker run ubuntu echo ...`", "1.384 s real (\"about half a second\")",
                 ["docker", "intermodal"].map(startup).joined(separator: "; ") + " — image \(r.suite.image), not ubuntu"],
                ["image against a full install", "ubuntu 72.9 MB against ~900 MB",
                 (disk.map { "\($0.backend)'s copy of \(r.suite.image): \(Format.bytes($0.median))" } ?? "not measured")
                    + (full.map { "; \($0.backend)'s disk: \(Format.bytes($0.median))" } ?? "")
                    + ". A Debian minbase image is not measured by this suite."],
                ["a `RUN apt install inetutils-ping` layer", "78.1 MB to 121 MB (42.1 MB the `apt update` layer)",
                 "not measured by the harness: build it with `intermodal build` and read the layers with `intermodal history`"],
            ]))
        }
        return blocks
    }

    /// The course's table of one file, as every output shows it.
    public static func courseTable(_ file: ResultsFile) -> Block {
        .table(
            header: ["claim", "the course's slide", "container", "VM (which, and why)", "measured factor", "on this host"],
            rows: CourseTable.rows(file).map {
                [$0.claim, $0.slide ?? "—", $0.container, $0.vmChoice == "—" ? $0.vm : $0.vm + " — " + $0.vmChoice,
                 $0.measuredFactor.map { "\(Format.number($0))x" } ?? "—", $0.verdict]
            })
    }

    static func summarySection(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [.heading(level: 2, "Every series")]
        for f in files {
            if files.count > 1 { blocks.append(.heading(level: 3, f.label)) }
            let series = f.index.measured
            let stops = Dictionary(f.results.summaries.map { ($0.series, $0) }, uniquingKeysWith: { a, _ in a })
            let rows = series.keys.sorted().compactMap { key -> [String]? in
                guard let v = series[key], !v.isEmpty, let first = f.index.first[key] else { return nil }
                let s = Summary(v, seed: 1, resamples: 500)
                let ci = s.medianCI95.map { "\(Format.value($0.low, first.unit)) – \(Format.value($0.high, first.unit))" }
                    ?? "none below n=\(Summary.minimumForInference)"
                // The harness's own ratio where it has one (it knows which native series a bridge
                // or a volume compares with), else the same metric's native median.
                let native = stops[key]?.ratioToNative.map { (s.median / $0) }
                    ?? series[SeriesKey(workload: key.workload, metric: key.metric, backend: "native")].map { Quantile.of(sorted: $0.sorted(), 0.5) }
                let rel = key.backend == "native" ? "—" : native.flatMap { n in
                    NativeRatio.words(mine: s.median, native: n, unit: first.unit, direction: first.direction)
                } ?? "—"
                let stop = stops[key]?.stopReason.map { $0.rawValue } ?? "—"
                return [key.workload, key.metric, key.backend, "\(s.count)", Format.median(v, first.unit), ci,
                        "\(Format.value(s.min, first.unit)) – \(Format.value(s.max, first.unit))",
                        s.count >= Summary.minimumForInference ? "\(s.outliers.count)" : "—", rel, stop]
            }
            blocks.append(.details(summary: "All \(rows.count) series (median, 95% CI, range, outliers, against native)", [.table(
                header: ["workload", "metric", "backend", "n", "median", "95% CI", "min – max", "outliers", "against native", "why this n"],
                rows: rows)]))
        }
        return blocks
    }

    static func notesSection(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [.heading(level: 2, "Notes from the harness")]
        for f in files {
            if files.count > 1 { blocks.append(.heading(level: 3, f.label)) }
            var items: [String] = []
            for b in f.results.backends {
                switch b.state {
                case .skipped: items.append("**\(b.name) skipped**: \(b.reason ?? "no reason recorded")")
                case .failed: items.append("**\(b.name) failed**: \(b.reason ?? "no reason recorded")")
                case .measured: break
                }
                for a in b.adjustments { items.append("\(b.name), adjusted: \(a)") }
                if let acc = b.accelerator, acc.lowercased() == "tcg" { items.append("\(b.name) ran under **TCG**") }
            }
            for fail in f.results.failures {
                items.append("failure in \(fail.workload) on \(fail.backend), round \(fail.round): \(fail.error)")
            }
            if f.results.interrupted { items.append("**The run was interrupted**: what was measured until then is kept.") }
            blocks.append(items.isEmpty ? .paragraph("None.") : .list(items))
            let warnings = Warnings.current(f.results)
            for (kind, group) in Warnings.byKind(warnings) {
                blocks.append(.details(summary: "\(group.count) warning\(group.count == 1 ? "" : "s"): \(kind.rawValue)",
                                       [.list(Warnings.deduplicated(group))]))
            }
        }
        return blocks
    }
}
