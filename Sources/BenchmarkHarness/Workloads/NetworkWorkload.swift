import BenchmarkResults
import ImageStore
import IntermodalCore

/// The servers the network and app workloads start in an instance: redis-server (daemonized)
/// and iperf3 in the foreground, on ports unlikely to be taken on a host that shares its network.
enum BenchServers {
    static let iperf3Port = 47201
    static let redisPort = 47379
    static let script = """
        redis-server --port \(redisPort) --bind 0.0.0.0 --protected-mode no --save '' --appendonly no --daemonize yes \
        && exec iperf3 -s -p \(iperf3Port)
        """

    /// Starts both servers by `path` and waits until both accept connections.
    static func start(on backend: any ThroughputCapable, path: NetworkPath, index: Int, timeout: Duration) async throws(IntermodalError) -> ServiceInstance {
        if path == .host { try await requireFreeOnHost([iperf3Port, redisPort], for: backend.name) }
        let service = try await backend.startService(["sh", "-c", script], ports: [iperf3Port, redisPort], path: path, index: index)
        // Only redis is probed: iperf3 takes a probe's connection for a test and is busy for a
        // moment after it (the client retries instead, see ``iperf3``).
        do throws(IntermodalError) {
            try await PortProbe.waitUntilOpen(service.address, service.port(redisPort), timeout: timeout)
        } catch {
            await backend.stopService(service)
            throw IntermodalError(.externalFailure, "the servers in \(backend.name) (\(path.rawValue)) did not come up", cause: error)
        }
        return service
    }

    /// On the host's network the instance's servers bind the host's ports. If a server already
    /// listens there, the instance's fails to bind (redis-server daemonizes first, so it fails
    /// unseen) and the host's would be measured in its place: that path fails instead.
    static func requireFreeOnHost(_ ports: [Int], for backend: String) async throws(IntermodalError) {
        let taken = await DedicatedThread.run { ports.filter { PortProbe.connects("127.0.0.1", $0) } }
        guard taken.isEmpty else {
            let ports = taken.map(String.init).joined(separator: " and ")
            throw IntermodalError(
                .invalidState,
                "port \(ports) on the host is already in use, so \(backend)'s servers on the host network cannot have it and another server would be measured instead (see `ss -ltnp`)")
        }
    }

    /// iperf3 from the host to the service, retried while the server is not up yet or busy.
    static func iperf3(_ tools: HostTools, service: ServiceInstance, seconds: Int, timeout: Duration, what: String) async throws(IntermodalError) -> Iperf3Report {
        var last: IntermodalError?
        for attempt in 0..<10 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
            let text: String
            do {
                text = try await tools.run(
                    ["iperf3", "-c", service.address, "-p", String(service.port(iperf3Port)), "-t", String(seconds), "-J"], timeout: timeout)
            } catch {
                last = error
                continue
            }
            let report = try JSON.decode(Iperf3Report.self, from: Array(text.utf8), what: "iperf3's JSON output (\(what))")
            if report.error == nil, report.end?.sum_sent != nil, report.end?.sum_received != nil { return report }
            last = IntermodalError(.externalFailure, "iperf3 (\(what)): \(report.error ?? "no result")")
        }
        throw last ?? IntermodalError(.externalFailure, "iperf3 (\(what)): no result")
    }

    /// The paths `workload` runs on for `backend`, or why it does not run there.
    static func paths(_ backend: any Backend) -> [NetworkPath] {
        (backend as? any ThroughputCapable)?.networkPaths ?? []
    }
}

