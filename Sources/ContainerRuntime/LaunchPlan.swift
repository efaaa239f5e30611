#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import IntermodalCore
import SystemPackage

/// A validated Spec turned into the C shim's `ims_config`, with everything resolved against the
/// bundle and the host (rootfs path, bind sources, capability masks, sysctl paths).
struct LaunchPlan {
    let arena = CArena()
    var config: ims_config = {
        var c = ims_config()
        c.cgroup_fd = -1
        c.exec_root_fd = -1
        return c
    }()
    var joins: [(type: Int32, path: String)] = []
    var newUserNamespace = false
    var uidMappings: [Spec.IDMapping] = []
    var gidMappings: [Spec.IDMapping] = []
    var oomScoreAdj: Int?
    var rootfs: String = "/"
    var prestart: [Spec.Hook] = []
    var createRuntime: [Spec.Hook] = []
    /// Descriptors we opened for the child (e.g. /dev/null) and must close after spawning.
    var ownedDescriptors: [Int32] = []

    static let msRec: UInt = 16384, msSlave: UInt = 1 << 19, msPrivate: UInt = 1 << 18
    static let msShared: UInt = 1 << 20, msUnbindable: UInt = 1 << 17

    /// Lets the child join `cgroup` itself (see CLinuxShim.h); returns the descriptors to close
    /// after spawning.
    mutating func join(_ cgroup: Cgroup) -> [Int32] {
        let unified = cgroup.unifiedPath
        let v1 = cgroup.paths.filter { $0 != unified }.map { $0.appending("tasks").string }
        var fds: [Int32] = []
        var names: [String] = []
        for path in v1 {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }   // the parent adds the process instead (see Launcher)
            fds.append(fd)
            names.append(path)
        }
        config.cgroup_tasks = arena.list(names)
        config.cgroup_task_fds = arena.array(fds)
        config.cgroup_task_count = Int32(fds.count)
        let fd = unified.map { open($0.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } ?? -1
        config.cgroup_fd = fd
        if fds.count != v1.count { config.cgroup_task_count = 0 }   // all or nothing
        return fds + (fd >= 0 ? [fd] : [])
    }

