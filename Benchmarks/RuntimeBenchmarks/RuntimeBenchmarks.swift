// Container start-up: our runtime (in-process library and CLI) against runc and crun, in one run.
//
// Each iteration is create -> start -> wait -> delete of /bin/true in a busybox bundle whose
// config.json is Spec.default (new pid/net/ipc/uts/mount/cgroup namespaces, read-only root,
// masked paths, device cgroup rules), ociVersion 1.0.2 so that crun 1.8.1 accepts it.
// crun refuses this host's hybrid cgroups, so its iterations run through
// `unshare -m sh -c 'umount /sys/fs/cgroup/unified; crun ...'` (the wrapper is included in its
// time; compare.py measures crun without it). Run: swift package benchmark --target RuntimeBenchmarks
#if canImport(Glibc)
import Glibc
#endif
import Benchmark
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// A busybox bundle made once per benchmark process.
enum BenchBundle {
    nonisolated(unsafe) static var directory: FilePath?

    static func make() throws -> FilePath {
        if let directory { return directory }
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bench")
        chmod(dir.string, 0o755)
        let rootfs = dir.appending("bundle/rootfs")
        for d in ["bin", "proc", "sys", "dev", "tmp", "etc"] { try FileSystem.createDirectory(rootfs.appending(d)) }
        try BusyboxRootfs.copyFile("/bin/busybox", to: rootfs.appending("bin/busybox"), mode: 0o755)
        symlink("busybox", rootfs.appending("bin/true").string)
        symlink("busybox", rootfs.appending("bin/sh").string)
        var spec = Spec.default(args: ["/bin/true"])
        spec.ociVersion = "1.0.2"
        spec.root = Spec.Root(path: rootfs.string, readonly: true)
        try spec.write(bundle: dir.appending("bundle"))
        directory = dir
        // Leave nothing behind: the bundle and the state roots go when the process exits.
        atexit {
            if let dir = BenchBundle.directory { try? FileSystem.removeTree(dir) }
            for suffix in ["", "-cli", "-runc", "-crun"] {
                try? FileSystem.removeTree(FilePath(BenchBundle.stateRoot.string + suffix))
            }
        }
        return dir
    }

    static var bundle: FilePath { (try? make())!.appending("bundle") }
    /// On a tmpfs, as /run is on most hosts (here /run is on ext4); the same for every runtime.
    static var stateRoot: FilePath {
        _ = try? make()
        return FilePath("/dev/shm/intermodal-bench-state-\(getpid())")
    }
}

/// posix_spawn + waitpid; returns the exit status.
@discardableResult
func spawn(_ argv: [String]) -> Int32 {
    var pid: pid_t = 0
    let cargs = argv.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    guard posix_spawn(&pid, argv[0], nil, nil, cargs, environ) == 0 else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status
}

/// The intermodal-runtime built next to this benchmark (release products directory).
var ourBinary: String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let exe = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return FilePath(exe).removingLastComponent().appending("intermodal-runtime").string
}

func cycle(_ runtime: [String], id: String) {
    let bundle = BenchBundle.bundle.string
    spawn(runtime + ["create", "--bundle", bundle, id])
    spawn(runtime + ["start", id])
    spawn(runtime + ["delete", "--force", id])
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal],
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(120),
        maxIterations: 120)

    Benchmark("library Runtime.run /bin/true (create+start+wait+delete)") { benchmark in
        let runtime = Runtime(stateRoot: BenchBundle.stateRoot)
        for i in benchmark.scaledIterations {
            let result = try await runtime.run(id: "intermodal-bench-lib-\(i)", bundle: BenchBundle.bundle,
                                               io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
            blackHole(result.status)
        }
    }

    Benchmark("intermodal-runtime CLI create/start/delete -f") { benchmark in
        let cli = [ourBinary, "--root", BenchBundle.stateRoot.string + "-cli"]
        for i in benchmark.scaledIterations { cycle(cli, id: "intermodal-bench-cli-\(i)") }
    }

    Benchmark("runc create/start/delete -f") { benchmark in
        let runc = ["/usr/sbin/runc", "--root", BenchBundle.stateRoot.string + "-runc"]
        for i in benchmark.scaledIterations { cycle(runc, id: "intermodal-bench-runc-\(i)") }
    }

    Benchmark("crun create/start/delete -f (in unshare -m, unified unmounted)") { benchmark in
        let root = BenchBundle.stateRoot.string + "-crun"
        let bundle = BenchBundle.bundle.string
        for i in benchmark.scaledIterations {
            let id = "intermodal-bench-crun-\(i)"
            let script = "umount /sys/fs/cgroup/unified; crun --root \(root) create --bundle \(bundle) \(id) && crun --root \(root) start \(id); crun --root \(root) delete --force \(id)"
            spawn(["/usr/bin/unshare", "-m", "/bin/sh", "-c", script])
        }
    }
}
