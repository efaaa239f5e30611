/// The host a results file was measured on: what a reader needs to judge whether two files compare.
public struct Environment: Codable, Sendable, Equatable {
    public var hostName: String
    public var cpuModel: String
    public var cpuCount: Int
    public var memoryBytes: Int64
    public var kernel: String
    public var distribution: String
    /// `v1`, `v2` or `hybrid`.
    public var cgroupMode: String
    /// What guests ran under: `kvm`, or `tcg` (software emulation) when KVM does not work here.
    public var accelerator: String
    /// Why (the KVM probe's own words).
    public var acceleratorDetail: String?
    /// Tool versions by name (`qemu`, `libvirt`, `runc`, `crun`, `podman`, `docker`, `intermodal`).
    public var versions: [String: String]
    /// The project's git commit, when run from a checkout.
    public var gitCommit: String?
    /// What the measuring host sees of being a virtual machine itself ("this host is itself a
    /// virtual machine: hypervisor CPUID bit; ..."), nil where it sees nothing. With `accelerator`
    /// `kvm` it marks nested KVM: figures that must not pass for bare metal.
    public var hostVirtualization: String?

    /// How the suite's guests were shaped (nil in files from before it was recorded).
    public var guestShape: GuestShape?

    /// Guests ran under KVM on a host that is itself a guest.
    public var nestedKVM: Bool { accelerator == "kvm" && hostVirtualization != nil }

    public init(hostName: String, cpuModel: String, cpuCount: Int, memoryBytes: Int64, kernel: String,
                distribution: String, cgroupMode: String, accelerator: String, acceleratorDetail: String?,
                versions: [String: String], gitCommit: String?, hostVirtualization: String? = nil) {
        self.hostName = hostName
        self.cpuModel = cpuModel
        self.cpuCount = cpuCount
        self.memoryBytes = memoryBytes
        self.kernel = kernel
        self.distribution = distribution
        self.cgroupMode = cgroupMode
        self.accelerator = accelerator
        self.acceleratorDetail = acceleratorDetail
        self.versions = versions
        self.gitCommit = gitCommit
        self.hostVirtualization = hostVirtualization
    }
}

/// What a guest's figures depend on besides the accelerator: its CPUs, memory, machine type,
/// disk bus and cache mode, and the CPU model KVM gave it.
public struct GuestShape: Codable, Sendable, Equatable {
    public var vcpus: Int
    /// The suite's guest memory (a backend that needs more says so in its adjustments).
    public var memoryMiB: Int
    public var machine: String
    public var diskBus: String
    public var diskCache: String
    /// `host-passthrough` or a named model under KVM; nil under TCG, which emulates its own.
    public var cpuMode: String?

    public init(vcpus: Int, memoryMiB: Int, machine: String, diskBus: String, diskCache: String, cpuMode: String?) {
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
        self.machine = machine
        self.diskBus = diskBus
        self.diskCache = diskCache
        self.cpuMode = cpuMode
    }

    /// "1 vCPU, 256 MiB, machine pc, virtio disk (cache unsafe), CPU host-passthrough".
    public var description: String {
        "\(vcpus) vCPU, \(memoryMiB) MiB, machine \(machine), \(diskBus) disk (cache \(diskCache))"
            + (cpuMode.map { ", CPU \($0)" } ?? "")
    }
}
