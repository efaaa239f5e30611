import ArgumentParser
import ContainerEngine
import FoundationEssentials
import ImageStore
import IntermodalCore
import SystemPackage
import VirtualMachines
#if canImport(Glibc)
import Glibc
#endif

/// `intermodal vm ...`: the same image booted as a libvirt guest.
enum VMCommands {
    static let all: [any ParsableCommand.Type] = [VMCommand.self]
}

/// `intermodal vm`
struct VMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Run images as libvirt guests: micro (our kernel+init) or --full (firmware, GRUB, systemd), TCG or KVM.",
        subcommands: [VMRunCommand.self, VMImageCommand.self, VMPsCommand.self, VMRmCommand.self])
}

/// Options shared by the vm subcommands.
struct VMConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "libvirt URI.") var uri = "qemu:///system"
}

extension VMConnectionOptions {
    func stateRoot(_ global: GlobalOptions) -> FilePath {
        IntermodalPaths.storeRoot(override: global.root).appending("vms")
    }
}

/// `intermodal vm run [--memory 256m] [--vcpus 1] [--accel auto|kvm|tcg] IMAGE [CMD...]`
struct VMRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Boot IMAGE as a guest, run CMD (or the image's command), print its output, exit with its status.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: VMConnectionOptions
    @Flag(name: .long, help: "A full-OS guest (the image needs a kernel, systemd and qemu-guest-agent: see `vm image`); commands go through the guest agent.") var full = false
    @Option(name: .long, help: "Full guest: firmware (SeaBIOS + GRUB), direct (QEMU loads the guest's own kernel) or auto.") var boot = "auto"
    @Option(name: .long, help: "Guest memory: 256m, 1g, or MiB (default 256m, 512m with --full).") var memory: String?
    @Option(name: .long, help: "Virtual CPUs.") var vcpus = 1
    @Option(name: .long, help: "auto (KVM if the probe found it working), kvm or tcg.") var accel = "auto"
    @Option(name: .long, help: "Network: none, user (QEMU user-mode), bridge (the containers' intermodal0) or bridge:NAME.") var network = "none"
    @Option(name: .long, help: "Kernel to boot (default: newest /boot/vmlinuz-*).") var kernel: String?
    @Option(name: .long, help: "Extra guest kernel argument (repeatable).") var kernelArg: [String] = []
    @Option(name: .long, help: "Guest eth0 address for --network bridge:NAME, e.g. 10.88.0.50/16 (on intermodal0 one is leased like a container's).") var ip: String?
    @Option(name: .long, help: "Guest default gateway (with --ip).") var gateway: String?
    @Option(name: .long, help: "Seconds of CPU time QEMU may spend before the guest reaches its init (default 60), or with --full until its agent answers (default 600).") var bootTimeout: Int?
    @Option(name: .long, help: "Seconds the command may run (0: no limit).") var timeout = 0
    @Flag(name: .long, help: "Print the phase timings to standard error afterwards.") var timings = false
    @Flag(name: .long, help: "Report over the serial console (no virtio-serial port in the guest).") var consoleReport = false
    @Option(name: .long, help: "Write the run's measurements (phases, memory, disks) as JSON to this file.") var result: String?
    @OptionGroup var process: ProcessOptions
    @Argument(help: "Image name or ID.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments.") var command: [String] = []

    func run() async throws {
        if full { return try await runFull() }
        var cfg = VirtualMachineConfiguration()
        cfg.memoryMiB = try Self.parseMemory(memory ?? "256m")
        cfg.vcpus = vcpus
        guard let choice = AcceleratorChoice(rawValue: accel) else {
            throw IntermodalError(.invalidArgument, "--accel '\(accel)': use auto, kvm or tcg")
        }
        cfg.accelerator = choice
        cfg.network = try Self.parseNetwork(network)
        cfg.uri = connection.uri
        cfg.stateRoot = connection.stateRoot(global)
        cfg.kernel = kernel.map { FilePath($0) }
        cfg.kernelArguments = kernelArg
        cfg.debugGuest = global.debug
        cfg.reportChannel = consoleReport ? .console : .virtioSerial
        cfg.address = ip
        cfg.gateway = gateway
        // On the containers' bridge the guest leases an address from the same allocator, so
        // guests and containers share one network; another bridge needs an address given.
        var lease: (network: BridgeNetwork, owner: String)?
        if case .bridge(let name) = cfg.network, ip == nil {
            guard name == BridgeNetwork.defaultBridgeName else {
                throw IntermodalError(.invalidArgument, "--network \(network) needs --ip ADDRESS/PREFIX (and usually --gateway) for the guest")
            }
            let bridge = BridgeNetwork()
            let owner = "guest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let attachment = try await bridge.reserve(owner: owner)
            lease = (bridge, owner)
            cfg.address = "\(attachment.address)/\(attachment.prefix)"
            cfg.gateway = gateway ?? attachment.gateway
        }
        do {
            try await boot(cfg)
        } catch {
            if let lease { try? await lease.network.detach(containerID: lease.owner) }
            throw error
        }
        if let lease { try await lease.network.detach(containerID: lease.owner) }
    }

    /// Boots the guest, streams its output, and exits with the command's status.
    private func boot(_ configuration: VirtualMachineConfiguration) async throws {
        var cfg = configuration
        cfg.initTimeout = .seconds(bootTimeout ?? 60)
        cfg.commandTimeout = timeout > 0 ? .seconds(timeout) : nil
        Interruption.install()
        GuestInventory.pruneStale(uri: cfg.uri, stateRoot: cfg.stateRoot)
        let store = try ImageCommands.store(global)
        let resolved = try store.resolve(image)
        let vm = VirtualMachine(configuration: cfg)
        let result = try await vm.run(image: resolved, store: store, overrides: process.overrides(command: command)) { stream, bytes in
            let fd: Int32 = stream == .standardOutput ? 1 : 2
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
                if n <= 0 { if errno == EINTR { continue } else { break } }
                off += n
            }
        }
        if timings { StandardStreams.writeError(Self.describe(result)) }
        if let path = self.result {
            try FileSystem.writeAtomically(try JSON.encode(result, pretty: true) + [10], to: FilePath(path))
        }
        try result.status.endCLI()
    }

    /// `vm run --full`: the image's own kernel, systemd, and the command through the guest agent.
    private func runFull() async throws {
        guard network == "none", kernel == nil, kernelArg.isEmpty, !consoleReport, ip == nil, gateway == nil else {
            throw IntermodalError(.invalidArgument, "--full guests take no --network, --kernel, --kernel-arg, --console-report, --ip or --gateway (they boot the image's own kernel, without a network)")
        }
        var cfg = FullGuestConfiguration()
        cfg.memoryMiB = try Self.parseMemory(memory ?? "512m")
        cfg.vcpus = vcpus
        guard let choice = AcceleratorChoice(rawValue: accel) else {
            throw IntermodalError(.invalidArgument, "--accel '\(accel)': use auto, kvm or tcg")
        }
        cfg.accelerator = choice
        switch boot {
        case "auto": cfg.boot = .auto
        case "firmware": cfg.boot = .firmware
        case "direct": cfg.boot = .directKernel
        default: throw IntermodalError(.invalidArgument, "--boot '\(boot)': use auto, firmware or direct")
        }
        cfg.uri = connection.uri
        cfg.stateRoot = connection.stateRoot(global)
        cfg.bootTimeout = .seconds(bootTimeout ?? 600)
        cfg.commandTimeout = timeout > 0 ? .seconds(timeout) : nil
        Interruption.install()
        GuestInventory.pruneStale(uri: cfg.uri, stateRoot: cfg.stateRoot)
        let store = try ImageCommands.store(global)
        let resolved = try store.resolve(image)
        let disk = try await FullGuestImage.disk(
            source: VirtualMachine.diskSource(image: resolved, store: store), boot: cfg.boot, cacheRoot: cfg.cacheRoot)
        let run = try VirtualMachine.runConfiguration(image: resolved, overrides: process.overrides(command: command), hostname: "debian-full")
        let result = try await FullGuest(configuration: cfg).run(disk: disk, command: run)
        StandardStreams.writeOutput(String(decoding: result.standardOutput, as: UTF8.self))
        StandardStreams.writeError(String(decoding: result.standardError, as: UTF8.self))
        if timings { StandardStreams.writeError(Self.describe(result)) }
        if let path = self.result {
            try FileSystem.writeAtomically(try JSON.encode(result, pretty: true) + [10], to: FilePath(path))
        }
        try result.status.endCLI()
    }

    static func describe(_ r: FullGuestResult) -> String {
        var s = "full guest \(r.domainName) accel=\(r.accelerator == .tcg ? "tcg (software emulation)" : "kvm") boot=\(r.bootMethod == .firmware ? "firmware (SeaBIOS + GRUB)" : "direct kernel boot (no firmware or loader phase)")\n"
        let order: [Phase] = [.domainCreate, .domainStarted, .consoleFirstByte, .kernelStart, .userspaceStart, .agentReady, .commandStart, .commandEnd, .bootFinished, .domainDestroyed, .cleanup]
        for p in order {
            if let d = r.timestamps.duration(from: .create, to: p) { s += "  create -> \(p.rawValue): \(Int(d.seconds * 1000)) ms\n" }
        }
        if let b = r.bootPhases {
            func ms(_ v: Int64?) -> String { v.map { "\($0 / 1000) ms" } ?? "-" }
            s += "  host view: firmware \(ms(b.hostFirmwareMicroseconds)), loader \(ms(b.hostLoaderMicroseconds)) (kernel start known to +-\(b.kernelStartUncertaintyMicroseconds / 1000) ms)\n"
            s += "  systemd: firmware \(ms(b.systemdFirmwareMicroseconds)), loader \(ms(b.systemdLoaderMicroseconds)), kernel \(ms(b.kernelMicroseconds)), initrd \(ms(b.initrdMicroseconds)), userspace \(ms(b.userspaceMicroseconds))\n"
            s += "  systemd-analyze: \(b.systemdAnalyze)\n"
        }
        for (label, m) in [("at command end", Optional(r.memoryAtCommandEnd)), ("after boot", r.memoryAfterBoot)] {
            guard let m else { continue }
            s += "  memory \(label): qemu rss=\(m.qemu?.rssKiB ?? -1) KiB pss=\(m.qemu?.pssKiB ?? -1) KiB, guest MemTotal=\(m.guestMemTotalKiB ?? -1) KiB MemAvailable=\(m.guestMemAvailableKiB ?? -1) KiB\n"
        }
        if let b = r.baseDisk, let o = r.overlayDisk {
            s += "  disk base \(b.apparentBytes)/\(b.allocatedBytes) B overlay \(o.apparentBytes)/\(o.allocatedBytes) B (apparent/allocated)\n"
        }
        return s
    }

    static func describe(_ r: VirtualMachineResult) -> String {
        var s = "guest \(r.domainName) accel=\(r.accelerator == .tcg ? "tcg (software emulation)" : "kvm")\n"
        let order: [Phase] = [.domainCreate, .domainStarted, .kernelStart, .initStart, .initHello, .commandStart, .firstOutput, .commandEnd, .domainDestroyed, .cleanup]
        for p in order {
            if let d = r.timestamps.duration(from: .create, to: p) {
                s += "  create -> \(p.rawValue): \(Int(d.seconds * 1000)) ms\n"
            }
        }
        let g = r.guestClock
        if let i = g["init"], let m = g["modulesLoaded"], let h = g["hello"], let c = g["commandStart"] {
            s += "  guest clock (ms since its kernel's clock started): init \(i / 1_000_000), modules loaded \(m / 1_000_000), channel up \(h / 1_000_000), command \(c / 1_000_000)\n"
        }
        if let m = r.qemuMemory { s += "  qemu rss=\(m.rssKiB) KiB pss=\(m.pssKiB) KiB\n" }
        s += "  guest MemTotal=\(r.guestMemTotalKiB ?? -1) KiB MemAvailable=\(r.guestMemAvailableKiB ?? -1) KiB\n"
        if let b = r.baseDisk, let o = r.overlayDisk {
            s += "  disk base \(b.apparentBytes)/\(b.allocatedBytes) B overlay \(o.apparentBytes)/\(o.allocatedBytes) B (apparent/allocated)\n"
        }
        return s
    }

    /// "256m", "1g", "512" (MiB; ``ByteSize`` with MiB for a bare number): whole MiB.
    static func parseMemory(_ text: String) throws(IntermodalError) -> Int {
        guard let bytes = ByteSize.parse(text, bareUnit: 1 << 20), bytes % (1 << 20) == 0, let mib = Int(exactly: bytes >> 20) else {
            throw IntermodalError(.invalidArgument, "--memory '\(text)': use a whole number of MiB, with m or g (256m, 1g)")
        }
        return mib
    }

    static func parseNetwork(_ text: String) throws(IntermodalError) -> DomainDefinition.Network {
        switch text {
        case "none": return .none
        case "user": return .user
        // The containers' bridge by default, so guests and containers can share a network.
        case "bridge": return .bridge("intermodal0")
        case let b where b.hasPrefix("bridge:") && b.count > 7: return .bridge(String(b.dropFirst(7)))
        default: throw IntermodalError(.invalidArgument, "--network '\(text)': use none, user, bridge (intermodal0) or bridge:NAME")
        }
    }
}

