#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import ImageStore
import IntermodalCore
import SystemPackage

/// Podman, as a user runs it: `podman run --rm IMAGE ARGS`, timed from outside like every CLI,
/// on the harness's image copied into a storage of the harness's own.
///
/// Everything podman reads or writes is chosen by two files in the backend's work directory,
/// passed through `CONTAINERS_CONF` and `CONTAINERS_STORAGE_CONF` (not flags): so the journal's
/// `podman rm -f NAME` after a killed run reaches the same storage, and nothing of a user's podman
/// configuration, storage or container database is read or touched.
///
/// With `runtime` (`podman+intermodal-runtime`), podman runs its containers with that OCI runtime
/// instead of its default, so that the engine and the runtime are measured apart, as gVisor's and
/// Kata's benchmarks do with `--runtime`: the difference to `podman` is the runtime's.
public actor PodmanBackend: Backend {
    public nonisolated let name: String
    public nonisolated let kind = BackendKind.peer
    private let program: String
    private let skopeoProgram: String
    private var executable: FilePath?
    private var context: BenchContext?
    /// `CONTAINERS_CONF=...`, `CONTAINERS_STORAGE_CONF=...` and `PATH`: exactly what every podman call gets.
    private(set) var environment: [String] = []
    private var storageRoot: FilePath?
    private(set) var cgroupParent: String?
    /// The image's name in podman's storage, once it is loaded.
    public private(set) var imageName: String?
    private var idle: Set<String> = []
    private var counter = 0

    /// The OCI runtime podman is told to use, by its path; nil: podman's own choice.
    private let runtime: OCIRuntimeChoice?

    /// Which runtime a podman backend gives podman.
    public enum OCIRuntimeChoice: Sendable {
        /// This build's `intermodal-runtime`, beside the `intermodal` executable.
        case intermodal
    }

    /// `podman` and `skopeo` are looked up in `PATH` unless given as paths.
    public init(name: String = "podman", runtime: OCIRuntimeChoice? = nil, podman: String = "podman", skopeo: String = "skopeo") {
        self.name = name
        self.runtime = runtime
        program = podman
        skopeoProgram = skopeo
    }

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        guard let exe = PeerEngine.locate(program) else {
            throw IntermodalError(.notFound, "\(program) is not installed (apt-get install podman)")
        }
        guard let skopeo = PeerEngine.locate(skopeoProgram) else {
            throw IntermodalError(.notFound, "\(skopeoProgram) is not installed (apt-get install skopeo); it copies the image into podman's storage")
        }
        executable = exe
        self.context = context
        var adjustments: [String] = []
        let work = context.workDirectory
        context.journal.add(.directory(work.string))
        try FileSystem.createDirectory(work)
        let storage = work.appending("storage")
        let runRoot = work.appending("run")
        let tmp = work.appending("tmp")
        for d in [storage, runRoot, tmp] { try FileSystem.createDirectory(d) }
        storageRoot = storage

        var engine = ["tmp_dir = \(PeerEngine.quoted(tmp.string))", "cgroup_manager = \"cgroupfs\""]
        var runtimes = ""
        if runtime == .intermodal {
            let path = context.intermodalExecutable.removingLastComponent().appending("intermodal-runtime")
            guard access(path.string, X_OK) == 0 else {
                throw IntermodalError(.notFound, "\(path) is not there: build it with `swift build --product intermodal-runtime`")
            }
            engine.append("runtime = \"intermodal\"")
            runtimes = "\n[engine.runtimes]\nintermodal = [\(PeerEngine.quoted(path.string))]\n"
            adjustments.append("podman runs its containers with this build's intermodal-runtime (runtime = \"intermodal\" in the harness's containers.conf, [engine.runtimes] intermodal = \(path)): against `podman`, the difference is the runtime's.")
        } else if OCIRuntimeBackend.hybridCgroups {
            guard HostCommand.find("runc") != nil else {
                throw IntermodalError(.unsupported, "podman's default runtime crun refuses this host's hybrid cgroups, and runc is not installed (apt-get install runc)")
            }
            engine.append("runtime = \"runc\"")
            adjustments.append("podman runs its containers with runc instead of its default crun (runtime = \"runc\" in the harness's containers.conf): crun refuses this host's hybrid cgroups (\"cgroups in hybrid mode not supported\").")
        }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        adjustments.append("podman's default ulimits are dropped (default_ulimits = [] in a containers.conf of the harness's own, through CONTAINERS_CONF): podman would set RLIMIT_NOFILE to 1048576, above this host's hard limit of \(limit.rlim_max), and the runtime's setrlimit fails with \"operation not permitted\"; its containers keep the limits they inherit, as with every other backend.")
        let containersConf = work.appending("containers.conf")
        try FileSystem.writeAtomically(
            "[containers]\ndefault_ulimits = []\n\n[engine]\n" + engine.joined(separator: "\n") + "\n" + runtimes, to: containersConf)
        let storageConf = work.appending("storage.conf")
        try FileSystem.writeAtomically(
            "[storage]\ndriver = \"overlay\"\ngraphroot = \(PeerEngine.quoted(storage.string))\nrunroot = \(PeerEngine.quoted(runRoot.string))\n", to: storageConf)
        environment = [
            "PATH=\(InstanceProcess.defaultPath)",
            "CONTAINERS_CONF=\(containersConf.string)",
            "CONTAINERS_STORAGE_CONF=\(storageConf.string)",
        ]
        adjustments.append("podman keeps its images, containers and state in a storage of the harness's own (overlay driver, graphroot, runroot and tmp_dir under the backend's work directory, through CONTAINERS_STORAGE_CONF), removed when the backend is cleaned up; the user's podman storage is not touched.")
        let parent = PeerEngine.cgroupParent(name)
        cgroupParent = parent
        context.journal.add(.cgroup(parent))
        adjustments.append("podman runs its containers with --network none (no network, as every other backend here), --pull never and --cgroup-parent \(parent) (conmon and containers in cgroups of the harness's own, cgroupfs manager, removed in cleanup).")

        // The image: exported as an OCI layout and copied into podman's storage by skopeo.
        let layout = work.appending("layout")
        let source = try PeerEngine.exportLayout(context, into: layout)
        let target = PeerEngine.imageName(for: context.image)
        try await PeerEngine.check(skopeo, ["copy", "--quiet", "--insecure-policy", source, "containers-storage:\(target)"], environment: environment)
        imageName = target
        try? FileSystem.removeTree(layout)

        // The readiness check: one container of `true` must run and exit 0.
        let probe = try await run(["true"])
        guard probe.status.code == 0 else {
            throw IntermodalError(.externalFailure, "podman run \(target) true failed (\(probe.status)): \(String(decoding: probe.output, as: UTF8.self).trimmed)")
        }
        let version = await HostFacts.version(exe.string)
        return Readiness(version: version, adjustments: adjustments)
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        try await runOnce(arguments, options: ["--network", "none"])
    }

    /// `podman run --rm OPTIONS ... IMAGE ARGS`, timed from outside.
    func runOnce(_ arguments: [String], options: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let context, let executable, let imageName, let cgroupParent else { throw IntermodalError(.invalidState, "podman: not prepared") }
        let t = try await ProcessTimer.run(
            [executable.string, "run", "--rm"] + options + ["--pull", "never", "--cgroup-parent", cgroupParent, imageName] + arguments,
            environment: environment, timeout: context.timeout)
        return InstanceRun(status: t.status, output: t.output, spawnToExit: t.spawnToExit, spawnToFirstOutput: t.spawnToFirstOutput)
    }

    /// `podman run -d --name NAME OPTIONS ... IMAGE ARGS`; the name is journaled before it exists.
    func startDetached(_ arguments: [String], options: [String]) async throws(IntermodalError) -> String {
        guard let context, let executable, let imageName, let cgroupParent else { throw IntermodalError(.invalidState, "podman: not prepared") }
        counter += 1
        let container = "intermodal-bench-\(PeerEngine.plain(name))-\(getpid())-\(counter)"
        context.journal.add(.peerContainer(cli: executable.string, name: container, environment: environment))
        idle.insert(container)
        try await PeerEngine.check(
            executable, ["run", "-d", "--name", container] + options + ["--pull", "never", "--cgroup-parent", cgroupParent, imageName] + arguments,
            environment: environment)
        return container
    }

    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let executable else { throw IntermodalError(.invalidState, "podman: not prepared") }
        let container = try await startDetached(["sleep", "3600"], options: ["--network", "none"])
        let out = try await PeerEngine.check(
            executable, ["inspect", "--type", "container", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", container], environment: environment)
        let pids = PeerEngine.integers(out)
        guard pids.count == 2, pids[0] > 0, pids[1] > 0 else {
            throw IntermodalError(.externalFailure, "podman inspect \(container): no conmon and container pid in \(out.trimmed)")
        }
        let processes = [IdleInstance.Process(component: "conmon", pid: pids[0])]
            + HostFacts.processTree(pids[1]).map { .init(component: "container", pid: $0) }
        return IdleInstance(id: container, processes: processes, cgroupMemoryFile: HostFacts.cgroupMemoryFile(of: pids[1]), handle: container)
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let context, let executable else { return }
        // `--time 0`: sleep as PID 1 ignores SIGTERM, and podman would wait 10 s for it.
        _ = try? await PeerEngine.check(executable, ["rm", "--force", "--time", "0", instance.handle], environment: environment)
        idle.remove(instance.handle)
        context.journal.remove(.peerContainer(cli: executable.string, name: instance.handle, environment: environment))
    }

    public func footprint() async -> [FootprintItem] {
        guard let executable, let imageName, let storageRoot,
              let out = try? await PeerEngine.check(executable, ["image", "inspect", "--format", PeerEngine.imageStorageFormat, imageName], environment: environment),
              let stored = PeerEngine.ImageStorage(inspected: out) else { return [] }
        guard stored.driver == "overlay", !stored.layerDirectories.isEmpty else {
            return [FootprintItem(
                what: "podman's stored copy of the image (the apparent size podman image inspect reports, \(stored.driver) driver: not allocated blocks)",
                bytes: stored.reportedSize, perInstance: false)]
        }
        let metadata = storageRoot.appending("overlay-images").appending(stored.id)
        return [FootprintItem(
            what: "podman's stored copy of the image (its overlay layer directories and image metadata in podman's storage, allocated blocks)",
            bytes: await PeerEngine.allocatedBytes(stored.layerDirectories + [metadata]), perInstance: false)]
    }

    public func cleanup() async {
        guard let context else { return }
        if let executable, storageRoot != nil {
            for container in idle { await stopIdle(IdleInstance(id: container, processes: [], handle: container)) }
            // The storage is the harness's own: whatever is in it (a run cut off by a timeout) goes.
            _ = try? await PeerEngine.check(executable, ["rm", "--all", "--force", "--time", "0"], environment: environment)
            if let imageName {
                _ = try? await PeerEngine.check(executable, ["rmi", "--force", imageName], environment: environment)
            }
        }
        if let cgroupParent {
            PeerEngine.removeCgroup(cgroupParent)
            context.journal.remove(.cgroup(cgroupParent))
        }
        Journal.unmountAll(under: context.workDirectory.string)
        try? FileSystem.removeTree(context.workDirectory)
        context.journal.remove(.directory(context.workDirectory.string))
        imageName = nil
        storageRoot = nil
        self.context = nil
    }
}

extension PodmanBackend: DockerStyleCLI {}
