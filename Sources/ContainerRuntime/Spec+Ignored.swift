#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

extension Spec {
    /// The fields of this configuration that this runtime accepts without applying them, each as
    /// "`source`: field: ignored: why". `create` logs every one as a warning; the README's runtime
    /// section lists them next to what runc and crun do. Only fields the specification lets a
    /// runtime ignore, or that mean nothing on this host, are here; the rest are applied or refused
    /// by ``validate(source:)``.
    public func ignoredFields(source: String = "config.json") -> [String] {
        var out: [String] = []
        func ignored(_ field: String, _ why: String) { out.append("\(source): \(field): ignored: \(why)") }
        let linux = self.linux ?? Linux()
        if let m = linux.resources?.memory {
            if m.kernel != nil {
                ignored("linux.resources.memory.kernel", "kernel memory limits are obsolete in Linux (since 5.4; cgroup v2 has none) and the specification deprecates the field")
            }
            if m.kernelTCP != nil {
                ignored("linux.resources.memory.kernelTCP", "TCP buffer limits exist only in cgroup v1 and are not applied by this runtime (the specification marks the field NOT RECOMMENDED)")
            }
        }
        if let l = linux.mountLabel, !l.isEmpty, !HostSecurity.selinuxEnabled {
            ignored("linux.mountLabel", "SELinux is not enabled on this host")
        }
        if let l = process?.selinuxLabel, !l.isEmpty, !HostSecurity.selinuxEnabled {
            ignored("process.selinuxLabel", "SELinux is not enabled on this host")
        }
        if !sharesHostMountNamespace { return out }
        // Without a mount namespace of its own the container is only chrooted into root.path (as
        // crun does): mounting anything would change the host's mount table.
        let why = "the container has no mount namespace of its own (linux.namespaces has no \"mount\"), so it would change the host's mounts"
        if !(mounts ?? []).isEmpty { ignored("mounts", why) }
        if !(linux.maskedPaths ?? []).isEmpty { ignored("linux.maskedPaths", why) }
        if !(linux.readonlyPaths ?? []).isEmpty { ignored("linux.readonlyPaths", why) }
        if let p = linux.rootfsPropagation, !p.isEmpty { ignored("linux.rootfsPropagation", why) }
        if root?.readonly == true { ignored("root.readonly", why) }
        if !(linux.devices ?? []).isEmpty {
            ignored("linux.devices", "the container has no mount namespace of its own, so there is no /dev of its own to create them in (the device cgroup still applies)")
        }
        return out
    }

    /// True when `linux.namespaces` has no mount namespace, new or joined: the container process
    /// stays in the runtime's mount namespace.
    var sharesHostMountNamespace: Bool {
        !(linux?.namespaces ?? []).contains { $0.type == "mount" }
    }
}

/// The Linux security modules this host runs, read once per process.
enum HostSecurity {
    /// SELinux is enabled when its file system is mounted (what libselinux's is_selinux_enabled checks).
    static let selinuxEnabled: Bool = {
        var st = stat()
        return stat("/sys/fs/selinux/enforce", &st) == 0
    }()
}
