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
    /// reboot at once on a panic (the domain then ends, and we report the panic).
    public static let kernelCommandLine = "console=ttyS0 quiet panic=-1 rdinit=/init"

    /// ``kernelCommandLine`` plus the configuration's extra arguments.
    static func commandLine(_ cfg: VirtualMachineConfiguration) -> String {
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

        var step = MonotonicInstant.now
        func took(_ what: String) {
            let now = MonotonicInstant.now
            logger.debug("\(what): \(Int(now.duration(since: step).seconds * 1000)) ms")
            step = now
        }
        let accelerator = try await resolveAccelerator()
        took("accelerator")
        let kernel = try GuestKernel.locate(preferred: cfg.kernel)
        let bootKernel = cfg.bootCompressedKernel ? kernel.path : try await kernel.decompressedELF(cacheRoot: cfg.cacheRoot)
        took("kernel")
        let initBinary = try GuestInitramfs.locateInit()
        let base = try await GuestDisk.base(key: disk.key, cacheRoot: cfg.cacheRoot, populate: disk.populate)
        took("base disk")
        try Interruption.check("while preparing the guest disk")
        let connection = try LibvirtConnection(uri: cfg.uri)
        took("libvirt connection")

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
            cleanup(domain: domain, dir: dir)
            throw error
        }
    }

    private func cleanup(domain: LibvirtDomain?, dir: FilePath) {
        if let domain {
            do { try domain.destroy() } catch { logger.warning("\(error)") }
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
        var step = MonotonicInstant.now
        func took(_ what: String) {
            let now = MonotonicInstant.now
            logger.debug("\(what): \(Int(now.duration(since: step).seconds * 1000)) ms")
            step = now
        }
        try await GuestDisk.createOverlay(base: base, at: overlay)
        took("overlay")
        var run = command
        run.debugTiming = cfg.debugGuest
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
        took("initramfs")
        let socketPath = dir.appending("channel.sock")
        let consoleLog = dir.appending("console.log")
        let definition = DomainDefinition(
            name: name, accelerator: accelerator, memoryMiB: cfg.memoryMiB, vcpus: cfg.vcpus,
            kernel: bootKernel, initrd: initrd,
            commandLine: Self.commandLine(cfg),
            disk: overlay, channelSocket: socketPath, consoleLog: consoleLog, network: cfg.network)
        try Interruption.check("before the guest started")
        marks.mark(.domainCreate)
        domain = try connection.createTransientDomain(xml: definition.xml)
        marks.mark(.domainStarted)
        let qemuPID = connection.isLocal ? ProcessMemory.qemuPID(domain: name) : nil

        let channel = try GuestChannel(socket: socketPath)
        defer { channel.close() }
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var guestClock: [String: UInt64] = [:]
        var exit: (code: Int32, signal: Int32?)?
        var memTotal: Int64?, memAvailable: Int64?
        var qemuMemory: ProcessMemory?
        let initDeadline = MonotonicInstant.now.nanoseconds + UInt64(cfg.initTimeout.components.seconds) * 1_000_000_000
        var commandDeadline: UInt64?

        while exit == nil {
            let now = MonotonicInstant.now.nanoseconds
            if marks[.initHello] == nil && now > initDeadline {
                throw IntermodalError(
                    .timeout, "guest \(name) did not reach its init within \(cfg.initTimeout.formattedSeconds)"
                        + consoleTail(consoleLog))
            }
            if let d = commandDeadline, now > d {
                throw IntermodalError(.timeout, "the command in guest \(name) ran longer than \(cfg.commandTimeout!.formattedSeconds)")
            }
            let event = try channel.next(timeoutMilliseconds: 100)
            try Interruption.check(marks[.commandStart] == nil ? "while the guest booted" : "while the guest ran the command")
            switch event {
            case .none: continue
            case .closed:
                let why = consoleTail(consoleLog)
                if why.contains("Kernel panic") {
                    throw IntermodalError(.externalFailure, "guest \(name) kernel panicked" + why)
                }
                throw IntermodalError(.externalFailure, "guest \(name) stopped without reporting an exit status" + why)
            case .frame(let type, let payload):
                let received = MonotonicInstant.now
                switch type {
                case UInt8(ascii: "H"):
                    marks.mark(.initHello, at: received)
                    let f = Self.fields(payload)
                    if let initNs = f["init"], let nowNs = f["now"] {
                        guestClock["init"] = initNs
                        guestClock["modulesLoaded"] = f["modules"]
                        guestClock["hello"] = nowNs
                        // The guest's monotonic clock starts near kernel start: anchor it on this frame.
                        let kernelStart = received.nanoseconds &- nowNs
                        marks.mark(.kernelStart, at: MonotonicInstant(nanoseconds: kernelStart))
                        marks.mark(.initStart, at: MonotonicInstant(nanoseconds: kernelStart &+ initNs))
                    }
                case UInt8(ascii: "S"):
                    marks.mark(.commandStart, at: received)
                    guestClock["commandStart"] = Self.fields(payload)["now"]
                    if let t = cfg.commandTimeout { commandDeadline = received.nanoseconds + UInt64(t.components.seconds) * 1_000_000_000 }
                case UInt8(ascii: "O"), UInt8(ascii: "E"):
                    marks.mark(.firstOutput, at: received)
                    let stream: GuestStream = type == UInt8(ascii: "O") ? .standardOutput : .standardError
                    output?(stream, payload)
                    if stream == .standardOutput {
                        if stdout.count < cfg.outputLimit { stdout += payload.prefix(cfg.outputLimit - stdout.count) }
                    } else if stderr.count < cfg.outputLimit {
                        stderr += payload.prefix(cfg.outputLimit - stderr.count)
                    }
                case UInt8(ascii: "X"):
                    marks.mark(.commandEnd, at: received)
                    let f = Self.fields(payload)
                    let code = Int32(truncatingIfNeeded: Int64(f["code"] ?? 255))
                    let sig = Int32(truncatingIfNeeded: Int64(f["signal"] ?? 0))
                    exit = (code, sig == 0 ? nil : sig)
                    guestClock["commandStart"] = f["start"]
                    guestClock["commandEnd"] = f["end"]
                    memTotal = f["memtotal"].map { Int64($0) }
                    memAvailable = f["memavailable"].map { Int64($0) }
                    // Measured while the guest still holds its memory, before it is destroyed.
                    qemuMemory = qemuPID.flatMap { ProcessMemory.read(pid: $0) }
                case UInt8(ascii: "F"):
                    throw IntermodalError(.externalFailure, "guest init failed: \(String(decoding: payload, as: UTF8.self))")
                default:
                    logger.debug("unknown frame type \(type) from guest \(name)")
                }
            }
        }
        let overlaySizes = GuestDisk.sizes(of: overlay)
        if cfg.debugGuest, let console = try? FileSystem.readString(consoleLog) {
            for line in console.split(separator: "\n") where line.contains("intermodal-guest-init") {
                logger.debug("\(line.trimmingTrailingWhitespace)")
            }
        }
        if let d = domain { try d.destroy() }
        marks.mark(.exit)
        domain = nil
        try FileSystem.removeTree(dir)
        marks.mark(.cleanup)
        return VirtualMachineResult(
            exitCode: exit!.code, signal: exit!.signal, standardOutput: stdout, standardError: stderr,
            timestamps: marks, accelerator: accelerator, domainName: name, qemuMemory: qemuMemory,
            guestMemTotalKiB: memTotal.flatMap { $0 }, guestMemAvailableKiB: memAvailable.flatMap { $0 },
            baseDisk: GuestDisk.sizes(of: base), overlayDisk: overlaySizes, guestClock: guestClock)
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

    /// "key=value key=value" from the init's text frames, numbers only.
    static func fields(_ payload: [UInt8]) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for pair in String(decoding: payload, as: UTF8.self).split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 {
                if let v = UInt64(kv[1]) { out[String(kv[0])] = v }
                else if let v = Int64(kv[1]) { out[String(kv[0])] = UInt64(bitPattern: v) }
            }
        }
        return out
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
