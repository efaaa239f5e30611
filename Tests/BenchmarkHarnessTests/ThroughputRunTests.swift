@testable import BenchmarkHarness
import BenchmarkResults
import ContainerEngine
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// The throughput and density workloads on real backends, tiny: the workload image built by
/// our own `build` from the committed Dockerfile, one round of each, every path each backend offers.
@Suite("Throughput and density workloads on real backends", .serialized)
struct ThroughputRunTests {
    static var dockerfile: FilePath {
        FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
            .appending("Benchmarks/images/workload/Dockerfile")
    }

    /// The bound on a round is far above what it takes alone: a cold CI run shares 2 cores with
    /// image builds and other TCG guests, and a guest's boot then takes minutes.
    static func suite(_ backends: [String], workloads: [String]) -> Suite {
        Suite(name: "throughput-test", image: "workload", workloads: workloads, backends: backends, runs: 1, warmup: 0,
              timeoutSeconds: 400, memoryMiB: 256, vcpus: 1, idleInstances: 1, seed: 11, dockerfile: dockerfile.string,
              throughput: ThroughputSettings(runs: 1, seconds: 1, diskFileMiB: 16, requests: 1000),
              density: DensitySettings(maxInstances: 2))
    }

    func value(_ results: ResultsFile, _ workload: String, _ metric: String, _ backend: String) -> Double? {
        results.samples.first { $0.workload == workload && $0.metric == metric && $0.backend == backend }?.value
    }

    @Test func everyBackendRunsTheSameToolsByEveryPathItHas() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-throughput-test")
        defer { try? FileSystem.removeTree(root) }
        let backends = ["native", "intermodal", "intermodal-lib", "runc", "vm"]
        let workloads = ["cpu", "memory-bandwidth", "disk-io", "network", "app", "density"]
        let results = try await Runner(.init(
            suite: Self.suite(backends, workloads: workloads), root: root, intermodalExecutable: HarnessRunTests.intermodal)).run()
        for b in results.backends { #expect(b.state == .measured, "\(b.name): \(b.reason ?? "")") }
        #expect(results.failures.isEmpty, "\(results.failures)")
        // The image is ours, named by the Dockerfile's digest, and its tools' versions are recorded.
        #expect(results.environment.versions["image"]?.hasPrefix("workload:") == true)
        #expect(results.environment.versions["image: sysbench"] != nil && results.environment.versions["image: fio"] != nil)

        let measured = ["native", "intermodal", "runc", "vm"]
        for b in measured {
            #expect((value(results, "cpu", "sysbench-cpu:1-thread", b) ?? 0) > 0, "\(b) cpu")
            #expect((value(results, "memory-bandwidth", "stream:triad", b) ?? 0) > 0, "\(b) stream")
            #expect((value(results, "disk-io", "root:4k-randread-iops", b) ?? 0) > 0, "\(b) fio")
            #expect((value(results, "disk-io", "root:1m-seqwrite", b) ?? 0) > 0, "\(b) fio sequential")
            #expect(value(results, "density", "instances-started", b) == 2, "\(b) density")
            #expect(value(results, "density", "alive-at-end", b) == 2, "\(b) density alive")
            // The instances' own memory (PSS), never the host's drift: positive for every backend.
            #expect((value(results, "density", "host-memory-per-instance", b) ?? 0) > 0, "\(b) density memory")
        }
        // Volumes where the backend has them, and only there.
        #expect((value(results, "disk-io", "volume:4k-randwrite-iops", "intermodal") ?? 0) > 0)
        #expect((value(results, "disk-io", "volume:4k-randwrite-iops", "runc") ?? 0) > 0)
        #expect(value(results, "disk-io", "volume:4k-randwrite-iops", "vm") == nil)
        // Every path: native's loopback, our bridge, a published port (DNAT) and the host's
        // network, runc's host network, the guest's tap on the bridge.
        let paths = ["native": ["host"], "intermodal": ["bridge", "published", "host"], "runc": ["host"], "vm": ["bridge"]]
        for (b, ps) in paths {
            for p in ps {
                #expect((value(results, "network", "\(p):iperf3-throughput", b) ?? 0) > 0, "\(b) \(p) iperf3")
                #expect((value(results, "network", "\(p):request-rtt-p50", b) ?? -1) >= 0, "\(b) \(p) rtt")
            }
            #expect((value(results, "app", "\(ps[0]):redis-get-ops", b) ?? 0) > 0, "\(b) redis")
        }
        // The library backend's containers are the CLI's: said, not measured twice.
        #expect(results.warnings.contains { $0.kind == .notMeasured && $0.message.hasPrefix("cpu on intermodal-lib") })
        #expect(!results.samples.contains { $0.backend == "intermodal-lib" && $0.workload == "cpu" })
        // Ratios to native with an interval from both sides; a bridge is normalised to loopback.
        let cpu = results.summaries.first { $0.series == SeriesKey(workload: "cpu", metric: "sysbench-cpu:1-thread", backend: "runc") }
        #expect(cpu?.ratioToNative != nil && cpu?.ratioToNativeCI95 != nil)
        let bridge = results.summaries.first { $0.series == SeriesKey(workload: "network", metric: "bridge:iperf3-throughput", backend: "intermodal") }
        #expect(bridge?.ratioToNative != nil)
        // A guest's figures carry its accelerator; under TCG the results say they are emulated.
        let guest = results.samples.first { $0.backend == "vm" && $0.workload == "cpu" }
        #expect(["kvm", "tcg"].contains(guest?.accelerator ?? ""))
        if guest?.accelerator == "tcg" {
            #expect(results.warnings.contains { $0.kind == .emulated && $0.series?.workload == "cpu" && $0.series?.backend == "vm" })
        }
        try await HarnessRunTests.validate(results, in: root)
        // Nothing left: no container, no work directory, no journal entry.
        let engine = try Engine(root: root.appending("store"))
        #expect(try await engine.list(all: true).isEmpty)
        #expect(((try? FileSystem.list(root.appending("journal"))) ?? []).isEmpty)
        #expect(!FileSystem.exists(root.appending("work/host-tools")) && !FileSystem.exists(root.appending("work/scratch")))
        // No process either: native's redis-server daemonizes out of its process group, and
        // outlived every run until the native backend looked for processes in its chroot.
        #expect(HostProcesses.rooted(under: root).isEmpty, "processes left in the run's directories: \(HostProcesses.rooted(under: root))")
    }

