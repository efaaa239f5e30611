import BenchmarkResults
import IntermodalCore

/// An application: redis-server in the instance, redis-benchmark on the host (50 clients, GET
/// and SET): operations per second and p50/p99 latency, by the backend's first network path
/// (the bridge for containers and guests that have one; the host's network for the rest).
public struct AppWorkload: ServerWorkload {
    public let name = "app"
    public init() {}


    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        guard let b = backend as? any ThroughputCapable, let path = b.networkPaths.first, let tools = round.tools else {
            throw IntermodalError(.invalidState, "app: no network path or host tools")
        }
        let service = try await BenchServers.start(on: b, path: path, index: round.number, timeout: round.timeout)
        let rows: [String: RedisBenchmark.Row]
        do throws(IntermodalError) {
            rows = try await RedisBenchmark.run(
                tools, service: service, tests: "get,set", requests: round.suite.throughputSettings.requests, clients: 50,
                timeout: round.timeout)
        } catch {
            await b.stopService(service)
            throw error
        }
        await b.stopService(service)
        var samples: [Sample] = []
        let via: [String: Double] = ["clients": 50]
        for (test, base) in [("GET", "redis-get"), ("SET", "redis-set")] {
            guard let r = rows[test] else { throw IntermodalError(.externalFailure, "redis-benchmark gave no \(test) result on \(backend.name)") }
            let metric = "\(path.rawValue):\(base)"
            samples.append(.now(name, "\(metric)-ops", backend, round, value: r.rps, unit: .operationsPerSecond, direction: .higherIsBetter, components: via))
            samples.append(.now(name, "\(metric)-p50", backend, round, value: r.p50, unit: .milliseconds, components: via))
            samples.append(.now(name, "\(metric)-p99", backend, round, value: r.p99, unit: .milliseconds, components: via))
        }
        return samples
    }
}
