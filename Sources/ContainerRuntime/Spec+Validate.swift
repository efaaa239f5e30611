import IntermodalCore

/// Names the runtime understands, shared by validation and by the translation for the C shim.
enum SpecNames {
    /// Namespace types of the specification and their clone(2) flags.
    static let namespaceFlags: [String: Int32] = [
        "pid": 0x2000_0000, "network": 0x4000_0000, "mount": 0x0002_0000, "ipc": 0x0800_0000,
        "uts": 0x0400_0000, "user": 0x1000_0000, "cgroup": 0x0200_0000, "time": 0x0000_0080,
    ]

    /// File names under /proc/<pid>/ns for each namespace type.
    static let namespaceFiles: [String: String] = [
        "pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "user": "user",
        "cgroup": "cgroup", "time": "time",
    ]

    static let rlimits: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]

    /// The kernel number of a capability name, from the one table in ``Capabilities``.
    static func capabilityNumber(_ name: String) -> Int? {
        (try? Capabilities.number(named: name)).map(Int.init)
    }

    static let propagation: Set<String> = [
        "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
    ]

    static let seccompActions: Set<String> = [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ]

    static let seccompOperators: Set<String> = [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ]

    static let seccompFlags: Set<String> = [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]
}

extension Spec {
    /// Checks what the specification requires and what this runtime can honour; the first
    /// problem found is thrown, naming `source` and the field.
    public func validate(source: String = "config.json") throws(IntermodalError) {
        func bad(_ field: String, _ why: String, _ code: IntermodalError.Code = .invalidArgument) -> IntermodalError {
            IntermodalError(code, "\(source): \(field): \(why)")
        }
        let major = ociVersion.split(separator: ".").first.flatMap { Int($0) }
        guard major == 1 else {
            throw bad("ociVersion", "unsupported version \"\(ociVersion)\" (this runtime implements 1.x)")
        }
        guard let root, !root.path.isEmpty else { throw bad("root.path", "required field is missing") }
        _ = root
        if let process {
            guard let args = process.args, !args.isEmpty, !args[0].isEmpty else {
                throw bad("process.args", "must name a program to run (it is empty)")
            }
            guard process.cwd.hasPrefix("/") else {
                throw bad("process.cwd", "must be an absolute path, got \"\(process.cwd)\"")
            }
            for (i, e) in (process.env ?? []).enumerated() where !e.contains("=") {
                throw bad("process.env[\(i)]", "\"\(e)\" is not of the form NAME=value")
            }
            if let caps = process.capabilities {
                let sets: [(String, [String]?)] = [
                    ("bounding", caps.bounding), ("effective", caps.effective), ("inheritable", caps.inheritable),
                    ("permitted", caps.permitted), ("ambient", caps.ambient),
                ]
                for (name, list) in sets {
                    for (i, cap) in (list ?? []).enumerated() where SpecNames.capabilityNumber(cap) == nil {
                        throw bad("process.capabilities.\(name)[\(i)]", "unknown capability \"\(cap)\"")
                    }
                }
            }
            var seen: Set<String> = []
            for (i, r) in (process.rlimits ?? []).enumerated() {
                guard SpecNames.rlimits[r.type] != nil else {
                    throw bad("process.rlimits[\(i)].type", "unknown rlimit \"\(r.type)\"")
                }
                guard seen.insert(r.type).inserted else {
                    throw bad("process.rlimits[\(i)].type", "duplicate rlimit \"\(r.type)\"")
                }
                guard r.soft <= r.hard else {
                    throw bad("process.rlimits[\(i)]", "soft limit \(r.soft) is above hard limit \(r.hard)")
                }
            }
            if let p = process.apparmorProfile, !p.isEmpty {
                throw bad("process.apparmorProfile", "AppArmor is not available to this runtime", .unsupported)
            }
            if let l = process.selinuxLabel, !l.isEmpty, HostSecurity.selinuxEnabled {
                // Without SELinux on the host the label means nothing: see ignoredFields.
                throw bad("process.selinuxLabel", "SELinux labels are not applied by this runtime (SELinux is enabled on this host)", .unsupported)
            }
            if process.scheduler != nil {
                throw bad("process.scheduler", "not supported by this runtime", .unsupported)
            }
            if process.ioPriority != nil {
                throw bad("process.ioPriority", "not supported by this runtime", .unsupported)
            }
            if process.execCPUAffinity != nil {
                throw bad("process.execCPUAffinity", "not supported by this runtime", .unsupported)
            }
        }
        for (i, m) in (mounts ?? []).enumerated() {
            guard m.destination.hasPrefix("/") else {
                throw bad("mounts[\(i)].destination", "must be an absolute path, got \"\(m.destination)\"")
            }
            if m.uidMappings != nil || m.gidMappings != nil {
                throw bad("mounts[\(i)].uidMappings", "id-mapped mounts are not supported by this runtime", .unsupported)
            }
            do {
                _ = try MountOptions.parse(m.options ?? [])
            } catch {
                throw bad("mounts[\(i)].options", error.message, error.code)
            }
        }
        let allHooks: [(String, [Hook]?)] = [
            ("prestart", hooks?.prestart), ("createRuntime", hooks?.createRuntime),
            ("createContainer", hooks?.createContainer), ("startContainer", hooks?.startContainer),
            ("poststart", hooks?.poststart), ("poststop", hooks?.poststop),
        ]
        for (kind, list) in allHooks {
            for (i, h) in (list ?? []).enumerated() {
                guard h.path.hasPrefix("/") else {
                    throw bad("hooks.\(kind)[\(i)].path", "must be an absolute path, got \"\(h.path)\"")
                }
                // The launcher keeps it as a C int of seconds, and the wait as nanoseconds in 64 bits.
                if let t = h.timeout, t <= 0 || t > Int(Int32.max) {
                    throw bad("hooks.\(kind)[\(i)].timeout", "must be from 1 to \(Int32.max) seconds, got \(t)")
                }
            }
        }
        try validateLinux(bad)
    }