    /// Throughput workloads on an image without their tools are skipped with a note naming
    /// them; the rest of the run goes on.
    @Test func anImageWithoutTheToolsSkipsThoseWorkloadsWithANote() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-throughput-test")
        defer { try? FileSystem.removeTree(root) }
        var suite = Self.suite(["native"], workloads: ["startup", "cpu"])
        suite.image = "busybox"
        let results = try await Runner(.init(suite: suite, root: root, intermodalExecutable: HarnessRunTests.intermodal)).run()
        #expect(results.failures.isEmpty, "\(results.failures)")
        #expect(results.warnings.contains {
            $0.kind == .notMeasured && $0.message.contains("cpu: not measured") && $0.message.contains("has no sysbench")
        })
        #expect(!results.samples.contains { $0.workload == "cpu" })
        #expect(results.samples.contains { $0.workload == "startup" && $0.backend == "native" })
        #expect(((try? FileSystem.list(root.appending("journal"))) ?? []).isEmpty)
    }

    @Test func redisBenchmarkCSVIsRead() throws {
        let rows = try RedisBenchmark.parse("""
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "SET","24390.24","1.100","0.200","0.247","2.000","15.079","20.000"
            "GET","30769.23","1.000","0.200","0.231","2.000","13.151","19.000"
            """)
        #expect(rows["GET"]?.rps == 30769.23 && rows["GET"]?.p99 == 13.151 && rows["SET"]?.p50 == 0.247)
        #expect(throws: IntermodalError.self) { try RedisBenchmark.parse("ERROR: connection refused") }
    }
}
