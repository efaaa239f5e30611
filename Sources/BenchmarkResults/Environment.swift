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
    /// True when the measuring host is itself a guest (a hypervisor CPUID bit, DMI naming one):
    /// its KVM is nested, and its figures must never pass for bare metal. Nil: not recorded.
    public var nestedHost: Bool?

    public init(hostName: String, cpuModel: String, cpuCount: Int, memoryBytes: Int64, kernel: String,
                distribution: String, cgroupMode: String, accelerator: String, acceleratorDetail: String?,
                versions: [String: String], gitCommit: String?) {
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
    }
}
