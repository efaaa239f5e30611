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

/// The VM most people mean (`vm-full`): Debian booted through SeaBIOS and GRUB from a
/// partitioned disk, its own kernel and initramfs, systemd, and each command run through the
/// QEMU guest agent, as operators run commands in such guests. (`vm` is the micro guest.)
///
/// A full guest needs what an installed system has, which a workload image like busybox lacks:
/// the guest is Debian minbase from debootstrap plus kernel, initramfs, systemd and
/// qemu-guest-agent (``FullGuestImage/packages``), cached by those inputs, and the results say so.
/// Each run boots a new guest from a fresh overlay, runs the command, and destroys it.
public actor FullGuestBackend: Backend {
    public nonisolated let name = "vm-full"
    public nonisolated let kind = BackendKind.vm
    /// Debian with systemd and an initramfs of all modules wants more than the micro guest's 256 MiB.
    public static let minimumMemoryMiB = 512
    private var context: BenchContext?
    private var configuration = FullGuestConfiguration()
    private var image: Image?
    private var disk: FullGuestDisk?
    private var lastOverlay: DiskSizes?
    private var idle: [String: FullGuestInstance] = [:]
    /// Bridge leases of running service guests, by handle.
    private let leases = BridgeLeases()
    /// Whether the guest's image can take an address on the bridge (iproute2: the workload image's).
    private nonisolated let hasNetwork = Mutex(false)

    public init() {}

    public func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness {
        self.context = context
        var cfg = FullGuestConfiguration()
        var adjustments: [String] = []
        cfg.memoryMiB = max(context.suite.memoryMiB, Self.minimumMemoryMiB)
        if cfg.memoryMiB != context.suite.memoryMiB {
            adjustments.append("vm-full guests get \(cfg.memoryMiB) MiB, not the suite's \(context.suite.memoryMiB) MiB: Debian with systemd needs it")
        }
        cfg.vcpus = context.suite.vcpus
        cfg.stateRoot = context.workDirectory.appending("full-guests")
        // A TCG boot alone takes a minute or more here; the suite's timeout is for the command.
        cfg.bootTimeout = max(context.timeout, .seconds(600))
        cfg.commandTimeout = context.timeout
        context.journal.add(.directory(context.workDirectory.string))
        context.journal.add(.guests(stateRoot: cfg.stateRoot.string, uri: cfg.uri))
        var probe = VirtualMachineConfiguration()
        probe.cacheRoot = cfg.cacheRoot
        let accelerator = try await VirtualMachine(configuration: probe).resolveAccelerator()
        cfg.accelerator = accelerator == .kvm ? .kvm : .tcg
        configuration = cfg

        let full: Image
        if context.suite.image == WorkloadImage.name {
            // The workload image (Debian) plus an installation: the same tools as every backend.
            let engine = try Engine(root: context.storeRoot, monitorExecutable: context.intermodalExecutable)
            full = try await WorkloadImage.fullGuest(
                from: context.imageName, engine: engine, directory: context.workDirectory.appending("image")
            ) { StandardStreams.writeError($0 + "\n") }
            adjustments.append("vm-full boots \(context.imageName) with \(FullGuestImage.packages.joined(separator: ", ")) and iproute2 installed FROM it by our build: the same tools, plus a kernel and init of its own")
            hasNetwork.withLock { $0 = true }
        } else {
            full = try await FullGuestImage.bootstrap(
                store: context.store, name: try ImageReference.parse("intermodal-vm-full:bookworm"), cacheRoot: cfg.cacheRoot)
            adjustments.append("vm-full boots Debian bookworm minbase with \(FullGuestImage.packages.joined(separator: ", ")) (debootstrap --include), not \(context.suite.image) itself: a full guest needs its own kernel and init")
        }
        image = full
        // The disk is built once per image, before anything is timed.
        let built = try await FullGuestImage.disk(
            source: VirtualMachine.diskSource(image: full, store: context.store), boot: cfg.boot, cacheRoot: cfg.cacheRoot)
        disk = built
        if built.info.bootMethod == .directKernel {
            adjustments.append("vm-full uses direct kernel boot of the guest's own kernel (GRUB's i386-pc files are missing here): no firmware or loader phase")
        }
        if accelerator == .tcg {
            adjustments.append("vm-full guests run under TCG (software emulation): a boot takes tens of seconds to minutes, hence few samples")
        }
        return Readiness(
            version: "Debian \(built.info.kernelVersion) kernel, \(built.info.bootMethod == .firmware ? "SeaBIOS + GRUB" : "direct kernel boot")",
            accelerator: accelerator == .kvm ? "kvm" : "tcg", adjustments: adjustments)
    }

    private func command(_ arguments: [String]) throws(IntermodalError) -> GuestInitramfs.RunConfiguration {
        guard let image else { throw IntermodalError(.invalidState, "vm-full: not prepared") }
        return try VirtualMachine.runConfiguration(image: image, overrides: .init(command: arguments), hostname: "debian-full")
    }

    /// Boot, the command through the agent, destroy: timed from the call to the guest's end.
    public func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        guard let disk else { throw IntermodalError(.invalidState, "vm-full: not prepared") }
        let run = try command(arguments)
        let started = MonotonicInstant.now
        let guest = try await FullGuest(configuration: configuration).boot(disk: disk)
        let exec: GuestExecResult
        do {
            exec = try await guest.exec(run)
            lastOverlay = GuestDisk.sizes(of: guest.overlay)
            try await guest.destroy()
        } catch {
            try? await guest.destroy()
            throw error
        }
        let ended = MonotonicInstant.now
        var marks = await guest.timestamps
        marks.merge(exec.timestamps)
        return InstanceRun(
            status: exec.status, output: exec.standardOutput + exec.standardError,
            spawnToExit: ended.duration(since: started),
            spawnToFirstOutput: exec.timestamps[.firstOutput].map { $0.duration(since: started) },
            phases: InstanceRun.phases(marks, since: started))
    }

    /// Boots a guest and waits until systemd has finished booting (the guest at rest), then
    /// reads its own memory view; the instance lists its QEMU process.
    public func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        guard let disk else { throw IntermodalError(.invalidState, "vm-full: not prepared") }
        let guest = try await FullGuest(configuration: configuration).boot(disk: disk)
        let id = "vm-full-idle-\(index)"
        idle[id] = guest
        do {
            _ = try await guest.bootPhases()
            let memory = try await guest.memory()
            var instance = IdleInstance(id: id, processes: guest.qemuPID.map { [.init(component: "qemu", pid: $0)] } ?? [], handle: id)
            instance.guestMemTotalKiB = memory.guestMemTotalKiB
            instance.guestMemAvailableKiB = memory.guestMemAvailableKiB
            return instance
        } catch {
            idle[id] = nil
            try? await guest.destroy()
            throw error
        }
    }

    public func stopIdle(_ instance: IdleInstance) async {
        guard let guest = idle.removeValue(forKey: instance.handle) else { return }
        lastOverlay = GuestDisk.sizes(of: guest.overlay)
        try? await guest.destroy()
    }

    public func footprint() async -> [FootprintItem] {
        var items: [FootprintItem] = []
        if let disk, let base = GuestDisk.sizes(of: disk.image) {
            items.append(FootprintItem(what: "full guest disk: MBR, GRUB, root partition (allocated)", bytes: base.allocatedBytes, perInstance: false))
        }
        if let o = lastOverlay { items.append(FootprintItem(what: "full guest overlay per instance (allocated)", bytes: o.allocatedBytes, perInstance: true)) }
        return items
    }

    public func cleanup() async {
        for (_, guest) in idle { try? await guest.destroy() }
        idle = [:]
        await leases.releaseAll()
        if let context { GuestWork.remove(context, uri: configuration.uri, stateRoot: configuration.stateRoot) }
    }
}

