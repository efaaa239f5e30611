import BenchmarkResults
import IntermodalCore

/// Disk footprint: what each backend keeps on disk for the image (shared layers counted once,
/// each peer's own copy, a guest's base disk, its kernel) and per instance (a guest's overlay),
/// in allocated blocks, not apparent sizes. Measured once: the figures do not vary by round.
public struct DiskWorkload: Workload {
    public let name = "disk"

    public init() {}

    public func rounds(for backend: any Backend, suite: Suite) -> Int { 1 }
    public func warmups(for backend: any Backend, suite: Suite) -> Int { 0 }

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let items = await backend.footprint()
        guard !items.isEmpty else { throw IntermodalError(.externalFailure, "\(backend.name) reported no disk footprint") }
        return items.map {
            .now(name, ($0.perInstance ? "per-instance:" : "shared:") + $0.what, backend, round, value: Double($0.bytes), unit: .bytes)
        }
    }
}
