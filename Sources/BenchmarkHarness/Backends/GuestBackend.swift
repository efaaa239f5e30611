#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import ContainerEngine
import ImageStore
import IntermodalCore
import Synchronization
import SystemPackage
import VirtualMachines

/// The same image as a libvirt guest (our micro VM: the host's kernel, our init, the image's
/// files on an ext4 base disk with a per-guest overlay), under KVM where the probe boot worked
/// and TCG otherwise. Timed from the library call to its return; the guest's phases come with it.
public actor GuestBackend: Backend {
    public nonisolated let name = "vm"
    public nonisolated let kind = BackendKind.vm
    private var context: BenchContext?
    private var configuration = VirtualMachineConfiguration()
    private var accelerator: DomainDefinition.Accelerator = .tcg
    private var disk: VirtualMachine.DiskSource?
    private var lastOverlay: DiskSizes?
    private var lastBase: DiskSizes?
    private var idle: [String: Task<Void, Never>] = [:]
    /// Bridge leases of running service guests, by handle.
    private let leases = BridgeLeases()

    public init() {}

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        self.context = context
        var cfg = VirtualMachineConfiguration()
        cfg.memoryMiB = context.suite.memoryMiB
        cfg.vcpus = context.suite.vcpus
        cfg.stateRoot = context.workDirectory.appending("guests")
        cfg.initTimeout = context.timeout
        cfg.commandTimeout = context.timeout
        context.journal.add(.directory(context.workDirectory.string))
        context.journal.add(.guests(stateRoot: cfg.stateRoot.string, uri: cfg.uri))
        let vm = VirtualMachine(configuration: cfg)
        accelerator = try await vm.resolveAccelerator()
        cfg.accelerator = accelerator == .kvm ? .kvm : .tcg
        configuration = cfg
        let source = VirtualMachine.diskSource(image: context.image, store: context.store)
        disk = source
        // The base disk is made once per image, before anything is timed.
        lastBase = GuestDisk.sizes(of: try await GuestDisk.base(key: source.key, cacheRoot: cfg.cacheRoot, populate: source.populate))
        let qemu = try await QEMUBinary.locate(cacheRoot: cfg.cacheRoot)
        var adjustments: [String] = []
        if accelerator == .tcg {
            let probe = try? await AcceleratorProbe.cachedOrProbe()
            adjustments.append("guests run under TCG (software emulation): KVM is not usable here (\(probe?.detail ?? "the probe boot failed")); guest figures are not what KVM would give")
        }
        return Readiness(version: "QEMU \(qemu.version)", accelerator: accelerator == .kvm ? "kvm" : "tcg", adjustments: adjustments)
    }

    private func command(_ arguments: [String]) throws(IntermodalError) -> GuestInitramfs.RunConfiguration {
        guard let context else { throw IntermodalError(.invalidState, "vm: not prepared") }
        return try VirtualMachine.runConfiguration(image: context.image, overrides: .init(command: arguments))
    }

    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let disk else { throw IntermodalError(.invalidState, "vm: not prepared") }
        let vm = VirtualMachine(configuration: configuration)
        let started = MonotonicInstant.now
        let r = try await vm.run(disk: disk, command: try command(arguments))
        let ended = MonotonicInstant.now
        lastOverlay = r.overlayDisk
        return InstanceRun(
            status: r.status, output: r.standardOutput + r.standardError,
            spawnToExit: ended.duration(since: started),
            spawnToFirstOutput: r.timestamps[.firstOutput].map { $0.duration(since: started) },
            phases: InstanceRun.phases(r.timestamps, since: started))
    }

    /// Boots a guest whose command reports its memory, says it is ready, then sleeps; the
    /// returned instance lists its QEMU process (found by the guest's own state directory).
    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let disk, let context else { throw IntermodalError(.invalidState, "vm: not prepared") }
        var cfg = configuration
        cfg.stateRoot = context.workDirectory.appending("idle-\(index)")
        cfg.commandTimeout = nil
        let marker = "intermodal-idle-ready"
        let script = "grep -E '^(MemTotal|MemAvailable):' /proc/meminfo; echo \(marker); exec sleep 3600"
        let run = try command(["sh", "-c", script])
        let seen = Mutex<[UInt8]>([])
        let ready = AsyncStream<Void>.makeStream()
        let vm = VirtualMachine(configuration: cfg)
        let task = Task {
            _ = try? await vm.run(disk: disk, command: run) { _, bytes in
                let text = seen.withLock { s -> [UInt8] in s += bytes; return s }
                if String(decoding: text, as: UTF8.self).contains(marker) { ready.continuation.yield() }
            }
            ready.continuation.finish()
        }
        let id = "vm-idle-\(index)"
        context.journal.add(.guests(stateRoot: cfg.stateRoot.string, uri: cfg.uri))
        idle[id] = task
        var booted = false
        for await _ in ready.stream { booted = true; break }
        guard booted else {
            idle[id] = nil
            throw IntermodalError(.externalFailure, "the idle guest \(index) stopped before it was ready")
        }
        let output = String(decoding: seen.withLock { $0 }, as: UTF8.self)
        var instance = IdleInstance(id: id, processes: Self.qemuProcesses(under: cfg.stateRoot).map { .init(component: "qemu", pid: $0) }, handle: id)
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 2, f[0] == "MemTotal:" { instance.guestMemTotalKiB = Int64(f[1]) }
            if f.count >= 2, f[0] == "MemAvailable:" { instance.guestMemAvailableKiB = Int64(f[1]) }
        }
        return instance
    }

    /// QEMU processes whose command line names a path under `directory` (the guest's disk).
    static func qemuProcesses(under directory: FilePath) -> [Int32] {
        HostProcesses.matching { $0.contains("qemu-system") && $0.contains(directory.string + "/") }
    }

    /// Cancelling the run's task makes the library destroy the guest and remove its disk.
    public func stopIdle(_ instance: IdleInstance) async {
        guard let task = idle.removeValue(forKey: instance.handle) else { return }
        task.cancel()
        await task.value
    }

    public func footprint() async -> [FootprintItem] {
        var items: [FootprintItem] = []
        if let b = lastBase { items.append(FootprintItem(what: "guest base disk (allocated)", bytes: b.allocatedBytes, perInstance: false)) }
        if let o = lastOverlay { items.append(FootprintItem(what: "guest overlay per instance (allocated)", bytes: o.allocatedBytes, perInstance: true)) }
        if let kernel = try? GuestKernel.locate(preferred: configuration.kernel),
           let elf = try? await kernel.decompressedELF(cacheRoot: configuration.cacheRoot) {
            items.append(FootprintItem(what: "guest kernel (decompressed, shared)", bytes: await HostFacts.allocatedBytes(elf), perInstance: false))
        }
        return items
    }

    public func cleanup() async {
        for (_, task) in idle { task.cancel(); await task.value }
        idle = [:]
        await leases.releaseAll()
        if let context { GuestWork.remove(context, uri: configuration.uri, stateRoot: configuration.stateRoot) }
    }
}

