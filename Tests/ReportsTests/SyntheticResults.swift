#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults

/// Generated results files for report and compare tests. Nothing here was measured: the values
/// are drawn from log-normal distributions around figures of the usual order, and every file
/// says so in its label and host name.
enum SyntheticResults {
    struct Backend {
        var name: String
        var kind: String
        /// Median start-up (ms), idle memory by component (bytes), disk (bytes), CPU events/s.
        var startup: Double
        var phases: [String: Double]
        var memory: [String: Double]
        var imageBytes: Double
        var perInstanceBytes: Double
        var cpuEvents: Double
    }

    static let mib = 1_048_576.0

    static let backends: [Backend] = [
        Backend(name: "native", kind: "native", startup: 1.2, phases: [:], memory: ["process": 0.4 * mib],
                imageBytes: 1.9 * mib, perInstanceBytes: 0, cpuEvents: 1000),
        Backend(name: "intermodal", kind: "container", startup: 7,
                phases: ["create": 0.4, "start": 4.0, "firstOutput": 5.5, "exit": 6.0, "cleanup": 6.8],
                memory: ["container": 0.5 * mib, "monitor": 2.5 * mib], imageBytes: 2 * mib, perInstanceBytes: 0.02 * mib, cpuEvents: 990),
        Backend(name: "runc", kind: "peer", startup: 24, phases: [:],
                memory: ["container": 0.5 * mib, "shim": 6 * mib], imageBytes: 2 * mib, perInstanceBytes: 0.02 * mib, cpuEvents: 985),
        Backend(name: "vm", kind: "vm", startup: 2600,
                phases: ["domainCreate": 3, "domainStarted": 250, "kernelStart": 400, "initStart": 1900, "initHello": 2000,
                         "commandStart": 2050, "commandEnd": 2100, "exit": 2250, "domainDestroyed": 2550],
                memory: ["qemu": 190 * mib, "monitor": 3 * mib], imageBytes: 70 * mib, perInstanceBytes: 1.5 * mib, cpuEvents: 310),
    ]

