import BenchmarkResults
import Foundation
import IntermodalCore
import Reports
import SystemPackage
import Testing

/// A temporary directory removed at the end of the test.
func withTemporaryDirectory<T>(_ body: (FilePath) async throws -> T) async throws -> T {
    let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-reports-test")
    defer { try? FileSystem.removeTree(dir) }
    return try await body(dir)
}

/// The width and height in a PNG's IHDR chunk, or nil when `bytes` is no PNG.
func pngSize(_ bytes: [UInt8]) -> (Int, Int)? {
    guard bytes.count > 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
          bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
    func be(_ i: Int) -> Int { bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20))
}

@Suite struct ReportDocumentTests {
    static func labelled(_ f: ResultsFile) -> LabelledResults { LabelledResults(label: f.label ?? "file", results: f) }

    @Test func environmentTableBoldsTCGAndNotesSkippedBackends() {
        let (doc, figures) = Report.document([Self.labelled(SyntheticResults.file(label: "synthetic TCG"))])
        let md = Markdown.render(doc)
        #expect(md.contains("**TCG** (software emulation)"))
        #expect(md.contains("**crun skipped**: crun is not installed"))
        #expect(md.contains("runc, adjusted: systemd cgroup driver off: cgroupfs"))
        #expect(md.contains("1 warning: emulated"))
        // Every kind of figure has data in the synthetic file, and every one says TCG in its image.
        #expect(Set(figures.map(\.name)) == ["headline", "startup-echo-spawn-to-exit", "startup-phases", "memory-components", "density", "disk-footprint", "throughput"])
        #expect(figures.allSatisfy { Gnuplot.script($0).contains("guests: TCG emulation, not KVM") })
        let html = HTML.render(doc, svg: [:])
        #expect(html.contains("<strong>TCG</strong>") && !html.contains("<script"))
    }

    @Test func summariesLeaveWarmupsOut() {
        let file = SyntheticResults.file(runs: 10)
        let key = SeriesKey(workload: "startup", metric: "echo:spawn-to-exit", backend: "intermodal")
        #expect(file.measuredSeries[key]?.count == 10)
        #expect(file.measuredSeries[key]!.allSatisfy { $0 < 100 })
    }

    /// Under KVM the course's claims hold on the default synthetic figures, and a VM that starts
    /// only 5x slower than the container contradicts the start-up claim. Under TCG only the disk
    /// row is decided (bytes do not depend on the accelerator); the others show their figures
    /// and say they cannot decide.
    @Test func courseTableDecidesOnlyWhereTheAcceleratorAllows() {
        let kvm = CourseTable.rows(SyntheticResults.file(accelerator: "kvm"))
        #expect(kvm.count == 4)
        #expect(kvm.allSatisfy { $0.verdict.hasPrefix("consistent") && $0.decided }, "\(kvm.map(\.verdict))")
        #expect(kvm[0].container.contains("intermodal") && kvm[0].vm.contains("vm"))
        // The guest's shared bytes are all its shared items: base disk and kernel.
        #expect(kvm[0].vm.contains("78.0 MiB") && kvm[0].vm.contains("shared:image + shared:kernel and initramfs"))
        #expect(kvm[1].container.contains("n=10") && kvm[1].vmChoice.hasPrefix("vm: the micro guest"))
        #expect(kvm[1].slide?.contains("1.384 s") == true && kvm[0].slide?.contains("72.9 MB") == true)
        let tcg = CourseTable.rows(SyntheticResults.file())
        #expect(tcg[0].verdict.hasPrefix("consistent") && tcg[0].decided)
        for row in tcg.dropFirst() {
            #expect(!row.decided && row.verdict.contains("**not decidable on this host**") && row.verdict.contains("TCG"))
            #expect(row.measuredFactor != nil && !row.verdict.contains("consistent") && !row.verdict.contains("contradicted"))
        }
        var backends = SyntheticResults.backends
        backends[3].startup = 35
        let fastVM = CourseTable.rows(SyntheticResults.file(accelerator: "kvm", backends: backends))
        #expect(fastVM[1].verdict.contains("**contradicted on this host**"))
        // Nested KVM: decided, with the caveat beside the figure.
        var nested = SyntheticResults.file(accelerator: "kvm")
        nested.environment.hostVirtualization = "this host is itself a virtual machine: hypervisor CPUID bit"
        #expect(CourseTable.rows(nested)[1].verdict.contains("itself a guest"))
        // No VM at all: said, not guessed.
        let noVM = CourseTable.rows(SyntheticResults.file(backends: Array(backends.prefix(3))))
        #expect(noVM.allSatisfy { $0.verdict.hasPrefix("not measured") })
    }

