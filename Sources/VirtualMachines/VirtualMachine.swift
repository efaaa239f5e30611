#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Logging
import SystemPackage

/// Boots a guest from a disk source, runs one command in it through our init, and tears it all
/// down again, recording every phase on the host's monotonic clock.
public struct VirtualMachine: Sendable {
    public var configuration: VirtualMachineConfiguration
    let logger = IntermodalLog.logger("vm")

    public init(configuration: VirtualMachineConfiguration = VirtualMachineConfiguration()) {
        self.configuration = configuration
    }

    /// Where a guest's root disk comes from: a cache key and a way to fill a directory with the tree.
    public struct DiskSource: Sendable {
        public var key: String
        public var populate: @Sendable (FilePath) async throws(IntermodalError) -> Void
        public init(key: String, populate: @escaping @Sendable (FilePath) async throws(IntermodalError) -> Void) {
            self.key = key
            self.populate = populate
        }
    }

    /// The guest kernel's command line: serial console (kept quiet: every byte costs under TCG),
    /// reboot at once on a panic (the domain then ends, and we report the panic), and no ACPI:
    /// measured here under TCG, ACPI's interrupt-link set-up made probing the virtio PCI devices
    /// take ~0.6 s instead of ~0.2 s. The guest finds its CPUs in the MP table and its devices
    /// by plain PCI; it cannot power itself off without ACPI, so the host destroys the domain
    /// once the init has reported (as it does anyway). `no_timer_check`: the kernel's check that
    /// the 8254 timer reaches the IO-APIC counts ticks against a delay loop, and an emulated CPU
    /// on a busy host misses it and panics ("8254 timer not connected to IO-APIC", seen here with
    /// three guests and eight containers at once); virtual machines' kernels skip it.
    public static let kernelCommandLine = "console=ttyS0 quiet panic=-1 rdinit=/init acpi=off no_timer_check"

    /// ``kernelCommandLine`` plus the configuration's extra arguments.
    public static func commandLine(_ cfg: VirtualMachineConfiguration) -> String {
        ([kernelCommandLine] + cfg.kernelArguments).joined(separator: " ")
    }

    /// Output sink: called for every chunk as it arrives.
    public typealias OutputHandler = @Sendable (GuestStream, [UInt8]) -> Void

    /// Resolves `.auto` with the (cached) KVM probe; refuses `.kvm` where the probe saw it fail.
    public func resolveAccelerator() async throws(IntermodalError) -> DomainDefinition.Accelerator {
        switch configuration.accelerator {
        case .tcg: return .tcg
        case .auto: return try await AcceleratorProbe.cachedOrProbe().kvmUsable ? .kvm : .tcg
        case .kvm:
            let probe = try await AcceleratorProbe.cachedOrProbe()
            guard probe.kvmUsable else {
                throw IntermodalError(.unsupported, "KVM is not usable on this host (\(probe.detail)); use --accel tcg or auto")
            }
            return .kvm
        }
    }

    /// The CPU a KVM guest gets: the one the (cached) probe reached init with.
    static func kvmCPUMode() async throws(IntermodalError) -> String {
        try await AcceleratorProbe.cachedOrProbe().cpuMode ?? AcceleratorProbeResult.hostPassthrough
    }

