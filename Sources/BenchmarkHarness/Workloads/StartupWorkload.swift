import BenchmarkResults
import IntermodalCore

/// Start-up: spawn to exit of `true`, and spawn to the first byte of `echo`'s output, in a new
/// instance each time; library backends add the phases their library recorded (create, start,
/// first output, exit, cleanup; a guest's kernel and init starts).
public struct StartupWorkload: Workload {
    public let name = "startup"
    static let marker = "intermodal-startup"

    public init() {}

    public func rounds(for backend: any Backend, suite: Suite) -> Int { suite.runs(for: backend.name) }
    public func warmups(for backend: any Backend, suite: Suite) -> Int { suite.warmup(for: backend.name) }

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let t = try await backend.run(["true"])
        guard t.status.code == 0 else {
            throw IntermodalError(.externalFailure, "`true` exited with \(t.status): \(String(decoding: t.output.prefix(300), as: UTF8.self).trimmed)")
        }
        let e = try await backend.run(["echo", Self.marker])
        guard e.status.code == 0 else {
            throw IntermodalError(.externalFailure, "`echo` exited with \(e.status): \(String(decoding: e.output.prefix(300), as: UTF8.self).trimmed)")
        }
        // In-process runs write output to the container's log, not to us: their first-output mark stands.
        if !e.output.isEmpty, !String(decoding: e.output, as: UTF8.self).contains(Self.marker) {
            throw IntermodalError(.externalFailure, "`echo \(Self.marker)` printed \(String(decoding: e.output.prefix(200), as: UTF8.self).trimmed)")
        }
        guard let first = e.spawnToFirstOutput else {
            throw IntermodalError(.externalFailure, "`echo` printed nothing that reached the harness")
        }
        return [
            .now(name, "true:spawn-to-exit", backend, round, value: t.spawnToExit.milliseconds,
                 unit: .milliseconds, phases: t.phases.isEmpty ? nil : t.phases),
            .now(name, "echo:spawn-to-first-output", backend, round, value: first.milliseconds,
                 unit: .milliseconds, phases: e.phases.isEmpty ? nil : e.phases),
        ]
    }
}
