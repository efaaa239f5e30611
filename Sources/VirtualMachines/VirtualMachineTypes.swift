import IntermodalCore
import SystemPackage

/// Phases a guest run records besides the common ones. Of those, `.create` is the entry of
/// ``VirtualMachine/run(disk:command:output:)``, `.start` the command's start in the guest (the
/// counterpart of a container's process being released), `.firstOutput` the first byte of its
/// output, `.exit` its end as the init reported it, `.cleanup` the moment domain and disk are gone.
extension Phase {
    /// `virDomainCreateXML` was called (disk, initramfs and XML ready).
    public static let domainCreate = Phase("domainCreate")
    /// `virDomainCreateXML` returned: QEMU runs.
    public static let domainStarted = Phase("domainStarted")
    /// The guest kernel started (derived: receipt of the init's hello minus the guest's uptime then).
    public static let kernelStart = Phase("kernelStart")
    /// The guest init started (derived from the guest's clock, anchored on the hello frame).
    public static let initStart = Phase("initStart")
    /// The init's hello reached the host (modules loaded, channel up).
    public static let initHello = Phase("initHello")
    /// The command was started in the guest (host receipt of the init's report).
    public static let commandStart = Phase("commandStart")
    /// The command ended in the guest (host receipt of the init's report; `.exit` is the same instant).
    public static let commandEnd = Phase("commandEnd")
    /// `virDomainDestroy` returned: QEMU is gone.
    public static let domainDestroyed = Phase("domainDestroyed")
}

/// Which accelerator to ask for.
public enum AcceleratorChoice: String, Sendable, Codable, CaseIterable {
    /// KVM when the doctor's probe found it working, TCG otherwise.
    case auto, kvm, tcg
}

/// How one guest is set up.
public struct VirtualMachineConfiguration: Sendable {
    public var memoryMiB: Int = 256
    public var vcpus: Int = 1
    public var accelerator: AcceleratorChoice = .auto
    public var network: DomainDefinition.Network = .none
    /// The libvirt URI (a remote host works for the domain; memory figures need a local QEMU).
    public var uri: String = "qemu:///system"
    /// Per-guest files (overlay, initramfs, channel socket, console log) live under here.
    public var stateRoot: FilePath = IntermodalPaths.storeRoot().appending("vms")
    /// Cached kernel ELFs and base disks.
    public var cacheRoot: FilePath = IntermodalPaths.cacheRoot
    /// A kernel to boot instead of the newest `/boot/vmlinuz-*`.
    public var kernel: FilePath?
    /// Boot the compressed bzImage through the firmware instead of the PVH ELF (slower; for comparison).
    public var bootCompressedKernel = false
    /// eth0's address ("10.88.0.50/16") and gateway: needed for a bridge; user-mode networking
    /// defaults to QEMU's fixed plan (10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3).
    public var address: String?
    public var gateway: String?
    /// The guest's /etc/resolv.conf nameserver (user-mode networking: 10.0.2.3).
    public var nameserver: String?
    /// How the init reports to the host.
    public enum ReportChannel: String, Sendable { case virtioSerial, console }
    /// The virtio-serial port (fast, separate from the console), or the serial console only
    /// (for kernels without virtio_console; the init also falls back to it by itself).
    public var reportChannel: ReportChannel = .virtioSerial
    /// Have the guest init time its steps; the lines are logged at debug level.
    public var debugGuest = false
    /// Extra kernel command-line arguments, after ours.
    public var kernelArguments: [String] = []
    /// How long the guest may take to report from its init, in CPU time QEMU spends on the boot
    /// (wall time where QEMU's pid is unknown); see `VirtualMachine.initOverdue`.
    public var initTimeout: Duration = .seconds(60)
    /// How long the command may run (nil: no limit).
    public var commandTimeout: Duration?
    /// Output kept in the result per stream (output is streamed to the handler in full).
    public var outputLimit = 16 << 20

    public init() {}
}

/// Which stream a chunk of guest output came from.
public enum GuestStream: Sendable { case standardOutput, standardError }

/// What a guest run produced and measured.
public struct VirtualMachineResult: Sendable, Codable {
    /// How the command ended.
    public var status: ExitStatus
    /// The command's output as captured (up to ``VirtualMachineConfiguration/outputLimit`` per stream).
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]
    /// Host monotonic receive times (see ``Phase`` extensions).
    public var timestamps: PhaseTimestamps
    /// The accelerator the guest ran under ("tcg" is software emulation).
    public var accelerator: DomainDefinition.Accelerator
    public var domainName: String
    /// QEMU's RSS/PSS read when the command ended (nil when QEMU is not on this host).
    public var qemuMemory: ProcessMemory?
    /// The guest's own view (/proc/meminfo) when the command ended.
    public var guestMemTotalKiB: Int64?
    public var guestMemAvailableKiB: Int64?
    public var baseDisk: DiskSizes?
    public var overlayDisk: DiskSizes?
    /// Guest-clock (CLOCK_MONOTONIC in the guest) times of init start, modules loaded, command start and end.
    public var guestClock: [String: UInt64]
}
