import BenchmarkResults
import IntermodalCore
import SystemPackage

/// `intermodal report`: a Markdown and a self-contained HTML report of one or more results files,
/// with gnuplot plots as SVG and PNG.
public enum Report {
    /// What ``write(_:to:)`` made.
    public struct Output: Sendable {
        public var markdown: FilePath
        public var html: FilePath
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
                "**Guests ran under TCG (software emulation)**: KVM was not usable. VM start-up and throughput are far slower than under KVM; do not read them as what a VM costs on a host with working virtualisation."))
        }
        let (figures, missing) = Plots.all(files)
        doc.blocks += environmentSection(files)
        doc.blocks += courseSection(files)
        doc.blocks.append(.heading(level: 2, "Figures"))
        for f in figures { doc.blocks.append(.figure(f)) }
        if !missing.isEmpty { doc.blocks.append(.list(missing)) }
        doc.blocks += summarySection(files)
        doc.blocks += notesSection(files)
        return (doc, figures)
    }

    /// Renders the plots with gnuplot into `DIR/plots` and writes `DIR/report.md` and `DIR/report.html`.
    public static func write(_ files: [LabelledResults], to directory: FilePath) async throws(IntermodalError) -> Output {
        guard !files.isEmpty else { throw IntermodalError(.invalidArgument, "a report needs at least one results file") }
        let plotDir = directory.appending("plots")
        try FileSystem.createDirectory(directory)
        try FileSystem.createDirectory(plotDir)
        let (doc, figures) = document(files)
        var svg: [String: String] = [:]
        var plots: [FilePath] = []
        for f in figures {
            try await Gnuplot.render(f, in: plotDir)
            svg[f.name] = try FileSystem.readString(plotDir.appending("\(f.name).svg"))
            plots += ["gp", "svg", "png"].map { plotDir.appending("\(f.name).\($0)") }
        }
        let md = directory.appending("report.md"), html = directory.appending("report.html")
        try FileSystem.writeAtomically(Markdown.render(doc), to: md)
        try FileSystem.writeAtomically(HTML.render(doc, svg: svg), to: html)
        return Output(markdown: md, html: html, plots: plots)
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
            row("accelerator") { r in
                let a = r.isEmulated ? "**\(r.environment.accelerator.uppercased())** (software emulation)" : r.environment.accelerator
                return a + (r.environment.acceleratorDetail.map { ": \($0)" } ?? "")
            },
            row("suite") { "\($0.suite.name) (image \($0.suite.image), \($0.suite.runs) runs, \($0.suite.warmup) warm-up, hash \(String($0.suiteHash.prefix(12))))" },
            row("started") { "\($0.startedAt), \(Format.number($0.wallSeconds)) s" + ($0.interrupted ? " — **interrupted**" : "") },
            row("seed") { String($0.seed) },
            row("commit") { $0.environment.gitCommit ?? "unknown" },
        ]
        var tools: [String] = []
        for f in files { for k in f.results.environment.versions.keys.sorted() where !tools.contains(k) { tools.append(k) } }
        for t in tools { rows.append(row(t) { $0.environment.versions[t] ?? "—" }) }
        if files.contains(where: { $0.results.harnessOverhead != nil }) {
            rows.append(row("harness overhead") { r in r.harnessOverhead.map { Format.summary($0, .milliseconds) } ?? "—" })
        }
        return [.heading(level: 2, "Environment"), .table(header: [""] + files.map(\.label), rows: rows)]
    }

    static func courseSection(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [
            .heading(level: 2, "The course's table, measured"),
            .paragraph("What container courses claim, against what this host measured (median, IQR, n). A claim is contradicted when the measured factor is below the \(Int(CourseTable.claimedFactor))x it is usually stated with."),
        ]
        for f in files {
            if files.count > 1 { blocks.append(.heading(level: 3, f.label)) }
            blocks.append(.table(
                header: ["claim", "container", "VM", "measured factor", "on this host"],
                rows: CourseTable.rows(f.results).map {
                    [$0.claim, $0.container, $0.vm, $0.measuredFactor.map { "\(Format.number($0))x" } ?? "—", $0.verdict]
                }))
        }
        return blocks
    }

    static func summarySection(_ files: [LabelledResults]) -> [Block] {
        var blocks: [Block] = [.heading(level: 2, "Every series")]
        for f in files {
            if files.count > 1 { blocks.append(.heading(level: 3, f.label)) }
            let series = f.index.measured
            let rows = series.keys.sorted().compactMap { key -> [String]? in
                guard let v = series[key], !v.isEmpty, let first = f.index.first[key] else { return nil }
                let s = Summary(v, seed: 1, resamples: 500)
                let ci = s.medianCI95.map { "\(Format.value($0.low, first.unit)) – \(Format.value($0.high, first.unit))" } ?? "n<3"
                let rel = Plots.relativeToNative(f, key).map { "\(Format.number($0.value))x" } ?? "—"
                return [key.workload, key.metric, key.backend, "\(s.count)", Format.value(s.median, first.unit), ci,
                        "\(Format.value(s.p25, first.unit)) – \(Format.value(s.p75, first.unit))",
                        "\(Format.value(s.min, first.unit)) – \(Format.value(s.max, first.unit))",
                        "\(s.outliers.count)", rel]
            }
            blocks.append(.table(
                header: ["workload", "metric", "backend", "n", "median", "95% CI", "IQR", "min – max", "outliers", "vs native"],
                rows: rows))
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
            for w in f.results.warnings { items.append("warning (\(w.kind.rawValue)): \(w)") }
            for l in f.results.hostLoad { items.append("host load \(l.when): \(Format.number(l.load1)) \(Format.number(l.load5)) \(Format.number(l.load15))") }
            if f.results.interrupted { items.append("**The run was interrupted**: what was measured until then is kept.") }
            blocks.append(items.isEmpty ? .paragraph("None.") : .list(items))
        }
        return blocks
    }
}
