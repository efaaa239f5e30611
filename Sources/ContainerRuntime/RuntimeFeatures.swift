import IntermodalCore

/// What this runtime implements, in the shape of the runtime-spec's features document (what
/// `runc features` prints, runtime-spec features.md), for engines that ask before they use a
/// field. Only what is implemented is listed: AppArmor, SELinux, Intel RDT, systemd cgroups,
/// seccomp notify and id-mapped mounts are not.
public struct RuntimeFeatures: Codable, Sendable, Equatable {
    public struct Cgroup: Codable, Sendable, Equatable { public var v1, v2, systemd, systemdUser, rdma: Bool }
    public struct Seccomp: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var actions, operators, archs, knownFlags, supportedFlags: [String]
    }
    public struct Enabled: Codable, Sendable, Equatable { public var enabled: Bool }
    public struct MountExtensions: Codable, Sendable, Equatable { public var idmap: Enabled }
    public struct Linux: Codable, Sendable, Equatable {
        public var namespaces, capabilities: [String]
        public var cgroup: Cgroup
        public var seccomp: Seccomp
        public var apparmor, selinux, intelRdt: Enabled
        public var mountExtensions: MountExtensions
    }
    public var ociVersionMin, ociVersionMax: String
    public var hooks, mountOptions: [String]
    public var linux: Linux
    public var annotations: [String: String]

    /// This runtime's features on this host (capabilities: those the kernel knows).
    public static func current(version: String) -> RuntimeFeatures {
        let actions = SpecNames.seccompActions.subtracting(["SCMP_ACT_NOTIFY"]).sorted()
        let flags = SpecNames.seccompFlags.sorted()
        return RuntimeFeatures(
            ociVersionMin: "1.0.0", ociVersionMax: "1.2.0",
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: MountOptions.supported,
            linux: Linux(
                namespaces: SpecNames.namespaceFlags.keys.sorted(), capabilities: Capabilities.all,
                cgroup: Cgroup(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: Seccomp(
                    enabled: true, actions: actions, operators: SpecNames.seccompOperators.sorted(),
                    archs: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
                    knownFlags: flags, supportedFlags: flags),
                apparmor: Enabled(enabled: false), selinux: Enabled(enabled: false), intelRdt: Enabled(enabled: false),
                mountExtensions: MountExtensions(idmap: Enabled(enabled: false))),
            annotations: ["org.opencontainers.intermodal.runtime.version": version])
    }
}
