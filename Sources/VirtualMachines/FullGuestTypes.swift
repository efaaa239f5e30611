import IntermodalCore
import SystemPackage

/// Phases of a full-OS guest on the host's monotonic clock, besides ``Phase/create``,
/// ``Phase/domainCreate``, ``Phase/domainStarted``, ``Phase/kernelStart``, ``Phase/commandStart``,
/// ``Phase/commandEnd``, ``Phase/exit``, ``Phase/domainDestroyed`` and ``Phase/cleanup``.
extension Phase {
    /// The first byte on the guest's serial console reached its log (GRUB's first output for a
    /// firmware boot, the kernel's for a direct one); seen by polling the log every 10 ms.
    public static let consoleFirstByte = Phase("consoleFirstByte")
    /// The guest agent first answered `guest-ping`: the guest can take commands.
    public static let agentReady = Phase("agentReady")
    /// systemd (PID 1 of the installed system) started, from systemd's own clock (derived).
    public static let userspaceStart = Phase("userspaceStart")
    /// systemd finished the boot transaction (`systemd-analyze`'s end; derived).
    public static let bootFinished = Phase("bootFinished")
}

/// How one full-OS guest is set up.
public struct FullGuestConfiguration: Sendable {
    /// Debian with systemd wants more than the micro guest's 256 MiB.
    public var memoryMiB: Int = 512
    public var vcpus: Int = 1
    public var accelerator: AcceleratorChoice = .auto
    /// The libvirt URI (memory figures need a local QEMU).
    public var uri: String = "qemu:///system"
    /// Per-guest files (overlay, console log) live under here.
    public var stateRoot: FilePath = IntermodalPaths.storeRoot().appending("vms")
    /// The built disks (and the KVM probe) are cached under here.
    public var cacheRoot: FilePath = IntermodalPaths.cacheRoot
    /// Firmware and GRUB, or direct kernel boot of the guest's own kernel.
    public var boot: FullGuestImage.BootChoice = .auto
    /// How long the guest may take until its agent answers (a TCG boot takes tens of seconds).
    public var bootTimeout: Duration = .seconds(300)
    /// How long a command may run (nil: no limit).
    public var commandTimeout: Duration?
    /// How often a running command's state is asked for (each ask is one agent round trip).
    public var pollInterval: Duration = .milliseconds(20)
    /// A NIC (virtio) on a host bridge, or none; the guest's address is set through the agent
    /// (``FullGuestInstance/configureNetwork(address:prefix:gateway:)``).
    public var network: DomainDefinition.Network = .none

    public init() {}
}

/// One command's run through the guest agent.
public struct GuestExecResult: Sendable, Codable {
    /// How the command ended.
    public var status: ExitStatus
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]
    /// The agent keeps at most 16 MiB per stream.
    public var outputTruncated: Bool
    /// ``Phase/create`` (the call), ``Phase/commandStart`` (`guest-exec` answered: the process
    /// runs), ``Phase/commandEnd``/``Phase/exit`` (`guest-exec-status` first said it exited) and
    /// ``Phase/firstOutput``: the agent hands output over only once the process has ended, so
    /// with any output it is the same instant as the end.
    public var timestamps: PhaseTimestamps
    /// The status poll interval: the end is known to within it.
    public var pollIntervalMilliseconds: Int
}

/// The boot as systemd inside the guest reports it, and as the host saw it.
public struct FullGuestBootPhases: Sendable, Codable, Equatable {
    public var bootMethod: FullGuestImage.BootMethod
    /// systemd's figures (`systemctl show` of the manager, what `systemd-analyze` prints), in
    /// microseconds. Firmware and loader times reach systemd only from an EFI boot loader; under
    /// SeaBIOS and GRUB (or direct boot) they are nil and the host's view below stands in.
    public var systemdFirmwareMicroseconds: Int64?
    public var systemdLoaderMicroseconds: Int64?
    /// Kernel start to the initrd's systemd, or to the root's systemd when the initramfs
    /// (Debian's initramfs-tools) runs no systemd: then it includes the initramfs.
    public var kernelMicroseconds: Int64
    public var initrdMicroseconds: Int64?
    public var userspaceMicroseconds: Int64
    /// `systemd-analyze`'s own summary line, as printed in the guest.
    public var systemdAnalyze: String
    /// Host view: domain started to the first console byte (firmware: SeaBIOS until GRUB prints).
    public var hostFirmwareMicroseconds: Int64?
    /// Host view: first console byte to the kernel's start (GRUB loading kernel and initramfs);
    /// nil for direct kernel boot, where the first byte is the kernel's own.
    public var hostLoaderMicroseconds: Int64?
    /// The kernel's start on the host clock is derived from the guest's uptime read through the
    /// agent: it is known to within this (half the round trip, plus /proc/uptime's 10 ms).
    public var kernelStartUncertaintyMicroseconds: Int64
}

/// Memory of a full guest at one moment.
public struct FullGuestMemory: Sendable, Codable, Equatable {
    /// QEMU's RSS and PSS (nil when QEMU is not on this host).
    public var qemu: ProcessMemory?
    /// The guest's own view (/proc/meminfo).
    public var guestMemTotalKiB: Int64?
    public var guestMemAvailableKiB: Int64?
}

/// What ``FullGuest/run(disk:command:)`` produced and measured.
public struct FullGuestResult: Sendable, Codable {
    /// How the command ended.
    public var status: ExitStatus
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]
    /// Boot and command phases on the host's monotonic clock (see the ``Phase`` extensions).
    public var timestamps: PhaseTimestamps
    public var accelerator: DomainDefinition.Accelerator
    /// Firmware + GRUB, or direct kernel boot (then no firmware or loader phase exists).
    public var bootMethod: FullGuestImage.BootMethod
    public var domainName: String
    public var bootPhases: FullGuestBootPhases?
    /// When the command ended, like the micro guest's figure.
    public var memoryAtCommandEnd: FullGuestMemory
    /// Once systemd had finished booting (the guest at rest).
    public var memoryAfterBoot: FullGuestMemory?
    /// The shared base disk (MBR + root partition) and this guest's qcow2 overlay, at the end.
    public var baseDisk: DiskSizes?
    public var overlayDisk: DiskSizes?
}