    /// Builds the plan of a new container.
    init(spec: Spec, bundle: FilePath, stateDirectory: FilePath, io: ProcessIO, seccomp: SeccompProgram?) throws(IntermodalError) {
        guard let process = spec.process else {
            throw IntermodalError(.invalidArgument, "config.json: process: required to create a container")
        }
        let linux = spec.linux ?? Spec.Linux()
        // Root.
        let rootPath = spec.root?.path ?? "rootfs"
        let rootfs = rootPath.hasPrefix("/") ? FilePath(rootPath) : bundle.appending(rootPath)
        guard FileSystem.isDirectory(rootfs) else {
            throw IntermodalError(.notFound, "config.json: root.path: \(rootfs) does not exist or is not a directory")
        }
        self.rootfs = LaunchPlan.realPath(rootfs.string)
        config.rootfs = arena.string(self.rootfs)
        config.rootfs_readonly = spec.root?.readonly == true && !spec.sharesHostMountNamespace ? 1 : 0
        config.state_dir = arena.string(stateDirectory.string)

        // Namespaces.
        var flags: Int32 = 0
        for ns in linux.namespaces ?? [] {
            let flag = SpecNames.namespaceFlags[ns.type]!
            if let path = ns.path {
                guard FileSystem.exists(FilePath(path)) else {
                    throw IntermodalError(.notFound, "config.json: linux.namespaces: \(ns.type) namespace path \(path) does not exist")
                }
                joins.append((flag, path))
            } else if ns.type == "cgroup" {
                config.unshare_cgroupns = 1
            } else {
                flags |= flag
            }
        }
        // The user namespace is joined first: it grants the rights to join the others.
        joins.sort { a, b in a.type == 0x1000_0000 && b.type != 0x1000_0000 }
        newUserNamespace = flags & 0x1000_0000 != 0
        if newUserNamespace {
            uidMappings = linux.uidMappings ?? []
            gidMappings = linux.gidMappings ?? []
        }
        config.clone_flags = flags
        config.setup_loopback = flags & 0x4000_0000 != 0 ? 1 : 0
        try applyProcess(process, io: io)

        // Hostname and domain name.
        config.hostname = arena.optionalString(spec.hostname.flatMap { $0.isEmpty ? nil : $0 })
        config.domainname = arena.optionalString(spec.domainname.flatMap { $0.isEmpty ? nil : $0 })

        // Without a mount namespace of its own the container is chrooted into its root and
        // nothing is mounted (Spec.ignoredFields lists what that leaves out).
        let chrootOnly = spec.sharesHostMountNamespace
        config.chroot_only = chrootOnly ? 1 : 0
        if !chrootOnly {
            config.root_propagation = LaunchPlan.preparationPropagation(linux.rootfsPropagation)
            if let p = linux.rootfsPropagation, !p.isEmpty {
                config.rootfs_propagation = LaunchPlan.propagationFlag(p)
            }
        }

        // Mounts.
        var mounts: [ims_mount] = []
        var devBound = false
        for (i, m) in (chrootOnly ? [] : spec.mounts ?? []).enumerated() {
            mounts.append(try mount(m, index: i, bundle: bundle))
            if m.destination == "/dev" && mounts.last!.bind != 0 { devBound = true }
        }
        config.mounts = arena.array(mounts)
        config.mount_count = Int32(mounts.count)
        config.create_devices = devBound || chrootOnly ? 0 : 1
        var devices: [ims_device] = []
        for d in chrootOnly ? [] : linux.devices ?? [] {
            var dev = ims_device()
            dev.path = arena.string(d.path)
            dev.type = CChar(UInt8(ascii: d.type == "u" ? "c" : Unicode.Scalar(d.type.utf8.first!)))
            dev.major = UInt32(truncatingIfNeeded: d.major ?? 0)
            dev.minor = UInt32(truncatingIfNeeded: d.minor ?? 0)
            dev.mode = d.fileMode ?? 0o666
            dev.uid = d.uid ?? 0
            dev.gid = d.gid ?? 0
            devices.append(dev)
        }
        config.devices = arena.array(devices)
        config.device_count = Int32(devices.count)
        let masked = chrootOnly ? [] : linux.maskedPaths ?? []
        let readonly = chrootOnly ? [] : linux.readonlyPaths ?? []
        config.masked = arena.list(masked)
        config.masked_count = Int32(masked.count)
        config.readonly = arena.list(readonly)
        config.readonly_count = Int32(readonly.count)
        var sysctls: [ims_sysctl] = []
        for (key, value) in (linux.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            var s = ims_sysctl()
            s.path = arena.string("/proc/sys/" + String(key.map { $0 == "." ? "/" : $0 }))
            s.value = arena.string(value)
            sysctls.append(s)
        }
        config.sysctls = arena.array(sysctls)
        config.sysctl_count = Int32(sysctls.count)
        if let p = linux.personality {
            config.set_personality = 1
            config.personality = p.domain == "LINUX32" ? 0x0008 : 0
        }

        // Hooks: prestart/createRuntime run in the parent, the other two in the child.
        prestart = spec.hooks?.prestart ?? []
        createRuntime = spec.hooks?.createRuntime ?? []
        config.sync_hooks = prestart.isEmpty && createRuntime.isEmpty ? 0 : 1
        let cc = hooks(spec.hooks?.createContainer ?? [])
        config.create_container_hooks = arena.array(cc)
        config.create_container_count = Int32(cc.count)
        let sc = hooks(spec.hooks?.startContainer ?? [])
        config.start_container_hooks = arena.array(sc)
        config.start_container_count = Int32(sc.count)

        oomScoreAdj = process.oomScoreAdj
        if let seccomp { setSeccomp(seccomp) }
        try finishJoins()
    }

