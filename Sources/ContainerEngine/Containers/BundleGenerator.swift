import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// Turns an image's configuration plus `run` flags into the OCI runtime config (`config.json`).
enum BundleGenerator {

    /// Docker's default capability set: what `apt-get` (drops to `_apt`), `ping` (raw sockets) and
    /// `chown` need, without the dangerous ones (SYS_ADMIN, NET_ADMIN, ...).
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    static func spec(
        id: String, process instance: InstanceProcess, options: RunOptions,
        user: ResolvedUser, directory: ContainerDirectory?, readOnlyRootfs: Bool = false
    ) -> Spec {
        let args = instance.arguments
        var spec = Spec.default(rootfs: "rootfs", args: args)
        spec.hostname = instance.hostname
        spec.root = Spec.Root(path: "rootfs", readonly: readOnlyRootfs)
        var process = spec.process ?? Spec.Process(args: args)
        process.args = args
        process.env = instance.environment
        process.cwd = instance.workingDirectory
        // An explicit umask (runc's default): the process must not inherit whatever this process has.
        process.user = Spec.User(uid: user.uid, gid: user.gid, umask: 0o022, additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids)
        process.terminal = instance.terminal
        // Docker's default: setuid programs (su, ping on some images) keep working.
        process.noNewPrivileges = false
        process.capabilities = Spec.Capabilities(
            bounding: defaultCapabilities, effective: defaultCapabilities, permitted: defaultCapabilities)
        spec.process = process

        var mounts = spec.mounts ?? []
        // The engine's own /etc files; a bundle for another runtime (no directory) keeps the image's.
        if let directory {
            for (file, source) in [("/etc/resolv.conf", directory.resolvConf), ("/etc/hosts", directory.hosts), ("/etc/hostname", directory.hostname)] {
                mounts.append(Spec.Mount(destination: file, type: "bind", source: source.string, options: ["rbind", "rprivate"]))
            }
        }
        for volume in options.volumes {
            mounts.append(Spec.Mount(
                destination: volume.destination, type: "bind", source: volume.source,
                options: ["rbind", "rprivate"] + (volume.readOnly ? ["ro"] : [])))
        }
        spec.mounts = mounts

        var linux = spec.linux ?? Spec.Linux()
        var namespaces = (linux.namespaces ?? []).filter { $0.type != "network" }
        if options.network != .host { namespaces.append(Spec.Namespace(type: "network")) }
        linux.namespaces = namespaces
        // Flat and recognisable: one cgroup per container, named after the project.
        linux.cgroupsPath = "/intermodal-\(id.prefix(12))"
        var resources = linux.resources ?? Spec.LinuxResources()
        if let limit = options.memoryLimit { resources.memory = Spec.Memory(limit: limit) }
        if let cpus = options.cpus {
            let period: UInt64 = 100_000
            var cpu = Spec.CPU()
            cpu.quota = Int64((cpus * Double(period)).rounded())
            cpu.period = period
            resources.cpu = cpu
        }
        if let pids = options.pidsLimit { resources.pids = Spec.Pids(limit: pids) }
        linux.resources = resources
        spec.linux = linux
        return spec
    }
}
