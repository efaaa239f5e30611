import BenchmarkResults
import IntermodalCore

/// Memory bandwidth: stress-ng's `stream` stressor (STREAM's copy, scale, add and triad kernels
/// in a loop; stress-ng reports one read rate and one write rate over all four), one instance,
/// on three arrays of 32 MiB each: a fixed working set that fits a 256 MiB guest. (The L3 size
/// stress-ng would size its arrays by is what the host's CPUID says, 260 MiB on a virtual CPU
/// here, which would not fit.)
public struct MemoryBandwidthWorkload: Workload {
    public let name = "memory-bandwidth"
    public init() {}

    public func rounds(for backend: any Backend, suite: Suite) -> Int { ToolOutput.rounds(backend, suite) }
    public func warmups(for backend: any Backend, suite: Suite) -> Int { 0 }
    public func notMeasured(on backend: any Backend, suite: Suite) -> String? { ToolOutput.notMeasured(backend) }

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        // stress-ng reports no rate from a run shorter than about 5 s.
        let seconds = max(round.suite.throughputSettings.seconds, 5)
        let text = try await ToolOutput.run(
            "stress-ng --stream 1 --stream-l3-size 8M --timeout \(seconds) --metrics 2>&1", tool: "stress-ng --stream", on: backend)
        guard let read = ToolOutput.number(after: "stream ", in: text.lineContaining("memory read rate")),
              let write = ToolOutput.number(after: "stream ", in: text.lineContaining("memory write rate"))
        else {
            throw IntermodalError(.externalFailure, "stress-ng --stream on \(backend.name) printed no memory rate: \(ToolOutput.tail(text))")
        }
        return [
            .now(name, "stream:read", backend, round, value: read, unit: .megabytesPerSecond, direction: .higherIsBetter),
            .now(name, "stream:write", backend, round, value: write, unit: .megabytesPerSecond, direction: .higherIsBetter),
        ]
    }
}

extension String {
    /// The first line containing `needle`, or "".
    func lineContaining(_ needle: String) -> String {
        split(separator: "\n").first { $0.contains(needle) }.map(String.init) ?? ""
    }
}
