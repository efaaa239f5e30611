#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// Our engine as a user runs it: `intermodal run --rm IMAGE CMD` through the CLI, timed from
/// outside like every peer's CLI.
public actor IntermodalCLIBackend: Backend {
    public nonisolated let name = "intermodal"
    public nonisolated let kind = BackendKind.container
    private var context: BenchContext?
    private var engine: Engine?

    public init() {}

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        self.context = context
        engine = try Engine(root: context.storeRoot, monitorExecutable: context.intermodalExecutable)
        guard let version = await HostFacts.version(context.intermodalExecutable.string) else {
            throw IntermodalError(.notFound, "\(context.intermodalExecutable) does not run")
        }
        return Readiness(version: version)
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        try await run(arguments, options: [])
    }

    /// `intermodal run --root R --rm OPTIONS IMAGE ARGS`, timed from outside.
    private func run(_ arguments: [String], options: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let context else { throw IntermodalError(.invalidState, "intermodal: not prepared") }
        let argv = [context.intermodalExecutable.string, "run", "--root", context.storeRoot.string, "--rm"] + options + [context.imageName] + arguments
        let t = try await ProcessTimer.run(argv, environment: ["PATH=\(InstanceProcess.defaultPath)"], timeout: context.timeout)
        return InstanceRun(status: t.status, output: t.output, spawnToExit: t.spawnToExit, spawnToFirstOutput: t.spawnToFirstOutput)
    }

    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let context, let engine else { throw IntermodalError(.invalidState, "intermodal: not prepared") }
        // Named, and journaled by that name before it exists.
        let name = IntermodalIdle.name(index)
        context.journal.add(.container(root: context.storeRoot.string, id: name))
        _ = try await HostCommand.check(
            context.intermodalExecutable.string,
            ["run", "--root", context.storeRoot.string, "-d", "--rm", "--name", name, context.imageName, "sleep", "3600"])
        return try await IntermodalIdle.describe(engine: engine, id: name)
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let context, let engine else { return }
        await IntermodalIdle.stop(instance, engine: engine, context: context)
    }

    public func footprint() async -> [FootprintItem] {
        guard let context, let engine else { return [] }
        return await IntermodalIdle.footprint(context, engine: engine, idle: try? await startIdle(-1))
    }

    public func cleanup() async {}
}

extension IntermodalCLIBackend: ThroughputCapable {
    public nonisolated var diskTargets: [DiskTarget: String] {
        [.root: "overlayfs (the container's upper directory in the store)", .volume: "a bind mount (-v) of a host directory"]
    }
    /// A published port needs iptables on the host (the DNAT rules); without it the path is left
    /// out, and the run's notes say which paths were measured.
    public nonisolated var networkPaths: [NetworkPath] {
        HostCommand.find("iptables") != nil ? [.bridge, .published, .host] : [.bridge, .host]
    }

    public func run(_ arguments: [String], volume: FilePath) async throws(IntermodalError) -> InstanceRun {
        try await run(arguments, options: ["-v", "\(volume.string):\(volumeMountPoint)"])
    }

    public func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance {
        guard let context, let engine else { throw IntermodalError(.invalidState, "intermodal: not prepared") }
        let name = "bench-\(getpid())-service-\(path.rawValue)-\(index)"
        var mapping: [Int: Int] = [:]
        var options: [String]
        switch path {
        case .bridge: options = ["--network", "bridge"]
        case .host: options = ["--network", "host"]
        case .published:
            options = ["--network", "bridge"]
            for port in ports {
                let hostPort = try HostFacts.freeTCPPort()
                mapping[port] = hostPort
                options += ["-p", "\(hostPort):\(port)"]
            }
        }
        context.journal.add(.container(root: context.storeRoot.string, id: name))
        _ = try await HostCommand.check(
            context.intermodalExecutable.string,
            ["run", "--root", context.storeRoot.string, "-d", "--rm", "--name", name] + options + [context.imageName] + arguments)
        let address: String
        switch path {
        case .bridge:
            guard let a = try await engine.container(name).address else {
                throw IntermodalError(.externalFailure, "intermodal: container \(name) on the bridge has no address")
            }
            address = a
        case .published: address = HostFacts.primaryIPv4() ?? "127.0.0.1"
        case .host: address = "127.0.0.1"
        }
        for port in ports where mapping[port] == nil { mapping[port] = port }
        return ServiceInstance(id: name, address: address, ports: mapping, handle: name)
    }

    public func stopService(_ service: ServiceInstance) async {
        guard let context, let engine else { return }
        await IntermodalIdle.stop(IdleInstance(id: service.id, processes: [], handle: service.handle), engine: engine, context: context)
    }
}

