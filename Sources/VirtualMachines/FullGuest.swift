#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Logging
import SystemPackage

/// A full-OS guest, the VM most people mean: firmware, GRUB, the guest's own kernel and
/// initramfs, systemd, and commands through the QEMU guest agent (next to ``VirtualMachine``,
/// the micro guest that boots the host's kernel straight into our one-command init).
///
/// ``boot(disk:)`` returns a running guest to run commands in and measure; ``run(disk:command:)``
/// boots, runs one command, measures and tears down. Nothing waits on the cooperative pool:
/// libvirt calls run on threads of their own, waiting is `Task.sleep`.
public struct FullGuest: Sendable {
    public var configuration: FullGuestConfiguration
    let logger = IntermodalLog.logger("vm.full")

    public init(configuration: FullGuestConfiguration = FullGuestConfiguration()) {
        self.configuration = configuration
    }

    /// Boots a guest from `disk` and returns once its agent answers (``Phase/agentReady``).
    /// On any failure, or SIGINT/SIGTERM (``Interruption``), or cancellation, the domain is
    /// destroyed and its overlay removed before the error is thrown.
    public func boot(disk: FullGuestDisk) async throws(IntermodalError) -> FullGuestInstance {
        var marks = PhaseTimestamps()
        marks.mark(.create)
        let cfg = configuration
        guard cfg.memoryMiB >= 128 else { throw IntermodalError(.invalidArgument, "memory \(cfg.memoryMiB) MiB is too small for a full guest (at least 128 MiB)") }
        guard (1...64).contains(cfg.vcpus) else { throw IntermodalError(.invalidArgument, "vcpus \(cfg.vcpus) out of range 1...64") }
        guard FileSystem.exists(disk.image) else { throw IntermodalError(.notFound, "full guest disk \(disk.image) does not exist") }

        var vmConfiguration = VirtualMachineConfiguration()
        vmConfiguration.accelerator = cfg.accelerator
        vmConfiguration.cacheRoot = cfg.cacheRoot
        let accelerator = try await VirtualMachine(configuration: vmConfiguration).resolveAccelerator()
        let uri = cfg.uri
        let connection = try await DedicatedThread.run { () throws(IntermodalError) in try LibvirtConnection(uri: uri) }

        let name = "intermodal-" + String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16).prefix(12)
        let dir = cfg.stateRoot.appending(name)
        try FileSystem.createDirectory(cfg.stateRoot)
        try FileSystem.createDirectory(dir, mode: 0o700)
        var domain: LibvirtDomain?
        do {
            try FileSystem.writeAtomically("\(getpid())\n", to: dir.appending("owner.pid"))
            let overlay = dir.appending("disk.qcow2")
            try await GuestDisk.createOverlay(base: disk.image, at: overlay)
            let consoleLog = dir.appending("console.log")
            let direct = disk.info.bootMethod == .directKernel
            var definition = DomainDefinition(
                name: name, accelerator: accelerator, memoryMiB: cfg.memoryMiB, vcpus: cfg.vcpus,
                kernel: direct ? disk.kernel : nil, initrd: direct ? disk.initrd : nil, commandLine: disk.info.commandLine,
                disk: overlay, channelSocket: nil, consoleLog: consoleLog)
            definition.guestAgent = true
            definition.network = cfg.network
            if accelerator == .kvm { definition.cpuMode = try await VirtualMachine.kvmCPUMode() }
            try Interruption.check("before the full guest started")
            let xml = definition.xml
            marks.mark(.domainCreate)
            let started = try await DedicatedThread.run { () throws(IntermodalError) in
                try connection.createTransientDomain(xml: xml)
            }
            domain = started
            marks.mark(.domainStarted)
            logger.info("full guest \(name): domain started (\(accelerator == .tcg ? "TCG" : "KVM"), \(disk.info.bootMethod.rawValue) boot)")
            let qemuPID = connection.isLocal ? ProcessMemory.qemuPID(domain: name) : nil
            let agent = try GuestAgent(domain: started)

            let console = Task { await Self.firstConsoleByte(consoleLog) }
            defer { console.cancel() }
            try await waitForAgent(agent, domain: started, consoleLog: consoleLog, marks: &marks)
            if let first = await Self.firstConsoleByteNow(consoleLog, watcher: console) { marks.mark(.consoleFirstByte, at: first) }
            logger.info("full guest \(name): agent answered after \((marks.duration(from: .domainStarted, to: .agentReady) ?? .zero).formattedSeconds)")
            return FullGuestInstance(
                name: name, directory: dir, connection: connection, domain: started, agent: agent, accelerator: accelerator,
                disk: disk, overlay: overlay, consoleLog: consoleLog, qemuPID: qemuPID, marks: marks, configuration: cfg)
        } catch {
            let hadGuest = domain != nil
            if let domain {
                do { try await DedicatedThread.run { () throws(IntermodalError) in try domain.destroy() } } catch { logger.warning("\(error)") }
            }
            do { try FileSystem.removeTree(dir) } catch { logger.warning("cannot remove \(dir): \(error)") }
            throw IntermodalError(
                error.code, error.message + (hadGuest ? " (guest \(name) destroyed, its disk removed)" : ""), cause: error.cause)
        }
    }

    /// Pings the agent until it answers, the guest stops, the boot timeout passes, or a signal comes.
    private func waitForAgent(
        _ agent: GuestAgent, domain: LibvirtDomain, consoleLog: FilePath, marks: inout PhaseTimestamps
    ) async throws(IntermodalError) {
        let deadline = MonotonicInstant.now.nanoseconds + UInt64(configuration.bootTimeout.components.seconds) * 1_000_000_000
        while true {
            try Interruption.check("while the full guest booted")
            if Task.isCancelled { throw IntermodalError(.interrupted, "full guest \(domain.name) boot cancelled") }
            // Until qemu-ga opens its port libvirt answers at once that the agent is not connected.
            let ping = try await agent.ping(timeoutSeconds: 2)
            if case .answered = ping {
                marks.mark(.agentReady)
                return
            }
            var stopped = false
            if case .domainStopped = ping { stopped = true } else {
                stopped = try await !DedicatedThread.run { () throws(IntermodalError) in domain.isActive }
            }
            if stopped {
                throw IntermodalError(.externalFailure, "full guest \(domain.name) stopped before its agent answered" + ConsoleLog.tail(consoleLog))
            }
            if MonotonicInstant.now.nanoseconds > deadline {
                throw IntermodalError(
                    .timeout, "full guest \(domain.name): its agent did not answer within \(configuration.bootTimeout.formattedSeconds)" + ConsoleLog.tail(consoleLog))
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// When the console log first held a byte: polled every 10 ms (the serial log is a plain
    /// file, nothing to wait on).
    static func firstConsoleByte(_ log: FilePath) async -> MonotonicInstant? {
        while !Task.isCancelled {
            if (GuestDisk.sizes(of: log)?.apparentBytes ?? 0) > 0 { return .now }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// The watcher's instant if it saw the byte (cancelling it otherwise).
    static func firstConsoleByteNow(_ log: FilePath, watcher: Task<MonotonicInstant?, Never>) async -> MonotonicInstant? {
        if (GuestDisk.sizes(of: log)?.apparentBytes ?? 0) > 0 { return await watcher.value }
        watcher.cancel()
        return nil
    }

    /// Boots a guest from `disk`, runs `command` through its agent, measures (memory at the
    /// command's end and once booted, systemd's boot phases, disks) and tears it all down.
    public func run(disk: FullGuestDisk, command: GuestInitramfs.RunConfiguration) async throws(IntermodalError) -> FullGuestResult {
        guard !command.arguments.isEmpty else { throw IntermodalError(.invalidArgument, "no command to run in the guest") }
        let guest = try await boot(disk: disk)
        do {
            let exec = try await guest.exec(command)
            let memoryAtEnd = try await guest.memory()
            let phases = try await guest.bootPhases()
            let memoryAfterBoot = try await guest.memory()
            let overlay = GuestDisk.sizes(of: guest.overlay)
            var marks = await guest.timestamps
            marks.merge(exec.timestamps)
            try await guest.destroy()
            marks.merge(await guest.timestamps)
            return FullGuestResult(
                status: exec.status, standardOutput: exec.standardOutput, standardError: exec.standardError,
                timestamps: marks, accelerator: guest.accelerator, bootMethod: disk.info.bootMethod, domainName: guest.name,
                bootPhases: phases, memoryAtCommandEnd: memoryAtEnd, memoryAfterBoot: memoryAfterBoot,
                baseDisk: GuestDisk.sizes(of: disk.image), overlayDisk: overlay)
        } catch {
            do { try await guest.destroy() } catch { logger.warning("\(error)") }
            throw IntermodalError(error.code, error.message + " (guest \(guest.name) destroyed, its disk removed)", cause: error.cause)
        }
    }
}

/// The guest's serial console log, to explain a failure.
enum ConsoleLog {
    static func tail(_ log: FilePath) -> String {
        guard let text = try? FileSystem.readString(log), !text.isEmpty else { return "; the console stayed empty" }
        let lines = text.split(separator: "\n").map { $0.trimmingTrailingWhitespace }.filter { !$0.isEmpty }
        if let panic = lines.firstIndex(where: { $0.contains("Kernel panic") }) {
            return "; console: " + lines[panic...].prefix(2).joined(separator: " | ")
        }
        return "; console ends: " + lines.suffix(3).joined(separator: " | ")
    }
}
