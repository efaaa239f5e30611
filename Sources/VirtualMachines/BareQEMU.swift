#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The yardstick for our libvirt path: the same kernel ELF, initramfs, disk overlay and devices
/// booted by `qemu-system-x86_64` directly (no libvirt), timed the same way.
public enum BareQEMU {
    /// What a bare boot measured (host monotonic clock).
    public struct Result: Sendable {
        public var timestamps: PhaseTimestamps
        public var status: ExitStatus
        public var standardOutput: [UInt8]
    }

    /// Prepares like ``VirtualMachine/run(disk:command:output:)`` (overlay, initramfs), then
    /// spawns QEMU with the equivalent device set and reads the same channel. `.create` is the
    /// entry of this call; `.domainCreate` the spawn.
    public static func run(
        configuration cfg: VirtualMachineConfiguration, disk: VirtualMachine.DiskSource,
        command: GuestInitramfs.RunConfiguration, accelerator: DomainDefinition.Accelerator = .tcg,
        timeout: Duration = .seconds(120)
    ) async throws(IntermodalError) -> Result {
        var marks = PhaseTimestamps()
        marks.mark(.create)
        let kernel = try GuestKernel.locate(preferred: cfg.kernel)
        let elf = try await kernel.decompressedELF(cacheRoot: cfg.cacheRoot)
        let qemu = try await QEMUBinary.locate(cacheRoot: cfg.cacheRoot)
        let base = try await GuestDisk.base(key: disk.key, cacheRoot: cfg.cacheRoot, populate: disk.populate)
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bare-qemu")
        defer { try? FileSystem.removeTree(dir) }
        let overlay = dir.appending("disk.qcow2")
        try await GuestDisk.createOverlay(base: base, at: overlay)
        let initrd = dir.appending("initrd.cpio")
        try VirtualMachine.write(try GuestInitramfs.build(kernel: kernel, initBinary: GuestInitramfs.locateInit(), run: command, cacheRoot: cfg.cacheRoot), to: initrd)
        let socketPath = dir.appending("channel.sock")
        let listener = try listen(at: socketPath)
        defer { close(listener) }
        let args = [
            qemu.path.string, "-name", "intermodal-bare", "-machine", "pc,usb=off",
            "-m", "\(cfg.memoryMiB)", "-smp", "\(cfg.vcpus)", "-nodefaults", "-no-user-config", "-display", "none",
            "-kernel", elf.string, "-initrd", initrd.string, "-append", VirtualMachine.commandLine(cfg),
            "-drive", "file=\(overlay.string),if=none,id=d0,format=qcow2,cache=unsafe",
            "-device", "virtio-blk-pci,drive=d0",
            "-serial", "file:\(dir.appending("console.log").string)",
            "-device", "virtio-serial-pci", "-chardev", "socket,id=c0,path=\(socketPath.string)",
            "-device", "virtserialport,chardev=c0,name=\(DomainDefinition.channelName)",
        ]
        // As in our domain XML: KVM with the host CPU, or TCG with QEMU's default CPU model.
        let accel = accelerator == .kvm ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg"]
        marks.mark(.domainCreate)
        let pid = try spawn(Array(args.prefix(1)) + accel + args.dropFirst())
        defer {
            kill(pid, SIGKILL)
            DedicatedThread.start { var status: Int32 = 0; waitpid(pid, &status, 0) }
        }
        marks.mark(.domainStarted)
        let connected = await DedicatedThread.run {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            return poll(&pfd, 1, 30_000) == 1
        }
        guard connected else { throw IntermodalError(.timeout, "bare QEMU did not connect to \(socketPath)") }
        let conn = accept(listener, nil, nil)
        guard conn >= 0 else { throw .system("accept on \(socketPath)") }
        let channel = GuestChannel(connected: conn)
        defer { channel.close() }
        var report = GuestReport(marks: marks, outputLimit: cfg.outputLimit)
        let deadline = MonotonicInstant.now.nanoseconds + UInt64(timeout.components.seconds) * 1_000_000_000
        while MonotonicInstant.now.nanoseconds < deadline {
            switch try await channel.nextEvent(timeoutMilliseconds: 200) {
            case .none: continue
            case .closed: throw IntermodalError(.externalFailure, "bare QEMU guest stopped without an exit report")
            case .frame(let type, let payload):
                try report.apply(type: type, payload: payload, received: .now, output: nil)
                if let exit = report.exit {
                    return Result(timestamps: report.marks, status: exit, standardOutput: report.standardOutput)
                }
            }
        }
        throw IntermodalError(.timeout, "bare QEMU guest did not finish within \(timeout.formattedSeconds)")
    }

    static func listen(at path: FilePath) throws(IntermodalError) -> Int32 {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw .system("socket") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.string.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b } }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0, Glibc.listen(s, 1) == 0 else { close(s); throw .system("cannot listen on \(path)") }
        return s
    }

    /// Spawns a program with stdin and stdout on /dev/null and stderr to `stderr` (for tests that
    /// signal a running `intermodal`).
    static func spawnForTest(_ args: [String], stderr: FilePath) throws(IntermodalError) -> pid_t {
        try spawn(args, stderr: stderr)
    }

    static func spawn(_ args: [String], stderr: FilePath? = nil) throws(IntermodalError) -> pid_t {
        var pid: pid_t = 0
        var cargs = args.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        if let stderr { posix_spawn_file_actions_addopen(&actions, 2, stderr.string, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        let rc = posix_spawn(&pid, args[0], &actions, nil, &cargs, environ)
        guard rc == 0 else { throw .system("cannot start \(args[0])", errno: rc) }
        return pid
    }
}