    /// Runs `command` in a new guest whose disk comes from `disk`.
    public func run(
        disk: DiskSource, command: GuestInitramfs.RunConfiguration, output: OutputHandler? = nil
    ) async throws(IntermodalError) -> VirtualMachineResult {
        var marks = PhaseTimestamps()
        marks.mark(.create)
        let cfg = configuration
        guard cfg.memoryMiB >= 64 else { throw IntermodalError(.invalidArgument, "memory \(cfg.memoryMiB) MiB is too small for a guest (at least 64 MiB)") }
        guard (1...64).contains(cfg.vcpus) else { throw IntermodalError(.invalidArgument, "vcpus \(cfg.vcpus) out of range 1...64") }
        guard !command.arguments.isEmpty else { throw IntermodalError(.invalidArgument, "no command to run in the guest") }

        var timer = StepTimer(logger: logger)
        let accelerator = try await resolveAccelerator()
        timer.lap("accelerator")
        let kernel = try GuestKernel.locate(preferred: cfg.kernel)
        let bootKernel = cfg.bootCompressedKernel ? kernel.path : try await kernel.decompressedELF(cacheRoot: cfg.cacheRoot)
        timer.lap("kernel")
        let initBinary = try GuestInitramfs.locateInit()
        let base = try await GuestDisk.base(key: disk.key, cacheRoot: cfg.cacheRoot, populate: disk.populate)
        timer.lap("base disk")
        try Interruption.check("while preparing the guest disk")
        let connection = try LibvirtConnection(uri: cfg.uri)
        timer.lap("libvirt connection")

        let name = "intermodal-" + String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16).prefix(12)
        let dir = cfg.stateRoot.appending(name)
        try FileSystem.createDirectory(dir, mode: 0o700)
        var domain: LibvirtDomain?
        do {
            let result = try await boot(
                name: name, dir: dir, connection: connection, accelerator: accelerator, kernel: kernel,
                bootKernel: bootKernel, initBinary: initBinary, base: base, command: command,
                marks: &marks, domain: &domain, output: output)
            return result
        } catch {
            let hadGuest = domain != nil
            await cleanup(domain: domain, dir: dir)
            // Say what was rolled back, so nobody goes looking for a guest or disk that is gone.
            throw IntermodalError(
                error.code, error.message + (hadGuest ? " (guest \(name) destroyed, its disk removed)" : ""), cause: error.cause)
        }
    }

    private func cleanup(domain: LibvirtDomain?, dir: FilePath) async {
        if let domain {
            do { try await DedicatedThread.run { () throws(IntermodalError) in try domain.destroy() } } catch { logger.warning("\(error)") }
        }
        do { try FileSystem.removeTree(dir) } catch { logger.warning("cannot remove \(dir): \(error)") }
    }

    private func boot(
        name: String, dir: FilePath, connection: LibvirtConnection, accelerator: DomainDefinition.Accelerator,
        kernel: GuestKernel, bootKernel: FilePath, initBinary: FilePath, base: FilePath,
        command: GuestInitramfs.RunConfiguration, marks: inout PhaseTimestamps, domain: inout LibvirtDomain?,
        output: OutputHandler?
    ) async throws(IntermodalError) -> VirtualMachineResult {
        let cfg = configuration
        try FileSystem.writeAtomically("\(getpid())\n", to: dir.appending("owner.pid"))
        let overlay = dir.appending("disk.qcow2")
        var timer = StepTimer(logger: logger)
        try await GuestDisk.createOverlay(base: base, at: overlay)
        timer.lap("overlay")
        var run = command
        run.debugTiming = cfg.debugGuest
        run.consoleChannel = cfg.reportChannel == .console
        switch cfg.network {
        case .none: break
        case .user:
            // QEMU user-mode networking's fixed plan.
            run.address = cfg.address ?? "10.0.2.15/24"
            run.gateway = cfg.gateway ?? "10.0.2.2"
            run.nameserver = cfg.nameserver ?? "10.0.2.3"
        case .bridge(let name):
            guard let address = cfg.address else {
                throw IntermodalError(.invalidArgument, "a guest on bridge \(name) needs an address (configuration.address)")
            }
            run.address = address
            run.gateway = cfg.gateway
            run.nameserver = cfg.nameserver
        }
        let initrd = dir.appending("initrd.cpio")
        // A plain write: the file lives for one boot, an fsync would only cost time.
        try Self.write(try GuestInitramfs.build(kernel: kernel, initBinary: initBinary, run: run, cacheRoot: cfg.cacheRoot), to: initrd)
        timer.lap("initramfs")
        let socketPath = dir.appending("channel.sock")
        let consoleLog = dir.appending("console.log")
        var definition = DomainDefinition(
            name: name, accelerator: accelerator, memoryMiB: cfg.memoryMiB, vcpus: cfg.vcpus,
            kernel: bootKernel, initrd: initrd,
            commandLine: Self.commandLine(cfg),
            disk: overlay, channelSocket: run.consoleChannel ? nil : socketPath, consoleLog: consoleLog, network: cfg.network)
        if accelerator == .kvm { definition.cpuMode = try await Self.kvmCPUMode() }
        try Interruption.check("before the guest started")
        marks.mark(.domainCreate)
        // libvirt's calls wait for libvirtd's answer: off the pool, like every wait.
        let xml = definition.xml
        domain = try await DedicatedThread.run { () throws(IntermodalError) in try connection.createTransientDomain(xml: xml) }
        marks.mark(.domainStarted)
        let qemuPID = connection.isLocal ? ProcessMemory.qemuPID(domain: name) : nil

        let channel = run.consoleChannel
            ? GuestChannel(consoleLog: consoleLog) : try await GuestChannel.connected(socket: socketPath, consoleLog: consoleLog)
        defer { channel.close() }
        var report = GuestReport(marks: marks, outputLimit: cfg.outputLimit)
        var qemuMemory: ProcessMemory?
        let bootStarted = MonotonicInstant.now
        let qemuCPUAtStart = qemuPID.flatMap(ProcessStat.read)?.cpuTime

        while report.exit == nil {
            let now = MonotonicInstant.now
            if report.marks[.initHello] == nil, let why = Self.initOverdue(cfg.initTimeout, since: bootStarted, qemu: qemuPID,
                                                                        cpuAtStart: qemuCPUAtStart, now: now) {
                throw IntermodalError(
                    .timeout, "guest \(name) did not reach its init \(why)" + Self.hostLoad(accelerator) + consoleTail(consoleLog))
            }
            if let limit = cfg.commandTimeout, let started = report.marks[.commandStart], now.duration(since: started) > limit {
                throw IntermodalError(.timeout, "the command in guest \(name) ran longer than \(limit.formattedSeconds)")
            }
            let event = try await channel.nextEvent(timeoutMilliseconds: 100)
            try Interruption.check(report.marks[.commandStart] == nil ? "while the guest booted" : "while the guest ran the command")
            if Task.isCancelled {
                throw IntermodalError(.interrupted, "guest \(name) run cancelled; the guest was destroyed")
            }
            var stopped = false
            if case .none = event, let domain, !domain.isActive { stopped = true }
            if case .closed = event { stopped = true }
            switch event {
            case .none where !stopped: continue
            case .none, .closed:
                let why = consoleTail(consoleLog)
                if why.contains("Kernel panic") {
                    throw IntermodalError(.externalFailure, "guest \(name) kernel panicked" + why)
                }
                throw IntermodalError(.externalFailure, "guest \(name) stopped without reporting an exit status" + why)
            case .frame(let type, let payload):
                try report.apply(type: type, payload: payload, received: .now, output: output)
                if report.exit != nil {
                    // Measured while the guest still holds its memory, before it is destroyed.
                    qemuMemory = qemuPID.flatMap { ProcessMemory.read(pid: $0) }
                }
            }
        }
        let overlaySizes = GuestDisk.sizes(of: overlay)
        if cfg.debugGuest, let console = try? FileSystem.readString(consoleLog) {
            for line in console.split(separator: "\n") where line.contains("intermodal-guest-init") {
                logger.debug("\(line.trimmingTrailingWhitespace)")
            }
        }
        if let d = domain { try await DedicatedThread.run { () throws(IntermodalError) in try d.destroy() } }
        report.marks.mark(.domainDestroyed)
        domain = nil
        try FileSystem.removeTree(dir)
        report.marks.mark(.cleanup)
        marks = report.marks
        return VirtualMachineResult(
            status: report.exit!,
            standardOutput: report.standardOutput, standardError: report.standardError,
            timestamps: report.marks, accelerator: accelerator, domainName: name, qemuMemory: qemuMemory,
            guestMemTotalKiB: report.memTotalKiB, guestMemAvailableKiB: report.memAvailableKiB,
            baseDisk: GuestDisk.sizes(of: base), overlayDisk: overlaySizes, guestClock: report.guestClock)
    }

    static func write(_ bytes: [UInt8], to path: FilePath) throws(IntermodalError) {
        do {
            let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
            defer { try? fd.close() }
            _ = try fd.writeAll(bytes)
        } catch {
            throw IntermodalError(.systemError, "cannot write \(path)", cause: error)
        }
    }

    /// The host's load, to explain a slow boot: under TCG every guest instruction is emulated on the
    /// host's CPUs, so a busy host can stretch a boot of seconds to minutes.
    static func hostLoad(_ accelerator: DomainDefinition.Accelerator) -> String {
        guard let load = (try? FileSystem.readString("/proc/loadavg"))?.split(separator: " ").first else { return "" }
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return " (\(accelerator.rawValue.uppercased()), host load \(load) on \(cpus) CPUs)"
    }

    /// Why the wait for the guest's init is over, or nil while it may go on. The budget is the
    /// CPU time QEMU spends booting, not the wall time: on a loaded host an emulated guest gets a
    /// fraction of a CPU and its boot stretches in proportion, while a stuck one burns its budget
    /// (or, halted, uses none, hence the wall-clock bound of ten budgets). Without QEMU's pid (a
    /// remote libvirt) the budget is wall time.
    static func initOverdue(_ budget: Duration, since start: MonotonicInstant, qemu: Int32?, cpuAtStart: Duration?,
                            now: MonotonicInstant) -> String? {
        let wall = now.duration(since: start)
        guard let qemu, let cpuAtStart, let stat = ProcessStat.read(qemu) else {
            return wall > budget ? "within its budget of \(budget.formattedSeconds)" : nil
        }
        let cpu = stat.cpuTime - cpuAtStart
        if cpu > budget {
            return "within its budget of \(budget.formattedSeconds) of QEMU's CPU time (\(wall.formattedSeconds) elapsed)"
        }
        if wall > budget * 10 {
            return "within ten times its budget of \(budget.formattedSeconds) (QEMU had \(cpu.formattedSeconds) of CPU time)"
        }
        return nil
    }

    /// The last lines of the guest's serial console, to explain a failure.
    func consoleTail(_ log: FilePath) -> String {
        guard let text = try? FileSystem.readString(log), !text.isEmpty else { return "" }
        let lines = text.split(separator: "\n").map { $0.trimmingTrailingWhitespace }.filter { !$0.isEmpty }
        if let panic = lines.firstIndex(where: { $0.contains("Kernel panic") }) {
            return "; console: " + lines[panic...].prefix(2).joined(separator: " | ")
        }
        return "; console ends: " + lines.suffix(3).joined(separator: " | ")
    }
}