extension FullGuestBackend: ThroughputCapable {
    public nonisolated var diskTargets: [DiskTarget: String] {
        [.root: "the guest's virtio disk (its ext4 root partition on a qcow2 overlay of the built disk)"]
    }
    /// A NIC on the containers' bridge with a leased address, set through the agent; only with
    /// the workload image, whose full guest has iproute2.
    public nonisolated var networkPaths: [NetworkPath] { hasNetwork.withLock { $0 } ? [.bridge] : [] }

    /// Boots a guest with a NIC on `intermodal0`, gives it a leased address through the agent and
    /// starts `arguments` in the background; returns once the command was started.
    public func startService(_ arguments: [String], ports: [Int], path: NetworkPath, index: Int) async throws(IntermodalError) -> ServiceInstance {
        guard path == .bridge, hasNetwork.withLock({ $0 }) else { throw IntermodalError(.unsupported, "vm-full: only the bridge, and only with the workload image") }
        guard let disk, context != nil else { throw IntermodalError(.invalidState, "vm-full: not prepared") }
        let id = "vm-full-service-\(index)"
        let lease = try await leases.reserve(id, owner: "bench-full-guest-\(getpid())-\(index)")
        var cfg = configuration
        cfg.network = .bridge(BridgeNetwork.defaultBridgeName)
        cfg.commandTimeout = nil
        do {
            let guest = try await FullGuest(configuration: cfg).boot(disk: disk)
            idle[id] = guest
            try await guest.configureNetwork(address: lease.address, prefix: lease.prefix, gateway: lease.gateway)
            try await guest.startInBackground(try command(arguments))
        } catch {
            await stopService(ServiceInstance(id: id, address: lease.address, ports: [:], handle: id))
            throw error
        }
        return ServiceInstance(id: id, address: lease.address, ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, $0) }), handle: id)
    }

    public func stopService(_ service: ServiceInstance) async {
        if let guest = idle.removeValue(forKey: service.handle) { try? await guest.destroy() }
        await leases.release(service.handle)
    }
}
