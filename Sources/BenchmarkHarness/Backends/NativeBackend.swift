import BenchmarkResults
import ImageStore
import IntermodalCore
import SystemPackage

/// The reference: the image's own root file system run through a plain `chroot` (no namespaces,
/// cgroups or seccomp), so binaries and libraries are those every other backend runs.
public actor NativeBackend: Backend {
    public nonisolated let name = "native"
    public nonisolated let kind = BackendKind.native
    private var rootfs: FilePath?
    private var environment: [String] = []
    private var context: BenchContext?
    private var idle: [String: BackgroundProcess] = [:]

    public init() {}

    static let chroot = "/usr/sbin/chroot"

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        guard FileSystem.exists(FilePath(Self.chroot)) else {
            throw IntermodalError(.notFound, "\(Self.chroot) is not installed (coreutils)")
        }
        self.context = context
        let dir = context.workDirectory.appending("rootfs")
        context.journal.add(.directory(context.workDirectory.string))
        try await context.store.flatten(context.image, into: dir)
        rootfs = dir
        environment = try InstanceProcess.resolve(
            image: context.image.configuration, overrides: .init(command: ["true"]), hostname: "native").environment
        return Readiness(version: await HostFacts.version(Self.chroot), adjustments: [])
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let rootfs, let context else { throw IntermodalError(.invalidState, "native: not prepared") }
        let t = try await ProcessTimer.run([Self.chroot, rootfs.string] + arguments, environment: environment, timeout: context.timeout)
        return InstanceRun(status: t.status, output: t.output, spawnToExit: t.spawnToExit, spawnToFirstOutput: t.spawnToFirstOutput)
    }

    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let rootfs, let context else { throw IntermodalError(.invalidState, "native: not prepared") }
        let p = try BackgroundProcess.start([Self.chroot, rootfs.string, "sleep", "3600"], environment: environment)
        context.journal.add(.process(pid: p.pid, startTime: HostProcesses.startTime(p.pid) ?? 0))
        let id = "native-\(index)"
        idle[id] = p
        return IdleInstance(id: id, processes: [.init(component: "process", pid: p.pid)], handle: id)
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let p = idle.removeValue(forKey: instance.handle) else { return }
        let start = HostProcesses.startTime(p.pid) ?? 0
        await p.stop()
        context?.journal.remove(.process(pid: p.pid, startTime: start))
    }

    public func footprint() async -> [FootprintItem] {
        guard let rootfs else { return [] }
        return [FootprintItem(what: "root file system", bytes: await HostFacts.allocatedBytes(rootfs), perInstance: false)]
    }

    public func cleanup() async {
        for (_, p) in idle { await p.stop() }
        idle = [:]
        if let rootfs { await HostProcesses.killRooted(under: rootfs) }
        if let context {
            try? FileSystem.removeTree(context.workDirectory)
            context.journal.remove(.directory(context.workDirectory.string))
        }
    }
}

extension NativeBackend: ThroughputCapable {
    public nonisolated var diskTargets: [DiskTarget: String] { [.root: "the host's file system (the image's files in a directory)"] }
    /// Loopback: the reference every other path is normalised to.
    public nonisolated var networkPaths: [NetworkPath] { [.host] }

    public func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance {
        guard let rootfs, let context else { throw IntermodalError(.invalidState, "native: not prepared") }
        let p = try BackgroundProcess.start([Self.chroot, rootfs.string] + arguments, environment: environment)
        context.journal.add(.process(pid: p.pid, startTime: HostProcesses.startTime(p.pid) ?? 0))
        let id = "native-service-\(index)"
        idle[id] = p
        return ServiceInstance(id: id, address: "127.0.0.1", ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, $0) }), handle: id)
    }

    /// A service's daemons (redis-server daemonizes) leave its process group: what is still
    /// running in the image's root file system goes too.
    public func stopService(_ service: ServiceInstance) async {
        await stopIdle(IdleInstance(id: service.id, processes: [], handle: service.handle))
        if let rootfs { await HostProcesses.killRooted(under: rootfs) }
    }
}