    /// Builds the plan of an extra process joining the namespaces of container init `pid`.
    init(execIn pid: Int32, process: Spec.Process, io: ProcessIO, seccomp: SeccompProgram?) throws(IntermodalError) {
        config.exec_mode = 1
        let order: [(String, Int32)] = [
            ("user", 0x1000_0000), ("ipc", 0x0800_0000), ("uts", 0x0400_0000), ("net", 0x4000_0000),
            ("pid", 0x2000_0000), ("cgroup", 0x0200_0000), ("mnt", 0x0002_0000),
        ]
        for (file, flag) in order {
            var mine = stat(), theirs = stat()
            let path = "/proc/\(pid)/ns/\(file)"
            guard stat(path, &theirs) == 0 else {
                if file == "user" || file == "cgroup" { continue }
                throw .system("cannot read namespace \(path) of the container")
            }
            if stat("/proc/self/ns/\(file)", &mine) == 0 && mine.st_ino == theirs.st_ino {
                if file == "mnt" {
                    // The container shares our mount namespace (it was only chrooted): take its root.
                    let fd = open("/proc/\(pid)/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    guard fd >= 0 else { throw .system("cannot open the root of the container's process \(pid)") }
                    ownedDescriptors.append(fd)
                    config.exec_root_fd = fd
                }
                continue
            }
            joins.append((flag, path))
        }
        try applyProcess(process, io: io)
        if let seccomp { setSeccomp(seccomp) }
        try finishJoins()
    }

    private mutating func setSeccomp(_ program: SeccompProgram) {
        guard !program.bpf.isEmpty else { return }
        config.seccomp = arena.bytes(program.bpf)
        config.seccomp_len = program.bpf.count
        config.seccomp_flags = program.flags
    }

    private mutating func finishJoins() throws(IntermodalError) {
        var list: [ims_nspath] = []
        for j in joins {
            var n = ims_nspath()
            n.type = j.type
            n.path = arena.string(j.path)
            list.append(n)
        }
        config.join = arena.array(list)
        config.join_count = Int32(list.count)
    }

    private mutating func applyProcess(_ process: Spec.Process, io: ProcessIO) throws(IntermodalError) {
        let args = process.args ?? []
        let env = process.env ?? []
        config.argv = arena.vector(args)
        config.envp = arena.vector(env)
        let path = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
        config.path_env = arena.optionalString(path)
        config.cwd = arena.string(process.cwd)
        config.uid = process.user.uid
        config.gid = process.user.gid
        let gids = process.user.additionalGids ?? []
        config.additional_gids = arena.array(gids)
        config.additional_gid_count = Int32(gids.count)
        if let u = process.user.umask { config.set_umask = 1; config.umask = u }
        config.no_new_privs = process.noNewPrivileges == true ? 1 : 0
        config.cap_last = LaunchPlan.capLast
        if let caps = process.capabilities {
            config.set_caps = 1
            config.cap_bounding = LaunchPlan.mask(caps.bounding)
            config.cap_effective = LaunchPlan.mask(caps.effective)
            config.cap_permitted = LaunchPlan.mask(caps.permitted)
            config.cap_inheritable = LaunchPlan.mask(caps.inheritable)
            // The kernel raises an ambient capability only if it is permitted and inheritable;
            // `runc spec` lists ambient ones without inheritable, and runc skips those, so do we.
            config.cap_ambient = LaunchPlan.mask(caps.ambient) & config.cap_permitted & config.cap_inheritable
        }
        // rlimits: fail before cloning when a hard limit would be raised without CAP_SYS_RESOURCE.
        var rlimits: [ims_rlimit] = []
        let canRaise = LaunchPlan.haveCapability(24)
        for (i, r) in (process.rlimits ?? []).enumerated() {
            let resource = SpecNames.rlimits[r.type]!
            var current = rlimit()
            getrlimit(__rlimit_resource_t(UInt32(resource)), &current)
            if !canRaise && r.hard > UInt64(current.rlim_max) {
                throw IntermodalError(
                    .unsupported,
                    "config.json: process.rlimits[\(i)]: \(r.type) hard limit \(r.hard) is above the current hard limit \(current.rlim_max); raising it needs CAP_SYS_RESOURCE, which this runtime's bounding set lacks")
            }
            var l = ims_rlimit()
            l.resource = resource
            l.soft = r.soft
            l.hard = r.hard
            l.name = arena.string(r.type)
            rlimits.append(l)
        }
        config.rlimits = arena.array(rlimits)
        config.rlimit_count = Int32(rlimits.count)

        // Standard streams.
        config.stdio = (-1, -1, -1)
        let terminal = process.terminal == true
        switch io.mode {
        case .inherit:
            if terminal {
                throw IntermodalError(.invalidArgument, "config.json: process.terminal is true: a console socket (--console-socket) is needed")
            }
        case .descriptors(let i, let o, let e):
            guard !terminal else {
                throw IntermodalError(.invalidArgument, "config.json: process.terminal is true but standard streams were given as descriptors")
            }
            var fds = [i, o, e].map { $0 ?? -1 }
            if fds.contains(-1) {
                let null = open("/dev/null", O_RDWR | O_CLOEXEC)
                guard null >= 0 else { throw .system("cannot open /dev/null") }
                ownedDescriptors.append(null)
                fds = fds.map { $0 < 0 ? null : $0 }
            }
            config.stdio = (fds[0], fds[1], fds[2])
        case .consoleSocket(let path):
            guard terminal else {
                throw IntermodalError(.invalidArgument, "--console-socket was given but config.json's process.terminal is not true")
            }
            config.terminal = 1
            config.console_socket = arena.string(path.string)
        case .terminal:
            guard terminal else {
                throw IntermodalError(.invalidArgument, "a terminal was requested but config.json's process.terminal is not true")
            }
            config.terminal = 1
        }
        if let size = process.consoleSize {
            config.rows = UInt16(truncatingIfNeeded: size.height)
            config.cols = UInt16(truncatingIfNeeded: size.width)
        }
    }

    private func hooks(_ list: [Spec.Hook]) -> [ims_hook] {
        list.map { h in
            var c = ims_hook()
            c.path = arena.string(h.path)
            c.argv = arena.vector(h.args ?? [h.path])
            c.envp = arena.vector(h.env ?? [])
            c.timeout = Int32(h.timeout ?? 0)
            return c
        }
    }

    private func mount(_ m: Spec.Mount, index: Int, bundle: FilePath) throws(IntermodalError) -> ims_mount {
        var o = try MountOptions.parse(m.options ?? [])
        var c = ims_mount()
        var type = m.type
        var source = m.source
        if type == "bind" { o.bind = true; type = nil }
        if type == "cgroup" || type == "cgroup2" {
            // A cgroup2 host mounts its (namespaced) hierarchy; a v1/hybrid host shows its
            // cgroup tree read-only by a recursive bind.
            if LaunchPlan.hostIsCgroup2 {
                type = "cgroup2"
                source = "cgroup2"
            } else {
                type = nil
                source = "/sys/fs/cgroup"
                o.bind = true
                o.recursive = true
            }
        }
        if o.bind {
            guard let s = source, !s.isEmpty else {
                throw IntermodalError(.invalidArgument, "config.json: mounts[\(index)].source: a bind mount needs a source")
            }
            let abs = s.hasPrefix("/") ? s : bundle.appending(s).string
            guard FileSystem.exists(FilePath(abs)) else {
                throw IntermodalError(.notFound, "config.json: mounts[\(index)].source: \(abs) does not exist")
            }
            source = abs
        }
        c.source = arena.optionalString(source)
        c.destination = arena.string(m.destination)
        c.type = arena.optionalString(type)
        c.data = arena.optionalString(o.data.isEmpty ? nil : o.data.joined(separator: ","))
        c.flags = o.flags
        c.bind = o.bind ? 1 : 0
        c.recursive = o.recursive ? 1 : 0
        var props: [UInt] = Array(o.propagation.prefix(4))
        c.propagation_count = Int32(props.count)
        while props.count < 4 { props.append(0) }
        c.propagation = (props[0], props[1], props[2], props[3])
        return c
    }

    /// The propagation "/" gets before the root is bound on itself: a recursive slave (mounts
    /// made inside never reach the host), or recursively private when the container asked for a
    /// private or unbindable root. Never unbindable here: an unbindable mount cannot be the source
    /// of the bind (EINVAL); that flag is applied to the new root after pivot_root.
    static func preparationPropagation(_ requested: String?) -> UInt {
        switch requested {
        case "private", "rprivate", "unbindable", "runbindable": return msPrivate | msRec
        default: return msSlave | msRec
        }
    }

    static func propagationFlag(_ name: String) -> UInt {
        switch name {
        case "private": return msPrivate
        case "rprivate": return msPrivate | msRec
        case "shared": return msShared
        case "rshared": return msShared | msRec
        case "slave": return msSlave
        case "rslave": return msSlave | msRec
        case "unbindable": return msUnbindable
        case "runbindable": return msUnbindable | msRec
        default: return msSlave | msRec
        }
    }

    static func mask(_ names: [String]?) -> UInt64 {
        var m: UInt64 = 0
        for n in names ?? [] { if let i = SpecNames.capabilityNumber(n), i < 64 { m |= 1 << UInt64(i) } }
        return m
    }

    /// The highest capability number this kernel knows.
    static let capLast: Int32 = {
        let text = (try? FileSystem.readString("/proc/sys/kernel/cap_last_cap"))?.trimmed ?? "40"
        return Int32(text) ?? 40
    }()

    /// Whether our effective set holds capability `n` (from /proc/self/status CapEff).
    static func haveCapability(_ n: Int) -> Bool {
        guard let status = try? FileSystem.readString("/proc/self/status") else { return false }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst(7).trimmed
            return (UInt64(hex, radix: 16) ?? 0) & (1 << UInt64(n)) != 0
        }
        return false
    }

    static let hostIsCgroup2: Bool = {
        KernelInterfaces.isCgroup2("/sys/fs/cgroup") == true
    }()

    static func realPath(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }
}
