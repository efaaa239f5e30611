import BenchmarkResults
import IntermodalCore

/// CPU: sysbench's prime-number test, events per second, with one thread and with every vCPU
/// the instance has (`nproc` inside it), both in one instance per round.
public struct CPUWorkload: ThroughputWorkload {
    public let name = "cpu"
    public init() {}


    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let seconds = round.suite.throughputSettings.seconds
        let marker = "== threads"
        let script = """
            echo "\(marker) 1"; sysbench cpu --threads=1 --time=\(seconds) run
            n=$(nproc); echo "\(marker) $n"; sysbench cpu --threads=$n --time=\(seconds) run
            """
        let text = try await ToolOutput.run(script, tool: "sysbench cpu", on: backend)
        let parts = text.components(separatedBy: marker + " ").dropFirst()
        var samples: [Sample] = []
        for (i, part) in parts.enumerated() {
            let threads = Double(part.prefix { $0.isNumber }) ?? 0
            guard let eps = ToolOutput.number(after: "events per second", in: part) else {
                throw IntermodalError(.externalFailure, "sysbench cpu on \(backend.name) printed no events per second: \(ToolOutput.tail(part))")
            }
            let metric = i == 0 ? "sysbench-cpu:1-thread" : "sysbench-cpu:all-vcpus"
            samples.append(.now(name, metric, backend, round, value: eps, unit: .eventsPerSecond, direction: .higherIsBetter,
                                components: ["threads": threads]))
        }
        guard samples.count == 2 else { throw IntermodalError(.externalFailure, "sysbench cpu on \(backend.name): expected two runs, got \(samples.count)") }
        return samples
    }
}