    private func validateLinux(_ bad: (String, String, IntermodalError.Code) -> IntermodalError) throws(IntermodalError) {
        let linux = self.linux ?? Linux()
        var types: Set<String> = []
        for (i, ns) in (linux.namespaces ?? []).enumerated() {
            guard SpecNames.namespaceFlags[ns.type] != nil else {
                throw bad("linux.namespaces[\(i)].type", "unknown namespace type \"\(ns.type)\"", .invalidArgument)
            }
            guard types.insert(ns.type).inserted else {
                throw bad("linux.namespaces[\(i)].type", "namespace \"\(ns.type)\" listed twice", .invalidArgument)
            }
            if let p = ns.path, !p.hasPrefix("/") {
                throw bad("linux.namespaces[\(i)].path", "must be an absolute path, got \"\(p)\"", .invalidArgument)
            }
            if ns.type == "time" && ns.path == nil && linux.timeOffsets == nil {
                // A new time namespace without offsets is allowed.
            }
        }
        let newNS = Set((linux.namespaces ?? []).filter { $0.path == nil }.map(\.type))
        if newNS.contains("user") {
            guard let u = linux.uidMappings, !u.isEmpty, let g = linux.gidMappings, !g.isEmpty else {
                throw bad("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings", .invalidArgument)
            }
        } else if !(linux.uidMappings ?? []).isEmpty || !(linux.gidMappings ?? []).isEmpty {
            if !types.contains("user") {
                throw bad("linux.uidMappings", "mappings are given but there is no user namespace", .invalidArgument)
            }
        }
        // A uts namespace joined by path counts (the name is set in it, as runc does); without any
        // the host's name would change.
        if let h = hostname, !h.isEmpty, !types.contains("uts") {
            throw bad("hostname", "setting the hostname needs a uts namespace (new or joined by path)", .invalidArgument)
        }
        if let d = domainname, !d.isEmpty, !types.contains("uts") {
            throw bad("domainname", "setting the domainname needs a uts namespace (new or joined by path)", .invalidArgument)
        }
        if linux.timeOffsets != nil && !newNS.contains("time") {
            throw bad("linux.timeOffsets", "time offsets need a new time namespace", .invalidArgument)
        }
        if linux.timeOffsets != nil {
            throw bad("linux.timeOffsets", "not supported by this runtime", .unsupported)
        }
        if let p = linux.rootfsPropagation, !p.isEmpty, !SpecNames.propagation.contains(p) {
            throw bad("linux.rootfsPropagation", "unknown propagation \"\(p)\"", .invalidArgument)
        }
        for (i, d) in (linux.devices ?? []).enumerated() {
            guard ["c", "b", "u", "p"].contains(d.type) else {
                throw bad("linux.devices[\(i)].type", "must be c, b, u or p, got \"\(d.type)\"", .invalidArgument)
            }
            guard d.path.hasPrefix("/dev/") else {
                throw bad("linux.devices[\(i)].path", "must be under /dev, got \"\(d.path)\"", .invalidArgument)
            }
            if d.type != "p" && (d.major == nil || d.minor == nil) {
                throw bad("linux.devices[\(i)]", "major and minor are required for type \"\(d.type)\"", .invalidArgument)
            }
        }
        for (key, _) in linux.sysctl ?? [:] {
            if key.hasPrefix("net.") {
                guard newNS.contains("network") || types.contains("network") else {
                    throw bad("linux.sysctl.\(key)", "needs a network namespace (it would change the host)", .invalidArgument)
                }
            } else if key.hasPrefix("kernel.msg") || key.hasPrefix("kernel.sem") || key.hasPrefix("kernel.shm")
                        || key.hasPrefix("fs.mqueue.") {
                guard types.contains("ipc") else {
                    throw bad("linux.sysctl.\(key)", "needs an ipc namespace (it would change the host)", .invalidArgument)
                }
            } else if key == "kernel.hostname" || key == "kernel.domainname" {
                guard types.contains("uts") else {
                    throw bad("linux.sysctl.\(key)", "needs a uts namespace (it would change the host)", .invalidArgument)
                }
            } else {
                throw bad("linux.sysctl.\(key)", "not a namespaced sysctl; it would change the host", .invalidArgument)
            }
        }
        for (field, list) in [("maskedPaths", linux.maskedPaths), ("readonlyPaths", linux.readonlyPaths)] {
            for (i, p) in (list ?? []).enumerated() where !p.hasPrefix("/") {
                throw bad("linux.\(field)[\(i)]", "must be an absolute path, got \"\(p)\"", .invalidArgument)
            }
        }
        if let s = linux.seccomp {
            guard SpecNames.seccompActions.contains(s.defaultAction) else {
                throw bad("linux.seccomp.defaultAction", "unknown action \"\(s.defaultAction)\"", .invalidArgument)
            }
            for (i, f) in (s.flags ?? []).enumerated() where !SpecNames.seccompFlags.contains(f) {
                throw bad("linux.seccomp.flags[\(i)]", "unknown flag \"\(f)\"", .invalidArgument)
            }
            if s.defaultAction == "SCMP_ACT_NOTIFY" || s.listenerPath != nil {
                throw bad("linux.seccomp.listenerPath", "seccomp user notification is not supported by this runtime", .unsupported)
            }
            for (i, sc) in (s.syscalls ?? []).enumerated() {
                guard SpecNames.seccompActions.contains(sc.action) else {
                    throw bad("linux.seccomp.syscalls[\(i)].action", "unknown action \"\(sc.action)\"", .invalidArgument)
                }
                if sc.action == "SCMP_ACT_NOTIFY" {
                    throw bad("linux.seccomp.syscalls[\(i)].action", "seccomp user notification is not supported by this runtime", .unsupported)
                }
                guard !sc.names.isEmpty else {
                    throw bad("linux.seccomp.syscalls[\(i)].names", "must not be empty", .invalidArgument)
                }
                for (j, a) in (sc.args ?? []).enumerated() {
                    guard SpecNames.seccompOperators.contains(a.op) else {
                        throw bad("linux.seccomp.syscalls[\(i)].args[\(j)].op", "unknown operator \"\(a.op)\"", .invalidArgument)
                    }
                    guard a.index < 6 else {
                        throw bad("linux.seccomp.syscalls[\(i)].args[\(j)].index", "must be 0...5, got \(a.index)", .invalidArgument)
                    }
                }
            }
        }
        if let l = linux.mountLabel, !l.isEmpty, HostSecurity.selinuxEnabled {
            throw bad("linux.mountLabel", "SELinux labels are not applied by this runtime (SELinux is enabled on this host)", .unsupported)
        }
        if linux.intelRdt != nil {
            throw bad("linux.intelRdt", "Intel RDT is not supported by this runtime", .unsupported)
        }
        if let p = linux.personality {
            guard p.domain == "LINUX" || p.domain == "LINUX32" else {
                throw bad("linux.personality.domain", "unknown domain \"\(p.domain)\"", .invalidArgument)
            }
        }
        if let r = linux.resources {
            if r.rdma != nil { throw bad("linux.resources.rdma", "not supported by this runtime", .unsupported) }
            if let n = r.network, n.classID != nil || n.priorities != nil {
                throw bad("linux.resources.network", "not supported by this runtime", .unsupported)
            }
        }
    }
}