/// The same engine in-process (`Engine.run`), with the phases it records: where the time goes.
public actor IntermodalLibraryBackend: Backend {
    public nonisolated let name = "intermodal-lib"
    public nonisolated let kind = BackendKind.container
    private var context: BenchContext?
    private var engine: Engine?

    public init() {}

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        self.context = context
        engine = try Engine(root: context.storeRoot, monitorExecutable: context.intermodalExecutable)
        return Readiness(version: "library \(IntermodalVersion.string)")
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let context, let engine else { throw IntermodalError(.invalidState, "intermodal-lib: not prepared") }
        var options = RunOptions(command: arguments)
        options.autoRemove = true
        let started = MonotonicInstant.now
        let outcome = try await engine.run(image: context.imageName, options: options, output: .log)
        let ended = MonotonicInstant.now
        let first = outcome.timestamps[.firstOutput].map { $0.duration(since: started) }
        return InstanceRun(
            status: outcome.status, output: [], spawnToExit: ended.duration(since: started), spawnToFirstOutput: first,
            phases: InstanceRun.phases(outcome.timestamps, since: started))
    }

    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let context, let engine else { throw IntermodalError(.invalidState, "intermodal-lib: not prepared") }
        var options = RunOptions(command: ["sleep", "3600"])
        options.autoRemove = true
        options.name = IntermodalIdle.name(index)
        context.journal.add(.container(root: context.storeRoot.string, id: options.name!))
        _ = try await engine.runDetached(image: context.imageName, options: options)
        return try await IntermodalIdle.describe(engine: engine, id: options.name!)
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let context, let engine else { return }
        await IntermodalIdle.stop(instance, engine: engine, context: context)
    }

    public func footprint() async -> [FootprintItem] {
        guard let context, let engine else { return [] }
        return await IntermodalIdle.footprint(context, engine: engine, idle: try? await startIdle(-1))
    }

    public func cleanup() async {}
}

/// What our detached containers cost and store, for both intermodal backends.
enum IntermodalIdle {
    /// Unique on the host: the run's pid and the instance's index.
    static func name(_ index: Int) -> String { "bench-\(getpid())-\(index < 0 ? "footprint" : String(index))" }

    static func describe(engine: Engine, id: String) async throws(IntermodalError) -> IdleInstance {
        let record = try await engine.container(id)
        let id = record.name
        var processes: [IdleInstance.Process] = []
        if let monitor = record.ownerPID { processes.append(.init(component: "monitor", pid: monitor)) }
        if let pid = record.pid {
            for p in HostFacts.processTree(pid) { processes.append(.init(component: "container", pid: p)) }
        }
        return IdleInstance(id: id, processes: processes, cgroupMemoryFile: record.pid.flatMap(HostFacts.cgroupMemoryFile(of:)), handle: id)
    }

    static func stop(_ instance: IdleInstance, engine: Engine, context: BenchContext) async {
        try? await engine.remove(instance.handle, force: true)
        context.journal.remove(.container(root: context.storeRoot.string, id: instance.handle))
    }

    /// The store's image bytes and, with `idle` (an idle container started for it, stopped
    /// here), the writable layer an instance costs: overlayfs's upper directory.
    static func footprint(_ context: BenchContext, engine: Engine, idle: IdleInstance?) async -> [FootprintItem] {
        var items: [FootprintItem] = []
        if let idle {
            if let record = try? await engine.container(idle.handle) {
                items.append(FootprintItem(
                    what: "writable layer of an idle container",
                    bytes: await HostFacts.allocatedBytes(engine.directory(of: record).upper), perInstance: true))
            }
            await stop(idle, engine: engine, context: context)
        }
        // The suite image's own blobs and unpacked layers, not the whole store's (which holds the
        // full guest's image too): what one more image like it would cost.
        let image = context.image
        var blobs: Int64 = 0, unpacked: Int64 = 0
        for digest in [image.manifestDigest, image.configDigest] + image.layers.map(\.digest) {
            if let path = try? context.store.blobPath(digest) { blobs += await HostFacts.allocatedBytes(path) }
        }
        for layer in image.layers {
            if let path = try? context.store.unpackedLayer(layer) { unpacked += await HostFacts.allocatedBytes(path) }
        }
        items.append(FootprintItem(what: "image blobs (compressed layers, config, manifest)", bytes: blobs, perInstance: false))
        items.append(FootprintItem(what: "unpacked layers", bytes: unpacked, perInstance: false))
        return items
    }
}
