import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// Turns an image's configuration plus `run` flags into the OCI runtime config (`config.json`).
enum BundleGenerator {
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Docker's default capability set: what `apt-get` (drops to `_apt`), `ping` (raw sockets) and
    /// `chown` need, without the dangerous ones (SYS_ADMIN, NET_ADMIN, ...).
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// The entrypoint and command a container runs: flags override the image.
    static func command(image: ImageConfiguration, options: RunOptions) throws(IntermodalError) -> (entrypoint: [String], command: [String]) {
        let entrypoint = options.entrypoint ?? image.config?.entrypoint ?? []
        var command = options.command
        // Docker: a new entrypoint drops the image's Cmd; otherwise the image's Cmd is the default.
        if command.isEmpty && options.entrypoint == nil { command = image.config?.cmd ?? [] }
        guard !(entrypoint + command).isEmpty else {
            throw IntermodalError(.invalidArgument, "no command specified: the image has no Cmd or Entrypoint; give one after the image name")
        }
        return (entrypoint, command)
    }

    /// The environment: the image's `Env`, then `-e` values (replacing by name), `PATH` if missing.
    static func environment(image: ImageConfiguration, extra: [String], hostname: String, tty: Bool) -> [String] {
        var env = OrderedEnvironment(image.config?.env ?? [])
        if env["PATH"] == nil { env["PATH"] = defaultPath }
        env["HOSTNAME"] = hostname
        if tty && env["TERM"] == nil { env["TERM"] = "xterm" }
        for item in extra {
            if let eq = item.firstIndex(of: "=") {
                env[String(item[..<eq])] = String(item[item.index(after: eq)...])
            } else if let value = getenvString(item) {
                env[item] = value     // `-e NAME` passes the host's value, as Docker does
            }
        }
        return env.entries
    }

    static func spec(
        id: String, hostname: String, image: ImageConfiguration, options: RunOptions,
        args: [String], user: ResolvedUser, directory: ContainerDirectory, readOnlyRootfs: Bool = false
    ) -> Spec {
        var spec = Spec.default(rootfs: "rootfs", args: args)
        spec.hostname = hostname
        spec.root = Spec.Root(path: "rootfs", readonly: readOnlyRootfs)
        var process = spec.process ?? Spec.Process(args: args)
        process.args = args
        process.env = environment(image: image, extra: options.environment, hostname: hostname, tty: options.tty)
        process.cwd = workingDirectory(image: image, options: options)
        // An explicit umask (runc's default): the process must not inherit whatever this process has.
        process.user = Spec.User(uid: user.uid, gid: user.gid, umask: 0o022, additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids)
        process.terminal = options.tty
        // Docker's default: setuid programs (su, ping on some images) keep working.
        process.noNewPrivileges = false
        process.capabilities = Spec.Capabilities(
            bounding: defaultCapabilities, effective: defaultCapabilities, permitted: defaultCapabilities)
        spec.process = process

        var mounts = spec.mounts ?? []
        for (file, source) in [("/etc/resolv.conf", directory.resolvConf), ("/etc/hosts", directory.hosts), ("/etc/hostname", directory.hostname)] {
            mounts.append(Spec.Mount(destination: file, type: "bind", source: source.string, options: ["rbind", "rprivate"]))
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

    /// `-w`, else the image's `WorkingDir`, else `/`; relative paths are taken from `/`.
    static func workingDirectory(image: ImageConfiguration, options: RunOptions) -> String {
        let dir = options.workingDirectory ?? image.config?.workingDir ?? "/"
        if dir.isEmpty { return "/" }
        return dir.hasPrefix("/") ? dir : "/" + dir
    }
}

/// `KEY=VALUE` entries that keep their order and replace by key.
struct OrderedEnvironment {
    private(set) var entries: [String]

    init(_ entries: [String]) { self.entries = [] ; for e in entries { append(e) } }

    private mutating func append(_ entry: String) {
        let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
        self[key] = entry.contains("=") ? String(entry.drop { $0 != "=" }.dropFirst()) : ""
    }

    subscript(key: String) -> String? {
        get {
            for e in entries where e.hasPrefix(key + "=") { return String(e.dropFirst(key.count + 1)) }
            return nil
        }
        set {
            let index = entries.firstIndex { $0.hasPrefix(key + "=") }
            if let newValue {
                if let index { entries[index] = "\(key)=\(newValue)" } else { entries.append("\(key)=\(newValue)") }
            } else if let index {
                entries.remove(at: index)
            }
        }
    }

    /// As a dictionary, for variable expansion in `build`.
    var dictionary: [String: String] {
        var d: [String: String] = [:]
        for e in entries {
            let parts = e.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            d[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return d
    }
}
