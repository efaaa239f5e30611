#if canImport(Glibc)
import Glibc
#endif
import ImageStore
import IntermodalCore
import SystemPackage

/// What the podman and docker backends share: the harness's image handed over as an OCI layout,
/// a cgroup parent of the harness's own, their CLIs run with an environment of the harness's own,
/// and what their stored copy of an image costs on disk.
enum PeerEngine {
    /// The name the image gets inside a peer: the image's short ID as its tag, so a reader of the
    /// peer's `images` sees which of ours it is.
    static func imageName(for image: Image) -> String {
        "localhost/intermodal-bench:\(image.shortID)"
    }

    /// Writes the harness's image as an OCI layout under `directory`; returns the `oci:` reference
    /// skopeo reads it by.
    static func exportLayout(_ context: BenchContext, into directory: FilePath) throws(IntermodalError) -> String {
        try context.store.save([context.image], toLayout: directory)
        let index = try OCILayout.readIndex(directory)
        // A fresh layout holds this image alone; its first name (if any) selects it.
        let refName = index.manifests.first { $0.digest == context.image.manifestDigest }?
            .annotations?["org.opencontainers.image.ref.name"]
        return "oci:\(directory.string)" + (refName.map { ":\($0)" } ?? "")
    }

    /// The cgroup parent the peer puts its containers (and podman its conmon) under: of this
    /// process alone, so that nothing of a user's `libpod_parent` or `docker` cgroups is used, and
    /// named so that `scripts/check-leftovers` finds it if a killed run leaves it.
    static func cgroupParent(_ backend: String, pid: Int32 = getpid()) -> String {
        "/intermodal-bench-\(plain(backend))-\(pid)"
    }

    /// A backend's name as it may stand in cgroup and container names (`podman+intermodal-runtime`
    /// becomes `podman-intermodal-runtime`).
    static func plain(_ backend: String) -> String {
        String(backend.map { $0 == "+" ? "-" : $0 })
    }

    /// Removes `parent` (and what the peer left below it, deepest first) from every cgroup
    /// hierarchy; the peer has removed each container's own cgroup with the container.
    static func removeCgroup(_ parent: String) {
        let base = FilePath("/sys/fs/cgroup")
        var roots = [base]
        for name in (try? FileSystem.list(base)) ?? [] {
            let dir = base.appending(name)
            if FileSystem.isDirectory(dir) { roots.append(dir) }
        }
        for root in roots {
            let top = FilePath(root.string + parent)
            guard FileSystem.isDirectory(top) else { continue }
            removeCgroupTree(top)
        }
    }

