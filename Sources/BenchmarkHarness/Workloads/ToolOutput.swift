import BenchmarkResults
import IntermodalCore

/// What the throughput workloads share: their rounds come from the suite's throughput settings,
/// they warm nothing up (a tool's own run is long), and they skip the library backend, whose
/// containers are the CLI's.
public protocol ThroughputWorkload: Workload {}

extension ThroughputWorkload {
    public func rounds(for backend: any Backend, suite: Suite) -> Int { ToolOutput.rounds(backend, suite) }
    public func warmups(for backend: any Backend, suite: Suite) -> Int { 0 }
    public func notMeasured(on backend: any Backend, suite: Suite) -> String? { ToolOutput.notMeasured(backend) }
}

/// A throughput workload whose server runs in the instance and whose client runs on the host:
/// it also needs a network path to the instance.
public protocol ServerWorkload: ThroughputWorkload {}

extension ServerWorkload {
    public func notMeasured(on backend: any Backend, suite: Suite) -> String? {
        ToolOutput.notMeasured(backend)
            ?? (BenchServers.paths(backend).isEmpty ? "\(backend.name) offers no network path to a server in its instances here" : nil)
    }
}

/// Running a benchmark tool in an instance and reading what it printed: the throughput
/// workloads share this, and each parses its own tool's format.
enum ToolOutput {
    /// Runs `script` with `sh -c` in a new instance of `backend` (or with `volume` mounted) and
    /// returns its output; a failure names the backend, the tool and the end of its output.
    static func run(_ script: String, tool: String, on backend: any Backend, volume: FilePath? = nil) async throws(IntermodalError) -> String {
        let run: InstanceRun
        if let volume {
            guard let b = backend as? any ThroughputCapable else { throw IntermodalError(.unsupported, "\(backend.name) has no volumes") }
            run = try await b.run(["sh", "-c", script], volume: volume)
        } else {
            run = try await backend.run(["sh", "-c", script])
        }
        let text = String(decoding: run.output, as: UTF8.self)
        guard run.status == ExitStatus(code: 0) else {
            throw IntermodalError(.externalFailure, "\(tool) on \(backend.name) ended with \(run.status): \(tail(text))")
        }
        return text
    }

    /// The last lines of `text`, for an error message.
    static func tail(_ text: String, lines: Int = 6) -> String {
        let last = text.split(separator: "\n").suffix(lines).joined(separator: " | ")
        return last.isEmpty ? "(no output)" : last
    }

    /// The number after `label` on the first line containing it (`events per second:  1420.71`).
    static func number(after label: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") {
            guard let r = line.range(of: label) else { continue }
            let rest = line[r.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
            return Double(rest.prefix { $0.isNumber || $0 == "." })
        }
        return nil
    }

    /// Why a throughput workload skips `backend`: the library backend's instances are the CLI's.
    static func notMeasured(_ backend: any Backend) -> String? {
        backend is IntermodalLibraryBackend
            ? "intermodal-lib runs the same containers as intermodal (in-process): throughput is measured once, on intermodal" : nil
    }

    /// The throughput workloads' rounds: the suite's throughput runs, no more than the backend's own.
    static func rounds(_ backend: any Backend, _ suite: Suite) -> Int {
        min(suite.throughputSettings.runs(for: backend.name), suite.runs(for: backend.name))
    }
}

import SystemPackage

extension String {
    /// The first line containing `needle`, or "".
    func lineContaining(_ needle: String) -> String {
        split(separator: "\n").first { $0.contains(needle) }.map(String.init) ?? ""
    }
}