    /// A results file: `runs` samples per series, spread `sigma` (log-normal), with each backend's
    /// figures multiplied by `slowdown[backend]` (start-up and memory up, throughput down).
    static func file(
        label: String = "synthetic", seed: UInt64 = 1, runs: Int = 10, sigma: Double = 0.05,
        slowdown: [String: Double] = [:], host: String = "synthetic-host", accelerator: String = "tcg",
        backends: [Backend] = backends
    ) -> ResultsFile {
        var rng = SplitMix64(seed: seed)
        var samples: [Sample] = []
        func noise() -> Double {
            // Box-Muller from two uniform draws.
            let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(rng.next() >> 11) / Double(1 << 53)
            return exp(sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        let t0 = 1_800_000_000.0
        for round in 0..<runs {
            for b in backends {
                let k = slowdown[b.name] ?? 1
                let n = noise() * k
                samples.append(Sample(
                    workload: "startup", metric: "echo:spawn-to-exit", backend: b.name, round: round,
                    value: b.startup * n, unit: .milliseconds, phases: b.phases.isEmpty ? nil : b.phases.mapValues { $0 * n },
                    accelerator: b.kind == "vm" ? accelerator : nil, takenAt: t0 + Double(round)))
                let m = noise() * k
                let components = b.memory.mapValues { $0 * m }
                samples.append(Sample(
                    workload: "memory", metric: "idle:pss-per-instance", backend: b.name, round: round,
                    value: components.values.reduce(0, +), unit: .bytes, components: components, takenAt: t0 + Double(round)))
                samples.append(Sample(
                    workload: "disk", metric: "shared:image", backend: b.name, round: round,
                    value: b.imageBytes * (1 + 0.001 * (noise() - 1)), unit: .bytes, takenAt: t0))
                if b.perInstanceBytes > 0 {
                    samples.append(Sample(
                        workload: "disk", metric: "per-instance:writable layer", backend: b.name, round: round,
                        value: b.perInstanceBytes * (1 + 0.001 * (noise() - 1)), unit: .bytes, takenAt: t0))
                }
                if b.kind == "vm" {
                    samples.append(Sample(workload: "disk", metric: "shared:kernel and initramfs", backend: b.name, round: round,
                                          value: 8 * mib, unit: .bytes, takenAt: t0))
                }
                samples.append(Sample(
                    workload: "cpu", metric: "sysbench-events", backend: b.name, round: round,
                    value: b.cpuEvents * noise() / k, unit: .eventsPerSecond, direction: .higherIsBetter, takenAt: t0))
            }
        }
        // One warm-up sample, far off, that every figure must leave out.
        samples.append(Sample(workload: "startup", metric: "echo:spawn-to-exit", backend: "intermodal", round: -1, warmup: true,
                              value: 10_000, unit: .milliseconds, takenAt: t0 - 1))
        let env = Environment(
            hostName: host, cpuModel: "Synthetic CPU (generated samples, nothing measured)", cpuCount: 2,
            memoryBytes: 4 << 30, kernel: "6.1.0-synthetic", distribution: "Debian GNU/Linux 12 (bookworm)", cgroupMode: "v2",
            accelerator: accelerator, acceleratorDetail: accelerator == "tcg" ? "KVM probe: the guest did not boot under -accel kvm" : nil,
            versions: ["qemu": "7.2.0", "runc": "1.1.5"], gitCommit: "0123456789abcdef")
        let suite = Suite(name: "quick", workloads: ["startup", "memory", "disk", "cpu"], backends: backends.map(\.name) + ["crun"],
                          runs: runs, warmup: 1)
        let statuses = backends.map { BackendStatus(name: $0.name, kind: $0.kind, state: .measured, accelerator: $0.kind == "vm" ? accelerator : nil,
                                                    adjustments: $0.name == "runc" ? ["systemd cgroup driver off: cgroupfs"] : []) }
            + [BackendStatus(name: "crun", kind: "peer", state: .skipped, reason: "crun is not installed")]
        return ResultsFile(
            label: label, startedAt: "2026-12-01T10:00:00Z", finishedAt: "2026-12-01T10:05:00Z", wallSeconds: 300, interrupted: false,
            environment: env, suite: suite, suiteHash: String(repeating: "ab", count: 32), seed: seed, backends: statuses,
            samples: samples, summaries: [], failures: [],
            warnings: [Warning(.emulated, series: nil, "guest figures were measured under TCG")],
            harnessOverhead: Summary([0.9, 1.0, 1.1]), hostLoad: [LoadReading(when: "before startup", load1: 0.5, load5: 0.4, load15: 0.3)])
    }
}

extension SyntheticResults {
    /// `file` with a density curve per backend (k instances, k times the backend's idle memory
    /// plus noise-free host overhead) and the end-of-run figures the density workload records.
    static func withDensity(_ file: ResultsFile, steps: Int = 5, budget: Double = 1_073_741_824) -> ResultsFile {
        var f = file
        for b in backends {
            let each = b.memory.values.reduce(0, +)
            for k in 1...steps {
                f.samples.append(Sample(workload: "density", metric: "step:host-memory-used", backend: b.name, round: 0,
                                        value: each * Double(k), unit: .bytes,
                                        components: ["instances": Double(k), "hostMemoryUsedBytes": each * Double(k), "alive": Double(k)],
                                        takenAt: 1_800_000_100 + Double(k)))
            }
            let end: [String: Double] = ["budgetBytes": budget, "maxInstances": Double(steps), "stoppedBy": 0, "alive": Double(steps)]
            f.samples.append(Sample(workload: "density", metric: "instances-started", backend: b.name, round: 0, value: Double(steps),
                                    unit: .count, direction: .higherIsBetter, components: end, takenAt: 1_800_000_200))
            f.samples.append(Sample(workload: "density", metric: "host-memory-per-instance", backend: b.name, round: 0, value: each,
                                    unit: .bytes, components: end, takenAt: 1_800_000_200))
        }
        return f
    }
}
