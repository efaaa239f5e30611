#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import IntermodalCore

/// Density: idle instances started one after another, all kept running, until the host memory
/// they use reaches the suite's budget (default a quarter of the host's RAM) or the suite's
/// count. Each step records the k-th instance's start-up time, the host memory used by all k,
/// and how many are still alive: the curve the report draws. A failed start ends the curve there
/// (recorded, not thrown) unless it is the first.
///
/// The memory used is the sum of the PSS of every host process of the k instances (as the memory
/// workload counts one): shared pages are split among their users, so the sum is what the k cost
/// together. The drop of `MemAvailable` since before the first is kept beside it as a cross-check
/// only: 30 containers use a few MiB, less than the host's own drift in that figure, which made
/// it come out negative.
public struct DensityWorkload: Workload {
    public let name = "density"
    public init() {}

    public func rounds(for backend: any Backend, suite: Suite) -> Int { 1 }
    public func warmups(for backend: any Backend, suite: Suite) -> Int { 0 }

    /// Indices of density instances, apart from the memory workload's.
    static let firstIndex = 10_000

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let settings = round.suite.densitySettings
        let budget = Double(settings.memoryBudgetMiB.map { Int64($0) << 20 } ?? (HostFacts.memTotalKiB() ?? 0) * 1024 / 4)
        let most = settings.maxInstances(for: backend.name)
        guard let baseline = HostFacts.memAvailableKiB() else { throw IntermodalError(.unsupported, "no MemAvailable in /proc/meminfo") }
        var instances: [IdleInstance] = []
        var samples: [Sample] = []
        var used = 0.0
        // 0: the count was reached, 1: the budget, 2: a start failed.
        var stoppedBy = 0.0
        for k in 1...most {
            let started = MonotonicInstant.now
            do {
                instances.append(try await backend.startIdle(Self.firstIndex + round.number * 100_000 + k))
            } catch {
                if instances.isEmpty { throw error }
                stoppedBy = 2
                samples.append(.now(name, "start-failed-at", backend, round, value: Double(k), unit: .count))
                break
            }
            let startup = MonotonicInstant.now.duration(since: started).milliseconds
            used = instances.reduce(0) { $0 + $1.memoryByComponent().pss.values.reduce(0, +) }
            let drop = Double(baseline - (HostFacts.memAvailableKiB() ?? baseline)) * 1024
            let alive = instances.filter { $0.processes.allSatisfy { kill($0.pid, 0) == 0 } }.count
            let step: [String: Double] = ["instances": Double(k), "hostMemoryUsedBytes": used, "memAvailableDropBytes": drop, "alive": Double(alive)]
            samples.append(.now(name, "step:start-up", backend, round, value: startup, unit: .milliseconds, components: step))
            samples.append(.now(name, "step:host-memory-used", backend, round, value: used, unit: .bytes, components: step))
            if used >= budget { stoppedBy = 1; break }
        }
        let alive = instances.filter { $0.processes.allSatisfy { kill($0.pid, 0) == 0 } }.count
        for instance in instances.reversed() { await backend.stopIdle(instance) }
        let k = Double(instances.count)
        let end: [String: Double] = ["budgetBytes": budget, "maxInstances": Double(most), "stoppedBy": stoppedBy, "alive": Double(alive)]
        samples.append(.now(name, "instances-started", backend, round, value: k, unit: .count, direction: .higherIsBetter, components: end))
        samples.append(.now(name, "alive-at-end", backend, round, value: Double(alive), unit: .count, direction: .higherIsBetter, components: end))
        if k > 0 {
            samples.append(.now(name, "host-memory-per-instance", backend, round, value: used / k, unit: .bytes, components: end))
            // What fits in the budget at this rate: the answer to "how many instances fit".
            if used > 0 {
                samples.append(.now(name, "instances-in-budget-extrapolated", backend, round, value: (budget / (used / k)).rounded(.down), unit: .count,
                                    direction: .higherIsBetter, components: end))
            }
        }
        return samples
    }
}
