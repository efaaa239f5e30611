import BenchmarkResults
import IntermodalCore

/// Memory bandwidth: STREAM's copy, scale, add and triad kernels (our own `stream`, compiled
/// into the workload image from `Benchmarks/images/workload/stream.c`), on three arrays of
/// 32 MiB each: a fixed working set that fits a 256 MiB guest. The best pass of each kernel in
/// the suite's run time gives its rate, MB/s, as STREAM reports it.
public struct MemoryBandwidthWorkload: ThroughputWorkload {
    public let name = "memory-bandwidth"
    public init() {}


    static let arrayMiB = 32
    static let kernels = ["Copy", "Scale", "Add", "Triad"]

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let seconds = round.suite.throughputSettings.seconds
        let text = try await ToolOutput.run("stream \(Self.arrayMiB) \(seconds)", tool: "stream", on: backend)
        var samples: [Sample] = []
        for kernel in Self.kernels {
            guard let rate = ToolOutput.number(after: kernel + ":", in: text) else {
                throw IntermodalError(.externalFailure, "stream on \(backend.name) printed no \(kernel) rate: \(ToolOutput.tail(text))")
            }
            samples.append(.now(name, "stream:\(kernel.lowercased())", backend, round, value: rate, unit: .megabytesPerSecond,
                                direction: .higherIsBetter, components: ["arrayMiB": Double(Self.arrayMiB)]))
        }
        return samples
    }
}