extension GuestBackend: ThroughputCapable {
    public nonisolated var diskTargets: [DiskTarget: String] { [.root: "the guest's virtio disk (ext4 on a qcow2 overlay of the base disk)"] }
    /// A tap on the containers' bridge, with an address leased like a container's.
    public nonisolated var networkPaths: [NetworkPath] { [.bridge] }

    /// Boots a guest on `intermodal0` running `arguments`; returns once it is booting (the
    /// workload waits for its ports). Cancelling the task destroys the guest and its disk.
    public func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance {
        guard path == .bridge else { throw IntermodalError(.unsupported, "vm: only the bridge") }
        guard let disk, let context else { throw IntermodalError(.invalidState, "vm: not prepared") }
        let id = "vm-service-\(index)"
        let lease = try await leases.reserve(id, owner: "bench-guest-\(getpid())-\(index)")
        var cfg = configuration
        cfg.stateRoot = context.workDirectory.appending("service-\(index)")
        cfg.commandTimeout = nil
        cfg.network = .bridge(BridgeNetwork.defaultBridgeName)
        cfg.address = "\(lease.address)/\(lease.prefix)"
        cfg.gateway = lease.gateway
        let run: GuestInitramfs.RunConfiguration
        do { run = try command(arguments) } catch {
            await leases.release(id)
            throw error
        }
        let vm = VirtualMachine(configuration: cfg)
        context.journal.add(.guests(stateRoot: cfg.stateRoot.string, uri: cfg.uri))
        idle[id] = Task { _ = try? await vm.run(disk: disk, command: run) }
        return ServiceInstance(id: id, address: lease.address, ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, $0) }), handle: id)
    }

    public func stopService(_ service: ServiceInstance) async {
        if let task = idle.removeValue(forKey: service.handle) {
            task.cancel()
            await task.value
        }
        await leases.release(service.handle)
    }
}
