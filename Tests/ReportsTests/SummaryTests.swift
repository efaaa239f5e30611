import BenchmarkResults
import Foundation
import IntermodalCore
import Reports
import SystemPackage
import Testing

@Suite(.serialized) struct SummaryAndHeadlineTests {
    static var demonstration: FilePath {
        FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
            .appending("results/bench-full-20261201-214050.json")
    }

    /// The demonstration dataset's summary fits a job summary and a slide: at most 10 KB, the
    /// headline PNG, the course table with TCG rows undecided, warnings counted, not listed.
    @Test func summaryOfTheDemonstrationDatasetIsShortAndSaysTCG() throws {
        let file = try LabelledResults.load(Self.demonstration)
        let md = Report.summaryMarkdown([file])
        #expect(md.utf8.count <= Report.summaryLimit, "summary.md is \(md.utf8.count) bytes")
        #expect(md.contains("guests: TCG emulation, not KVM") && md.contains("plots/headline.png"))
        #expect(md.contains("not decidable on this host") && !md.contains("consistent: 340"))
        #expect(md.contains("Warnings: ") && !md.contains("warning (emulated)"))
        // The density row says how far its count reaches beyond the 30 started.
        #expect(md.contains("extrapolated"))
        let terminal = Report.terminalAnswer(file)
        #expect(terminal.split(separator: "\n").count <= 16, "\(terminal)")
        #expect(terminal.contains("guests: TCG emulation, not KVM") && terminal.contains("not decidable on this host"))
    }

    /// The full report keeps every series but folds the long table and the warnings.
    @Test func theFullReportFoldsItsLongParts() throws {
        let file = try LabelledResults.load(Self.demonstration)
        let md = Markdown.render(Report.document([file]).0)
        #expect(md.contains("<details><summary>All ") && md.contains("warnings: emulated</summary>"))
        // No interval and no outlier count for a series of 3: its range and n instead.
        #expect(md.contains("none below n=5"))
        // No ratio of a negative MemAvailable drop.
        #expect(!md.contains("0.357x"))
    }

    /// A label or backend name from a results file cannot run anything in gnuplot: a newline and
    /// `!cmd` in it stay text.
    @Test func stringsFromAResultsFileCannotEscapeTheScript() async throws {
        try await withTemporaryDirectory { dir in
            let marker = dir.appending("pwned")
            let evil = "runc'\n!touch \(marker.string)\nset output '\(marker.string)"
            var f = SyntheticResults.file(label: "evil\n!touch \(marker.string)")
            f.samples = f.samples.map { s in
                var s = s
                if s.backend == "runc" { s.backend = evil }
                return s
            }
            f.suite.backends = f.suite.backends.map { $0 == "runc" ? evil : $0 }
            f.backends = f.backends.map { b in
                var b = b
                if b.name == "runc" { b.name = evil }
                return b
            }
            let out = try await Report.write([LabelledResults(label: f.label!, results: f)], to: dir.appending("report"))
            #expect(!FileSystem.exists(marker), "a string from the results file ran in gnuplot")
            for gp in out.plots where gp.extension == "gp" {
                let script = try FileSystem.readString(gp)
                #expect(!script.split(separator: "\n").contains { $0.hasPrefix("!") }, "\(gp)")
            }
        }
    }

    /// The headline figure: one image with the four panels, medians written on the bars, the
    /// accelerator inside the image; written by `Report.write` with the summary beside it.
    @Test func theHeadlineFigureIsWrittenWithTheSummary() async throws {
        try await withTemporaryDirectory { dir in
            let f = LabelledResults(label: "synthetic", results: SyntheticResults.withDensity(SyntheticResults.file()))
            let out = try await Report.write([f], to: dir.appending("report"))
            let svg = try FileSystem.readString(dir.appending("report/plots/headline.svg"))
            for title in ["Start-up: ", "Idle memory per instance", "Image or VM disk on the host", "Idle instances per GiB of host memory",
                          "guests: TCG emulation, not KVM"] {
                #expect(svg.contains(title), "headline.svg lacks \(title)")
            }
            #expect(svg.contains("ms") && svg.contains("MiB"))
            let png = try FileSystem.readBytes(dir.appending("report/plots/headline.png"))
            #expect(pngSize(png).map { $0 == (Gnuplot.width, Gnuplot.height) } == true)
            let summary = try FileSystem.readString(out.summary)
            #expect(summary.contains("plots/headline.png") && summary.utf8.count <= Report.summaryLimit)
        }
    }

    /// Under KVM on bare metal the images carry no mark; nested, they say so.
    @Test func theMarkFollowsTheAccelerator() {
        var kvm = SyntheticResults.file(accelerator: "kvm")
        #expect(kvm.acceleratorMark == nil)
        kvm.environment.hostVirtualization = "this host is itself a virtual machine: hypervisor CPUID bit"
        #expect(kvm.acceleratorMark?.contains("nested") == true)
        let figures = Plots.all([LabelledResults(label: "kvm", results: kvm)]).figures
        #expect(figures.allSatisfy { $0.mark?.contains("nested") == true })
    }
}