    /// Density is one row at one stated budget, with the count started and how far beyond it
    /// the figure reaches.
    @Test func densityIsOneRowAtAStatedBudgetWithItsExtrapolation() throws {
        let f = SyntheticResults.withDensity(SyntheticResults.file(runs: 10, sigma: 0.02, accelerator: "kvm"))
        let rows = CourseTable.rows(f)
        let density = try #require(rows.last)
        #expect(rows.filter { $0.claim.hasPrefix("Many more containers") }.count == 1)
        #expect(density.claim.contains("at a budget of 1.00 GiB"))
        // intermodal: 3 MiB each, 341 in 1 GiB, 5 started: 68x beyond.
        #expect(density.container.contains("5 were started: the count is extrapolated 68.2x beyond what was measured"), "\(density.container)")
        #expect(density.vm.contains("5 started") && !density.vm.contains("extrapolated"))
    }

    /// The image-size claim is about a full system install: with a full-OS guest in the file,
    /// its disk is the VM side, not the micro guest's (which is the container's image itself).
    @Test func theImageSizeClaimComparesWithTheFullGuestsDisk() {
        var backends = SyntheticResults.backends
        backends.append(SyntheticResults.Backend(
            name: "vm-full", kind: "vm", startup: 30_000, phases: [:], memory: ["qemu": 700 * SyntheticResults.mib],
            imageBytes: 900 * SyntheticResults.mib, perInstanceBytes: 3 * SyntheticResults.mib, cpuEvents: 200))
        let rows = CourseTable.rows(SyntheticResults.file(backends: backends))
        #expect(rows[0].vm.hasPrefix("vm-full: "), "\(rows[0].vm)")
        #expect(rows[0].vmChoice.hasPrefix("vm-full: the full-OS guest"))
        #expect(rows[0].vm.contains("908 MiB"), "\(rows[0].vm)")
        // The other claims keep the micro guest, the suite's first VM.
        #expect(rows[1].vm.hasPrefix("vm: "))
    }

    @Test func phasesAreAttributedToWhatTheyEnd() throws {
        let vm = SyntheticResults.file().samples.filter { $0.backend == "vm" && $0.workload == "startup" && !$0.warmup }
        let parts = try #require(PhaseCategory.breakdown(vm))
        // kernelStart -> initStart is the kernel; after the exit mark comes cleanup.
        #expect(parts[.kernel]! > parts[.initialisation]!)
        #expect(parts[.cleanup]! > 0 && parts[.setup]! > 0 && parts[.command]! > 0)
        let total = parts.values.reduce(0, +)
        let median = Quantile.of(sorted: vm.map(\.value).sorted(), 0.5)
        #expect(abs(total - median) < 1e-6 * median)
    }

    @Test func throughputIsNormalisedToNative() throws {
        let f = Self.labelled(SyntheticResults.file(runs: 20, sigma: 0.02))
        let (doc, _) = Report.document([f])
        let md = Markdown.render(doc)
        // runc's 985 events/s over native's 1000, and the VM's 310 under TCG, as shares of native's rate.
        #expect(md.contains("| cpu | sysbench-events | runc | 20 |"))
        #expect(md.contains("98.") && md.contains("% of native's rate"))
        let vm = try #require(md.split(separator: "\n").first { $0.hasPrefix("| cpu | sysbench-events | vm | 20 |") })
        let share = try #require(vm.components(separatedBy: "% of native's rate").first?.split(separator: " ").last.flatMap { Double($0) })
        #expect(share > 28 && share < 34, "\(vm)")
    }