/// Network: iperf3 from the host to a server in the instance (throughput and TCP retransmits),
/// and the round-trip time of small requests (redis-benchmark PING from one client, no
/// pipelining: one request in flight), by every path the backend offers: the instance's bridge
/// address, a published port (DNAT), the host's network. Native runs on loopback (`host`), and
/// the bridge and published paths are normalised to that.
public struct NetworkWorkload: ServerWorkload {
    public let name = "network"
    public init() {}


    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        guard let b = backend as? any ThroughputCapable, let tools = round.tools else {
            throw IntermodalError(.invalidState, "network: no network paths or host tools")
        }
        var samples: [Sample] = []
        var lastError: IntermodalError?
        // A path that fails is a failure of its own; the other paths are still measured.
        for path in b.networkPaths {
            do throws(IntermodalError) {
                samples += try await measure(b, path: path, tools: tools, round)
            } catch {
                lastError = error
                round.partialFailures.add("\(path.rawValue): \(error.description)")
            }
        }
        if samples.isEmpty, let lastError { throw lastError }
        return samples
    }

    func measure(_ b: any ThroughputCapable, path: NetworkPath, tools: HostTools, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let backend: any Backend = b
        let t = round.suite.throughputSettings
        var samples: [Sample] = []
        let service = try await BenchServers.start(on: b, path: path, index: round.number, timeout: round.timeout)
        do throws(IntermodalError) {
            let report = try await BenchServers.iperf3(tools, service: service, seconds: t.seconds, timeout: round.timeout,
                                                      what: "\(backend.name), \(path.rawValue)")
            let p = path.rawValue
            guard let sent = report.end?.sum_sent, let received = report.end?.sum_received else {
                throw IntermodalError(.externalFailure, "iperf3: no result")
            }
            samples.append(.now(name, "\(p):iperf3-throughput", backend, round, value: received.bits_per_second / 1e6,
                                unit: .megabitsPerSecond, direction: .higherIsBetter))
            samples.append(.now(name, "\(p):iperf3-retransmits", backend, round, value: Double(sent.retransmits ?? 0), unit: .count))
            let rtt = try await RedisBenchmark.run(
                tools, service: service, tests: "ping_inline", requests: max(t.requests / 10, 100), clients: 1, timeout: round.timeout)
            if let ping = rtt["PING_INLINE"] {
                samples.append(.now(name, "\(p):request-rtt-p50", backend, round, value: ping.p50, unit: .milliseconds))
                samples.append(.now(name, "\(p):request-rtt-p99", backend, round, value: ping.p99, unit: .milliseconds))
            }
        } catch {
            await b.stopService(service)
            throw error
        }
        await b.stopService(service)
        return samples
    }
}

/// The part of `iperf3 -J` the workload reads: the end sums, or the error it reports instead.
struct Iperf3Report: Decodable {
    struct End: Decodable {
        var sum_sent: Sum?
        var sum_received: Sum?
    }
    struct Sum: Decodable {
        var bits_per_second: Double
        var retransmits: Int?
    }
    var end: End?
    var error: String?
}

/// redis-benchmark from the host against the instance's redis-server, read from its `--csv`.
public enum RedisBenchmark {
    /// One test's operations per second and latency percentiles (ms).
    public struct Row: Sendable { public var rps: Double; public var p50: Double; public var p99: Double }

    static func run(
        _ tools: HostTools, service: ServiceInstance, tests: String, requests: Int, clients: Int, timeout: Duration
    ) async throws(IntermodalError) -> [String: Row] {
        // redis-benchmark has no timeout of its own and once waited out the whole round's limit
        // on a guest that stopped answering. A minute plus 2 ms a request (500 requests/s, far
        // below an emulated guest's rate) bounds that and still lets any live server finish.
        let testCount = tests.split(separator: ",").count
        let bound = min(timeout, .seconds(60) + .milliseconds(2 * requests * testCount))
        let text = try await tools.run(
            ["redis-benchmark", "-h", service.address, "-p", String(service.port(BenchServers.redisPort)), "-t", tests,
             "-n", String(requests), "-c", String(clients), "--csv"], timeout: bound)
        return try parse(text)
    }

    /// `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"`.
    public static func parse(_ text: String) throws(IntermodalError) -> [String: Row] {
        var rows: [String: Row] = [:]
        var header: [String] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: "\"") }
            if fields.first == "test" { header = fields; continue }
            guard !header.isEmpty, fields.count == header.count else { continue }
            func value(_ column: String) -> Double? { header.firstIndex(of: column).flatMap { Double(fields[$0]) } }
            guard let rps = value("rps"), let p50 = value("p50_latency_ms"), let p99 = value("p99_latency_ms") else { continue }
            rows[fields[0]] = Row(rps: rps, p50: p50, p99: p99)
        }
        guard !rows.isEmpty else { throw IntermodalError(.externalFailure, "redis-benchmark printed no results: \(ToolOutput.tail(text))") }
        return rows
    }
}

extension Substring {
    func trimmingCharacters(in quote: Character) -> String {
        var s = self
        while s.first == quote { s = s.dropFirst() }
        while s.last == quote { s = s.dropLast() }
        return String(s)
    }
}