/// `intermodal vm image [NAME]`: the Debian image full guests boot.
struct VMImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Make the Debian image of full guests (debootstrap minbase + kernel, initramfs, systemd, qemu-guest-agent).")
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Debian suite.") var suite = "bookworm"
    @Option(name: .long, help: "Mirror (default: the host's apt source for the suite).") var mirror: String?
    @Option(name: .long, help: "Another package to install (repeatable).") var include: [String] = []
    @Argument(help: "NAME[:TAG] of the new image.") var name = "debian-full:bookworm"

    func run() async throws {
        let store = try ImageCommands.store(global)
        let image = try await FullGuestImage.bootstrap(
            store: store, name: try ImageReference.parse(name), suite: suite, mirror: mirror, extraPackages: include)
        StandardStreams.writeOutput("\(image.configDigest)\n")
    }
}

/// `intermodal vm ps`
struct VMPsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List running guests of ours.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: VMConnectionOptions
    @Flag(name: .shortAndLong, help: "Only names.") var quiet = false

    func run() async throws {
        let guests = try GuestInventory.list(uri: connection.uri, stateRoot: connection.stateRoot(global))
        if quiet {
            StandardStreams.writeOutput(guests.map { $0.name + "\n" }.joined())
            return
        }
        StandardStreams.writeOutput(TextTable.render(
            ["NAME", "ID", "OWNER PID"],
            guests.map { [$0.name, $0.id.map(String.init) ?? "-", $0.owner.map(String.init) ?? "-"] }))
    }
}

/// `intermodal vm rm NAME...`
struct VMRmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "End guests and remove their disks.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: VMConnectionOptions
    @Flag(name: .shortAndLong, help: "Every guest of ours.") var all = false
    @Argument(help: "Guest names.") var names: [String] = []

    func run() async throws {
        let root = connection.stateRoot(global)
        var targets = names
        if all { targets += try GuestInventory.list(uri: connection.uri, stateRoot: root).map(\.name) }
        guard all || !targets.isEmpty else { throw IntermodalError(.invalidArgument, "vm rm: name a guest or give --all") }
        for name in Set(targets).sorted() {
            try GuestInventory.remove(name: name, uri: connection.uri, stateRoot: root)
            StandardStreams.writeOutput(name + "\n")
        }
        // --all also means the disks of guests that are gone and whose runs died (kill -9): with
        // no guest running at all, that is all there is to remove.
        if all {
            for name in GuestInventory.pruneStale(uri: connection.uri, stateRoot: root) { StandardStreams.writeOutput(name + "\n") }
        }
    }
}