    /// The density workload's curve is drawn as measured, the course table says how many fit by
    /// it, and density's counts and bytes stay out of the throughput figure.
    @Test func theMeasuredDensityCurveReplacesTheEstimate() throws {
        let f = Self.labelled(SyntheticResults.withDensity(SyntheticResults.file(runs: 10, sigma: 0.02)))
        let figure = try #require(Plots.density([f]))
        #expect(figure.body.contains("measured") && figure.body.contains("$density0") && figure.body.contains("vm: 5 started"))
        #expect(!figure.caption.contains("Estimated"))
        let estimate = try #require(Plots.density([Self.labelled(SyntheticResults.file())]))
        #expect(estimate.caption.hasPrefix("Estimated"))
        #expect(!Plots.throughputGroups([f]).contains { $0.workload == "density" })
        let md = Markdown.render(Report.document([f]).0)
        #expect(md.contains("density workload") && md.contains("5 started"))
    }

    @Test func loadRejectsANonResultsFileNamingIt() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appending("bad.json")
            try FileSystem.writeAtomically("{\"samples\": []}", to: path)
            #expect {
                try LabelledResults.load(path)
            } throws: { error in
                (error as? IntermodalError)?.message.contains("bad.json is not a results file") == true
            }
        }
    }
}

@Suite(.serialized) struct ReportRenderingTests {
    /// Two files side by side: every plot rendered by gnuplot to SVG and PNG, PNGs of the
    /// expected size, axes labelled with units, both labels in the legends.
    @Test func reportRendersEveryPlotWithLabelledAxes() async throws {
        try await withTemporaryDirectory { dir in
            let a = LabelledResults(label: "commit A", results: SyntheticResults.file(label: "commit A", seed: 1))
            let b = LabelledResults(label: "commit B", results: SyntheticResults.file(label: "commit B", seed: 2, slowdown: ["runc": 1.2]))
            let out = try await Report.write([a, b], to: dir.appending("report"))
            let md = try FileSystem.readString(out.markdown)
            let html = try FileSystem.readString(out.html)
            #expect(md.contains("commit A vs commit B") && md.contains("### commit B"))
            #expect(out.plots.count == 21)
            let units = [
                "startup-echo-spawn-to-exit": "time (ms, log scale)", "startup-phases": "share of start-up (%)",
                "memory-components": "memory per instance (MiB)", "density": "memory used (GiB)",
                "disk-footprint": "allocated bytes on disk (MiB)", "throughput": "relative to native (ratio, higher is better, log scale)",
            ]
            for (name, ylabel) in units {
                let svg = try FileSystem.readString(dir.appending("report/plots/\(name).svg"))
                #expect(svg.contains(ylabel), "\(name).svg lacks its y label")
                let png = try FileSystem.readBytes(dir.appending("report/plots/\(name).png"))
                let size = try #require(pngSize(png), "\(name).png is not a PNG")
                #expect(size == (Gnuplot.width, Gnuplot.height))
                #expect(png.count > 10_000, "\(name).png is only \(png.count) bytes")
                #expect(html.contains("id=\"\(name)\""))
            }
            let startup = try FileSystem.readString(dir.appending("report/plots/startup-echo-spawn-to-exit.svg"))
            #expect(startup.contains("commit A") && startup.contains("commit B"))
            #expect(!html.contains("src=\"http") && !html.contains("<script"))
            if let keep = getenvString("INTERMODAL_KEEP_REPORT") {
                try await HostCommand.check("cp", ["-r", dir.appending("report").string, keep + "-side-by-side"])
            }
        }
    }
}
