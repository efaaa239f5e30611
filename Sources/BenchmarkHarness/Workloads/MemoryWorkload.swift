#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import IntermodalCore
import VirtualMachines

/// Idle memory per instance: K instances of an idle `sleep` run together; for each, the PSS of
/// every host process it costs, by component (the container's own processes, our monitor,
/// conmon, a containerd shim, QEMU), its memory cgroup's usage, and as a cross-check the drop in
/// the host's `MemAvailable` divided by K. Guests add their own view (MemTotal - MemAvailable).
public struct MemoryWorkload: Workload {
    public let name = "memory"

    public init() {}

    /// Every round starts K instances (K guest boots under TCG): a few rounds say enough.
    public func rounds(for backend: any Backend, suite: Suite) -> Int { min(suite.runs(for: backend.name), 3) }
    public func warmups(for backend: any Backend, suite: Suite) -> Int { 0 }

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        let k = round.suite.idleInstances(for: backend.name)
        let before = HostFacts.memAvailableKiB()
        var instances: [IdleInstance] = []
        do {
            for i in 0..<k { instances.append(try await backend.startIdle(round.number * k + i)) }
        } catch {
            for instance in instances { await backend.stopIdle(instance) }
            throw error
        }
        // Let page-ins and lazy allocations of start-up settle before reading.
        try? await Task.sleep(for: .seconds(1))
        let after = HostFacts.memAvailableKiB()
        var samples: [Sample] = []
        for instance in instances {
            let (pss, rss) = instance.memoryByComponent()
            if !pss.isEmpty {
                samples.append(.now(name, "idle:pss-per-instance", backend, round, value: pss.values.reduce(0, +), unit: .bytes, components: pss))
                samples.append(.now(name, "idle:rss-per-instance", backend, round, value: rss.values.reduce(0, +), unit: .bytes, components: rss))
            }
            if let file = instance.cgroupMemoryFile, let text = try? FileSystem.readString(file), let bytes = Double(text.trimmed) {
                samples.append(.now(name, "idle:cgroup-memory-per-instance", backend, round, value: bytes, unit: .bytes))
            }
            if let total = instance.guestMemTotalKiB, let available = instance.guestMemAvailableKiB {
                samples.append(.now(name, "idle:guest-used-per-instance", backend, round, value: Double((total - available) * 1024), unit: .bytes))
            }
        }
        if let before, let after {
            samples.append(.now(name, "idle:memavailable-drop-per-instance", backend, round, value: Double((before - after) * 1024) / Double(k), unit: .bytes))
        }
        for instance in instances { await backend.stopIdle(instance) }
        guard samples.contains(where: { $0.metric == "idle:pss-per-instance" }) else {
            throw IntermodalError(.externalFailure, "no process of the \(k) idle instances could be measured")
        }
        return samples
    }
}

extension IdleInstance {
    /// PSS and RSS (bytes) of the instance's host processes, summed by component: how the memory
    /// and density workloads count what an instance costs. A process that is gone counts nothing.
    func memoryByComponent() -> (pss: [String: Double], rss: [String: Double]) {
        var pss: [String: Double] = [:], rss: [String: Double] = [:]
        for p in processes {
            guard let m = ProcessMemory.read(pid: p.pid) else { continue }
            pss[p.component, default: 0] += Double(m.pssKiB * 1024)
            rss[p.component, default: 0] += Double(m.rssKiB * 1024)
        }
        return (pss, rss)
    }
}