    private static func removeCgroupTree(_ dir: FilePath) {
        for name in (try? FileSystem.list(dir)) ?? [] {
            let child = dir.appending(name)
            var st = stat()
            if lstat(child.string, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { removeCgroupTree(child) }
        }
        rmdir(dir.string)
    }

    /// `name` looked up in `PATH`, or a path as it is; nil when it is not an executable.
    static func locate(_ name: String) -> FilePath? {
        if name.contains("/") { return access(name, X_OK) == 0 ? FilePath(name) : nil }
        return HostCommand.find(name)
    }

    /// `s` as a quoted string that TOML (containers.conf) and JSON (daemon.json) both read.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    /// `KEY=VALUE` pairs as the dictionary ``HostCommand`` takes.
    static func dictionary(_ environment: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for e in environment {
            guard let i = e.firstIndex(of: "=") else { continue }
            out[String(e[..<i])] = String(e[e.index(after: i)...])
        }
        return out
    }

    /// Runs a peer's CLI to completion with `environment` (on top of the harness's own) and
    /// returns its standard output; a failure names the command and quotes its error output.
    @discardableResult
    static func check(_ executable: FilePath, _ arguments: [String], environment: [String]) async throws(IntermodalError) -> String {
        try await HostCommand.check(executable.string, arguments, environment: dictionary(environment))
    }

    /// The integers in `text` (the output of `inspect --format '{{.State.Pid}} ...'`).
    static func integers(_ text: String) -> [Int32] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) }
    }

    /// The `inspect --format` that ``ImageStorage/init(inspected:)`` reads: docker's templates
    /// fail on a missing map key (`LowerDir` of a one-layer image), so the driver's data comes as JSON.
    static let imageStorageFormat = "{{.Id}}|{{.GraphDriver.Name}}|{{.Size}}|{{json .GraphDriver.Data}}"

    /// Where a peer keeps an image: its ID, storage driver, the size the peer reports (apparent,
    /// uncompressed) and, for the overlay drivers, each layer's own directory.
    struct ImageStorage: Equatable {
        var id: String
        var driver: String
        var reportedSize: Int64
        var layerDirectories: [FilePath]

        /// From the output of `image inspect --format` ``imageStorageFormat``.
        init?(inspected text: String) {
            let f = text.trimmed.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, let size = Int64(f[2]) else { return nil }
            id = f[0]
            driver = f[1]
            reportedSize = size
            let data = (try? JSON.decode([String: String].self, from: Array(f[3].utf8), what: "the storage driver's data")) ?? [:]
            // `UpperDir` and the colon-separated `LowerDir` are `.../<layer>/diff`; the layer's own
            // directory holds the driver's `link`, `lower` and `work` beside it.
            var dirs: [FilePath] = []
            for path in [data["UpperDir"] ?? ""] + (data["LowerDir"] ?? "").split(separator: ":").map(String.init) where path.hasPrefix("/") {
                var dir = FilePath(path)
                if dir.lastComponent?.string == "diff" { dir.removeLastComponent() }
                if !dirs.contains(dir) { dirs.append(dir) }
            }
            layerDirectories = dirs
        }
    }

    /// Allocated bytes of all `paths` together.
    static func allocatedBytes(_ paths: [FilePath]) async -> Int64 {
        var total: Int64 = 0
        for p in paths where FileSystem.exists(p) { total += await HostFacts.allocatedBytes(p) }
        return total
    }

    /// The processes whose command line names `directory`: a daemon, containerd, a shim or a
    /// conmon of a peer working under it.
    static func processes(mentioning directory: FilePath) -> [Int32] {
        HostProcesses.mentioning(directory.string)
    }
}

/// What the podman and docker backends share for the throughput workloads: both are Docker-style
/// CLIs over storage and cgroups of the harness's own.
protocol DockerStyleCLI: ThroughputCapable {
    /// `CLI run --rm OPTIONS ... IMAGE ARGS`, timed from outside.
    func runOnce(_ arguments: [String], options: [String]) async throws(IntermodalError) -> InstanceRun
    /// `CLI run -d --name NAME OPTIONS ... IMAGE ARGS`: the container's name.
    func startDetached(_ arguments: [String], options: [String]) async throws(IntermodalError) -> String
}

extension DockerStyleCLI {
    public nonisolated var diskTargets: [DiskTarget: String] {
        [.root: "\(name)'s storage driver (the container's writable layer)", .volume: "a bind mount (-v) of a host directory"]
    }
    /// Only the host's network: the harness runs the peer without its bridge network stack,
    /// which would add host-wide iptables rules.
    public nonisolated var networkPaths: [NetworkPath] { [.host] }

    public func run(_ arguments: [String], volume: FilePath) async throws(IntermodalError) -> InstanceRun {
        try await runOnce(arguments, options: ["--network", "none", "-v", "\(volume.string):\(volumeMountPoint)"])
    }

    public func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance {
        guard path == .host else { throw IntermodalError(.unsupported, "\(name): only the host network here") }
        let container = try await startDetached(arguments, options: ["--network", "host"])
        return ServiceInstance(id: container, address: "127.0.0.1", ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, $0) }), handle: container)
    }

    public func stopService(_ service: ServiceInstance) async {
        await stopIdle(IdleInstance(id: service.id, processes: [], handle: service.handle))
    }
}
