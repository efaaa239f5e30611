import BenchmarkResults

/// The suites that need no file: `quick` is what `scripts/bench` runs by default.
public enum BuiltInSuites {
    /// Start-up, idle memory and disk on busybox: our runtime (CLI and library), runc, crun and
    /// the micro guest, against native. Sized to finish in a few minutes under TCG. Start-up takes
    /// at least 10 samples (the guest 8) and more, up to 60 or a minute of measuring per series,
    /// until its median is known to ±5%: what `compare` needs to tell a 20% regression from noise.
    public static let quick = Suite(
        name: "quick", image: "busybox",
        workloads: ["startup", "memory", "disk"],
        backends: ["native", "intermodal", "intermodal-lib", "runc", "crun", "vm"],
        runs: 10, warmup: 2, runsByBackend: ["vm": 8], timeoutSeconds: 120, memoryMiB: 256, vcpus: 1,
        idleInstances: 3, precision: PrecisionSettings())

    /// Everything this build measures, on the workload image (Debian with sysbench, fio, iperf3,
    /// redis and our STREAM kernel), podman and docker included. The full-OS guest (`vm-full`)
    /// boots for half a minute or more under TCG: 3 start-up samples, one round of each throughput
    /// workload and one density step keep the suite within its 30 minutes here (the quick suite
    /// leaves it out). Each tool runs 1 s a test (sysbench, each fio job, iperf3): with 2 s the
    /// suite took 28.8 min on the 2-core reference host, too near its budget; 3 rounds give the spread.
    public static let full = Suite(
        name: "full", image: "workload",
        workloads: ["startup", "memory", "disk", "cpu", "memory-bandwidth", "disk-io", "network", "app", "density"],
        backends: ["native", "intermodal", "intermodal-lib", "runc", "crun", "podman", "docker", "vm", "vm-full"],
        runs: 20, warmup: 2, runsByBackend: ["vm": 10, "vm-full": 3], warmupByBackend: ["vm-full": 0],
        idleInstancesByBackend: ["vm-full": 1], timeoutSeconds: 240, memoryMiB: 256, vcpus: 1,
        idleInstances: 5,
        throughput: ThroughputSettings(runs: 3, runsByBackend: ["vm-full": 1], seconds: 1, diskFileMiB: 64, requests: 10_000),
        density: DensitySettings(maxInstances: 30, maxInstancesByBackend: ["vm": 6, "vm-full": 1]),
        precision: PrecisionSettings())

    public static let all: [String: Suite] = ["quick": quick, "full": full]
}
