import BenchmarkResults
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// One results file as a report shows it: the file and the label it goes by.
public struct LabelledResults: Sendable {
    /// The file's own `label`, else its file name; made unique when several files share one.
    public var label: String
    public var results: ResultsFile { didSet { index = SeriesIndex(results) } }
    /// The file's series, indexed once: a report or a comparison looks series up by key many
    /// times, and a scan of every sample per look-up was quadratic in a large file.
    public private(set) var index: SeriesIndex

    public init(label: String, results: ResultsFile) {
        self.label = label
        self.results = results
        index = SeriesIndex(results)
    }

    /// The largest results file `report`, `compare` and `bench --rerun` read: a full suite writes
    /// about 1 MB, and what is read is held in memory whole.
    public static let largestFileBytes = 64 << 20

    /// Reads and decodes a results file; the error names the file and what was wrong with it.
    public static func load(_ path: FilePath) throws(IntermodalError) -> LabelledResults {
        var st = stat()
        if stat(path.string, &st) == 0, st.st_size > Self.largestFileBytes {
            throw IntermodalError(
                .invalidArgument,
                "\(path) is \(ByteSize.describe(Int64(st.st_size))); results files above \(ByteSize.describe(Int64(Self.largestFileBytes))) "
                    + "are refused (a run of the full suite writes about 1 MB)")
        }
        let bytes = try FileSystem.readBytes(path)
        let file = try JSON.decode(ResultsFile.self, from: bytes, what: "\(path) is not a results file", code: .invalidArgument)
        guard file.schemaVersion <= ResultsFile.currentSchemaVersion else {
            throw IntermodalError(
                .unsupported,
                "\(path) has schema version \(file.schemaVersion); this build reads up to \(ResultsFile.currentSchemaVersion)")
        }
        do { try file.validate() } catch {
            throw IntermodalError(.invalidArgument, "\(path) is not a results file a run could have written: \(error.description)")
        }
        let name = path.lastComponent?.stem ?? path.string
        return LabelledResults(label: file.label ?? name, results: file)
    }

    /// Labels made unique (`a`, `a (2)`), in order.
    public static func uniquelyLabelled(_ files: [LabelledResults]) -> [LabelledResults] {
        var seen: [String: Int] = [:]
        return files.map { f in
            var f = f
            let n = (seen[f.label] ?? 0) + 1
            seen[f.label] = n
            if n > 1 { f.label += " (\(n))" }
            return f
        }
    }
}

/// A results file's series by key: built in one pass over the samples.
public struct SeriesIndex: Sendable {
    /// The measured (not warm-up) values of every series, in the order they were taken.
    public let measured: [SeriesKey: [Double]]
    /// The first sample of every series (its unit and direction).
    public let first: [SeriesKey: Sample]
    /// The harness's summary of every series it summarised.
    public let summaries: [SeriesKey: SeriesSummary]

    init(_ file: ResultsFile) {
        measured = file.measuredSeries
        var first: [SeriesKey: Sample] = [:]
        for s in file.samples where first[s.series] == nil { first[s.series] = s }
        self.first = first
        var summaries: [SeriesKey: SeriesSummary] = [:]
        for s in file.summaries where summaries[s.series] == nil { summaries[s.series] = s }
        self.summaries = summaries
    }
}

extension ResultsFile {
    /// The measured (not warm-up) values of every series, in the order they were taken.
    public var measuredSeries: [SeriesKey: [Double]] {
        var out: [SeriesKey: [Double]] = [:]
        for s in samples where !s.warmup { out[s.series, default: []].append(s.value) }
        return out
    }

    /// The measured samples of one series.
    public func measuredSamples(_ key: SeriesKey) -> [Sample] {
        samples.filter { !$0.warmup && $0.series == key }
    }

    /// Backends in the suite's order, then any others the samples name.
    public var backendOrder: [String] {
        var order = suite.backends
        for b in backends.map(\.name) + samples.map(\.backend) where !order.contains(b) { order.append(b) }
        return order
    }

    /// The kind (`native`, `container`, `peer`, `vm`) of a backend, when the file says.
    public func kind(of backend: String) -> String? { backends.first { $0.name == backend }?.kind }

    /// True when guests ran under software emulation.
    public var isEmulated: Bool { environment.accelerator.lowercased() == "tcg" }

    /// What a guest backend ran under: its own record, else the environment's.
    public func accelerator(of backend: String) -> String {
        (backends.first { $0.name == backend }?.accelerator ?? environment.accelerator).lowercased()
    }

    /// Whether a VM's figures can decide a claim about VMs: only under KVM. TCG translates
    /// every guest instruction (its translation cache alone is tens of MiB per guest), so its
    /// times and memory say what emulation costs, not what a VM costs.
    public func guestFiguresDecide(_ backend: String) -> Bool { accelerator(of: backend) == "kvm" }

    /// The caveat KVM figures carry when the measuring host is itself a guest.
    public var nestedCaveat: String? {
        environment.hostVirtualization != nil
            ? "measured on a host that is itself a guest: KVM here is nested, slower than on bare metal" : nil
    }

    /// The accelerator as a plot or a slide must state it; nil under KVM on bare metal.
    public var acceleratorMark: String? {
        switch environment.accelerator.lowercased() {
        case "kvm": return environment.hostVirtualization != nil ? "guests: KVM, nested (the measuring host is itself a guest)" : nil
        case "tcg": return "guests: TCG emulation, not KVM"
        default: return "guests: accelerator \(environment.accelerator), not KVM"
        }
    }
}
