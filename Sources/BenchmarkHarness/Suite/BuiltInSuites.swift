import BenchmarkResults

/// The suites that need no file: `quick` is what `scripts/bench` runs by default.
public enum BuiltInSuites {
    /// Start-up, idle memory and disk on busybox: our runtime (CLI and library), runc, crun and
    /// the micro guest, against native. Sized to finish in a few minutes under TCG.
    public static let quick = Suite(
        name: "quick", image: "busybox",
        workloads: ["startup", "memory", "disk"],
        backends: ["native", "intermodal", "intermodal-lib", "runc", "crun", "vm"],
        runs: 10, warmup: 2, runsByBackend: ["vm": 5], timeoutSeconds: 120, memoryMiB: 256, vcpus: 1,
        idleInstances: 3)

    /// Everything this build measures, podman and docker included, with more samples. The
    /// full-OS guest (`vm-full`) boots for a minute or more under TCG: 3 samples keep the suite
    /// in its budget (the quick suite leaves it out).
    public static let full = Suite(
        name: "full", image: "busybox",
        workloads: ["startup", "memory", "disk"],
        backends: ["native", "intermodal", "intermodal-lib", "runc", "crun", "podman", "docker", "vm", "vm-full"],
        runs: 30, warmup: 3, runsByBackend: ["vm": 10, "vm-full": 3], warmupByBackend: ["vm-full": 0],
        idleInstancesByBackend: ["vm-full": 1], timeoutSeconds: 240, memoryMiB: 256, vcpus: 1,
        idleInstances: 5)

    public static let all: [String: Suite] = ["quick": quick, "full": full]
}
