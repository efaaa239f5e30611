#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import ImageStore
import IntermodalCore
import SystemPackage

/// Docker, as a user runs it: `docker run --rm --network none IMAGE ARGS`, timed from outside
/// like every CLI, on the harness's image loaded into the daemon.
///
/// When a daemon already answers (`DOCKER_HOST` or the default socket) it is used, and only the
/// image and containers the backend made are removed again. Otherwise the backend starts a
/// `dockerd` of its own, with data root, exec root, pidfile, socket and `daemon.json` under its
/// work directory (so nothing of a user's docker is read or touched), and stops it in cleanup.
public actor DockerBackend: Backend {
    public nonisolated let name = "docker"
    public nonisolated let kind = BackendKind.peer
    private let program: String
    private let daemonProgram: String
    private let skopeoProgram: String
    private var executable: FilePath?
    private var context: BenchContext?
    /// `PATH`, `DOCKER_CONFIG` and (for a daemon of our own) `DOCKER_HOST`: what every docker call gets.
    private(set) var environment: [String] = []
    /// The daemon this backend started, if it did.
    private var daemon: BackgroundProcess?
    private var daemonStartTime: UInt64 = 0
    /// A short directory for the socket when the work directory's path is too long for one.
    private var socketDirectory: FilePath?
    /// Directories dockerd and containerd's shims make at fixed host paths whatever their roots
    /// (`/run/docker/plugins`, `/run/containerd/s`), which did not exist before: removed (if
    /// empty) once the daemon is stopped.
    private var hostDirectoriesToRemove: [FilePath] = []
    private var dataRoot: FilePath?
    private(set) var cgroupParent: String?
    private var containerPrefix = ""
    /// The image's name in the daemon, once it is loaded.
    public private(set) var imageName: String?
    private var idle: Set<String> = []
    private var counter = 0

    /// `docker`, `dockerd` and `skopeo` are looked up in `PATH` unless given as paths.
    ///
    /// `runtimes` (name: path) are registered with a daemon this backend starts (`--add-runtime`),
    /// for `docker run --runtime NAME`; a daemon already running is not changed.
    public init(docker: String = "docker", dockerd: String = "dockerd", skopeo: String = "skopeo", runtimes: [String: String] = [:]) {
        program = docker
        daemonProgram = dockerd
        skopeoProgram = skopeo
        self.runtimes = runtimes
    }

    private let runtimes: [String: String]

    /// True while this backend has a daemon of its own running (for tests and the report).
    public var startedDaemon: Bool { daemon != nil }
    /// The pid of the daemon this backend started.
    public var daemonPID: Int32? { daemon?.pid }

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        guard let exe = PeerEngine.locate(program) else {
            throw IntermodalError(.notFound, "\(program) is not installed (apt-get install docker.io)")
        }
        guard let skopeo = PeerEngine.locate(skopeoProgram) else {
            throw IntermodalError(.notFound, "\(skopeoProgram) is not installed (apt-get install skopeo); it writes the image as an archive docker loads")
        }
        executable = exe
        self.context = context
        var adjustments: [String] = []
        let work = context.workDirectory
        context.journal.add(.directory(work.string))
        try FileSystem.createDirectory(work)
        let clientConfig = work.appending("client")
        try FileSystem.createDirectory(clientConfig)
        // The user's ~/.docker (contexts, credentials) is not read.
        environment = ["PATH=\(InstanceProcess.defaultPath)", "DOCKER_CONFIG=\(clientConfig.string)"]
        if let host = getenvString("DOCKER_HOST") { environment.append("DOCKER_HOST=\(host)") }
        containerPrefix = "intermodal-bench-docker-\(getpid())-"

        if let server = await serverVersion() {
            adjustments.append("docker uses the docker daemon already running on this host (dockerd \(server)); the backend loads the image into it as \(PeerEngine.imageName(for: context.image)) and removes that image and its own containers again in cleanup.")
            let root = try? await PeerEngine.check(exe, ["info", "--format", "{{.DockerRootDir}}"], environment: environment)
            dataRoot = root.map { FilePath($0.trimmed) }
        } else {
            try await startDaemon(in: work)
            adjustments.append("No docker daemon answered, so the harness started a dockerd of its own (data root, exec root with containerd's state, pidfile, socket \(socketPath(work)) and a daemon.json of its own, which moves the trust key out of /etc/docker, under the backend's work directory); it is stopped and its directories removed in cleanup, and the user's docker is not touched.")
            adjustments.append("The harness's dockerd runs with --iptables=false --ip-forward=false --bridge=none: it adds no docker0 bridge, iptables rules or forwarding sysctl to the host, and its containers (--network none) need none of them.")
        }
        let parent = PeerEngine.cgroupParent(name)
        cgroupParent = parent
        context.journal.add(.cgroup(parent))
        adjustments.append("docker runs its containers with --network none (no network, as every other backend here), --pull never and --cgroup-parent \(parent) (cgroups of the harness's own, removed in cleanup).")

        // The image: exported as an OCI layout, written as a docker archive by skopeo, loaded.
        let layout = work.appending("layout")
        let archive = work.appending("image.tar")
        let source = try PeerEngine.exportLayout(context, into: layout)
        let target = PeerEngine.imageName(for: context.image)
        try await PeerEngine.check(skopeo, ["copy", "--quiet", "--insecure-policy", source, "docker-archive:\(archive.string):\(target)"], environment: environment)
        try? FileSystem.removeTree(layout)
        imageName = target
        try await PeerEngine.check(exe, ["load", "--quiet", "--input", archive.string], environment: environment)
        unlink(archive.string)

        // The readiness check: one container of `true` must run and exit 0.
        let probe = try await self.run(["true"])
        guard probe.status.code == 0 else {
            throw IntermodalError(.externalFailure, "docker run \(target) true failed (\(probe.status)): \(String(decoding: probe.output, as: UTF8.self).trimmed)")
        }
        let client = (try? await PeerEngine.check(exe, ["version", "--format", "{{.Client.Version}}|{{.Server.Version}}"], environment: environment))?
            .trimmed.split(separator: "|").map(String.init) ?? []
        var version: String?
        if client.count == 2 {
            version = "docker \(client[0]) (client), dockerd \(client[1]) (server)"
        } else {
            version = await HostFacts.version(exe.string)
        }
        return Readiness(version: version, adjustments: adjustments)
    }

    /// The server's version if a daemon answers within a few seconds, else nil.
    private func serverVersion() async -> String? {
        guard let executable,
              let t = try? await ProcessTimer.run(
                [executable.string, "version", "--format", "{{.Server.Version}}"], environment: environment, timeout: .seconds(10)),
              t.status.code == 0 else { return nil }
        let v = String(decoding: t.output, as: UTF8.self).trimmed
        return v.isEmpty || v.contains(" ") ? nil : v
    }

    private func socketPath(_ work: FilePath) -> FilePath {
        (socketDirectory ?? work).appending("docker.sock")
    }

    /// Starts dockerd with everything of its own under `work` and waits until it answers.
    private func startDaemon(in work: FilePath) async throws(IntermodalError) {
        guard let dockerd = PeerEngine.locate(daemonProgram) else {
            throw IntermodalError(.notFound, "docker is installed but no daemon answers, and \(daemonProgram) is not installed to start one (apt-get install docker.io)")
        }
        // A unix socket's path must fit sun_path (108 bytes).
        if work.appending("docker.sock").string.utf8.count > 100 {
            let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bench-docker")
            context?.journal.add(.directory(dir.string))
            socketDirectory = dir
        }
        let socket = socketPath(work)
        // dockerd 20.10 writes its trust key to /etc/docker/key.json unless told otherwise.
        let config = work.appending("daemon.json")
        try FileSystem.writeAtomically("{\"deprecated-key-path\": \(PeerEngine.quoted(work.appending("key.json").string))}\n", to: config)
        hostDirectoriesToRemove = Self.fixedHostDirectories.filter { !FileSystem.exists($0) }
        let log = work.appending("dockerd.log")
        let arguments = [
            dockerd.string, "--config-file", config.string,
            "--data-root", work.appending("data").string, "--exec-root", work.appending("exec").string,
            "--pidfile", work.appending("dockerd.pid").string, "-H", "unix://\(socket.string)",
            "--iptables=false", "--ip-forward=false", "--bridge=none",
        ] + runtimes.sorted { $0.key < $1.key }.map { "--add-runtime=\($0.key)=\($0.value)" }
        let process = try BackgroundProcess.start(arguments, environment: ["PATH=\(InstanceProcess.defaultPath)"], log: log.string)
        daemon = process
        daemonStartTime = HostProcesses.startTime(process.pid) ?? 0
        context?.journal.add(.process(pid: process.pid, startTime: daemonStartTime))
        environment.removeAll { $0.hasPrefix("DOCKER_HOST=") }
        environment.append("DOCKER_HOST=unix://\(socket.string)")
        dataRoot = work.appending("data")

        let answered = try await Poll.until(.seconds(90), .every(.milliseconds(200))) { () throws(IntermodalError) -> Bool in
            if await serverVersion() != nil { return true }
            if HostProcesses.hasExited(process.pid) {
                throw IntermodalError(.externalFailure, "dockerd exited while starting: \(Self.tail(log))")
            }
            return false
        }
        if answered { return }
        throw IntermodalError(.timeout, "dockerd did not answer on \(socket) within 90 s: \(Self.tail(log))")
    }

    /// Stops the daemon this backend started: SIGTERM (dockerd stops containerd and unmounts its
    /// data root), then, after 30 s at most, SIGKILL to its process group; reaped either way.
    private func stopDaemon() async {
        guard let daemon else { return }
        kill(daemon.pid, SIGTERM)
        _ = await Poll.until(.seconds(30), .every(.milliseconds(100))) { HostProcesses.hasExited(daemon.pid) }
        await daemon.stop()
        context?.journal.remove(.process(pid: daemon.pid, startTime: daemonStartTime))
        self.daemon = nil
        for dir in hostDirectoriesToRemove { rmdir(dir.string) }
        hostDirectoriesToRemove = []
    }

    /// What dockerd (`/run/docker/plugins`) and containerd-shim-runc-v2 (`/run/containerd/s`, its
    /// sockets) make whatever the roots they are given, deepest first.
    static let fixedHostDirectories: [FilePath] = ["/run/docker/plugins", "/run/docker", "/run/containerd/s", "/run/containerd"]

    static func tail(_ log: FilePath) -> String {
        let text = (try? FileSystem.readString(log)) ?? ""
        return text.split(separator: "\n").suffix(3).joined(separator: "; ")
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        try await runOnce(arguments, options: ["--network", "none"])
    }

    /// `docker run --rm OPTIONS ... IMAGE ARGS`, timed from outside.
    func runOnce(_ arguments: [String], options: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let context, let executable, let imageName, let cgroupParent else { throw IntermodalError(.invalidState, "docker: not prepared") }
        let t = try await ProcessTimer.run(
            [executable.string, "run", "--rm"] + options + ["--pull", "never", "--cgroup-parent", cgroupParent, imageName] + arguments,
            environment: environment, timeout: context.timeout)
        return InstanceRun(status: t.status, output: t.output, spawnToExit: t.spawnToExit, spawnToFirstOutput: t.spawnToFirstOutput)
    }

    /// `docker run -d --name NAME OPTIONS ... IMAGE ARGS`; the name is journaled before it exists.
    func startDetached(_ arguments: [String], options: [String]) async throws(IntermodalError) -> String {
        guard let context, let executable, let imageName, let cgroupParent else { throw IntermodalError(.invalidState, "docker: not prepared") }
        counter += 1
        let container = containerPrefix + String(counter)
        context.journal.add(.peerContainer(cli: executable.string, name: container, environment: environment))
        idle.insert(container)
        try await PeerEngine.check(
            executable, ["run", "-d", "--name", container] + options + ["--pull", "never", "--cgroup-parent", cgroupParent, imageName] + arguments,
            environment: environment)
        return container
    }

    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let executable else { throw IntermodalError(.invalidState, "docker: not prepared") }
        let container = try await startDetached(["sleep", "3600"], options: ["--network", "none"])
        let out = try await PeerEngine.check(executable, ["inspect", "--type", "container", "--format", "{{.State.Pid}}", container], environment: environment)
        guard let pid = PeerEngine.integers(out).first, pid > 0 else {
            throw IntermodalError(.externalFailure, "docker inspect \(container): no container pid in \(out.trimmed)")
        }
        var processes: [IdleInstance.Process] = []
        // containerd-shim-runc-v2, one per container, is the container's parent.
        if let shim = HostProcesses.parent(of: pid),
           let comm = try? FileSystem.readString(FilePath("/proc/\(shim)/comm")), comm.hasPrefix("containerd-shim") {
            processes.append(.init(component: "shim", pid: shim))
        }
        processes += HostFacts.processTree(pid).map { .init(component: "container", pid: $0) }
        return IdleInstance(id: container, processes: processes, cgroupMemoryFile: HostFacts.cgroupMemoryFile(of: pid), handle: container)
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let context, let executable else { return }
        _ = try? await PeerEngine.check(executable, ["rm", "--force", instance.handle], environment: environment)
        idle.remove(instance.handle)
        context.journal.remove(.peerContainer(cli: executable.string, name: instance.handle, environment: environment))
    }

    public func footprint() async -> [FootprintItem] {
        guard let executable, let imageName,
              let out = try? await PeerEngine.check(executable, ["image", "inspect", "--format", PeerEngine.imageStorageFormat, imageName], environment: environment),
              let stored = PeerEngine.ImageStorage(inspected: out) else { return [] }
        guard stored.driver == "overlay2", !stored.layerDirectories.isEmpty, let dataRoot else {
            // Another storage driver: only the daemon's own figure is at hand.
            return [FootprintItem(
                what: "docker's stored copy of the image (the apparent size docker image inspect reports, \(stored.driver) driver: not allocated blocks)",
                bytes: stored.reportedSize, perInstance: false)]
        }
        let config = dataRoot.appending("image/overlay2/imagedb/content/sha256").appending(Digest.hex(stored.id))
        return [FootprintItem(
            what: "docker's stored copy of the image (its overlay2 layer directories and image configuration in the daemon's data root, allocated blocks)",
            bytes: await PeerEngine.allocatedBytes(stored.layerDirectories + [config]), perInstance: false)]
    }

    public func cleanup() async {
        guard let context else { return }
        if let executable, serverAnswersQuickly {
            for container in idle { await stopIdle(IdleInstance(id: container, processes: [], handle: container)) }
            // Containers of ours that a run cut off by a timeout left.
            if let out = try? await PeerEngine.check(
                executable, ["ps", "--all", "--quiet", "--filter", "name=\(containerPrefix)"], environment: environment) {
                let ids = out.split(separator: "\n").map(String.init)
                if !ids.isEmpty { _ = try? await PeerEngine.check(executable, ["rm", "--force"] + ids, environment: environment) }
            }
            if let imageName {
                _ = try? await PeerEngine.check(executable, ["rmi", "--force", imageName], environment: environment)
            }
        }
        await stopDaemon()
        if let cgroupParent {
            PeerEngine.removeCgroup(cgroupParent)
            context.journal.remove(.cgroup(cgroupParent))
        }
        for dir in [context.workDirectory] + (socketDirectory.map { [$0] } ?? []) {
            Journal.unmountAll(under: dir.string)
            try? FileSystem.removeTree(dir)
            context.journal.remove(.directory(dir.string))
        }
        socketDirectory = nil
        imageName = nil
        self.context = nil
    }

    /// A daemon to talk to: the one we started (still running), or the host's.
    private var serverAnswersQuickly: Bool {
        if let daemon { return !HostProcesses.hasExited(daemon.pid) }
        return dataRoot != nil
    }
}

extension DockerBackend: DockerStyleCLI {}
