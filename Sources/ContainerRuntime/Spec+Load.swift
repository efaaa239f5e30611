import IntermodalCore
import SystemPackage

extension Spec {
    /// Reads and validates `<bundle>/config.json`.
    ///
    /// Errors name the file and the offending field (`config.json: linux.namespaces[1].type:
    /// unknown namespace type "pidx"`), with code `.invalidArgument` for bad content and
    /// `.notFound` for a missing bundle or file.
    public static func load(bundle: FilePath) throws(IntermodalError) -> Spec {
        let file = bundle.appending("config.json")
        guard FileSystem.isDirectory(bundle) else {
            throw IntermodalError(.notFound, "bundle \(bundle) does not exist or is not a directory")
        }
        guard FileSystem.exists(file) else {
            throw IntermodalError(.notFound, "\(file): no such file (a bundle needs a config.json)")
        }
        let bytes = try FileSystem.readBytes(file)
        let spec = try decode(bytes, source: file.string)
        try spec.validate(source: file.string)
        return spec
    }

    /// Decodes config.json text (with the start path's reader, ``FastJSON``); a decoding
    /// failure names the JSON path of the bad field.
    public static func decode(_ bytes: [UInt8], source: String = "config.json") throws(IntermodalError) -> Spec {
        try JSON.decode(Spec.self, from: bytes, what: source, code: .invalidArgument, reader: FastJSON.self)
    }

    /// Decodes one part of a configuration given on its own (`exec --process`, `update
    /// --resources`), with the reader ``decode(_:source:)`` uses.
    public static func decodePart<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], source: String) throws(IntermodalError) -> T {
        try JSON.decode(type, from: bytes, what: source, code: .invalidArgument, reader: FastJSON.self)
    }

    /// The JSON encoding (pretty-printed, keys sorted) of this configuration.
    public func encoded() throws(IntermodalError) -> [UInt8] {
        try JSON.encode(self, pretty: true)
    }

    /// Writes this configuration to `<bundle>/config.json`.
    public func write(bundle: FilePath) throws(IntermodalError) {
        try FileSystem.writeAtomically(try encoded(), to: bundle.appending("config.json"))
    }
}

extension Spec {
    /// A configuration like `runc spec` writes: `sh`-style process running `args` as root with the
    /// default capability set, new pid/network/ipc/uts/mount/cgroup namespaces, the standard
    /// mounts, masked and read-only paths, and a read-only root at `rootfs`.
    public static func `default`(rootfs: String = "rootfs", args: [String]) -> Spec {
        var spec = Spec()
        spec.ociVersion = "1.2.0"
        var process = Process(args: args, env: [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
        ], cwd: "/")
        process.terminal = false
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        process.capabilities = Capabilities(bounding: caps, effective: caps, permitted: caps)
        process.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
        process.noNewPrivileges = true
        spec.process = process
        spec.root = Root(path: rootfs, readonly: true)
        spec.hostname = "intermodal"
        spec.mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                  options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
                  options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs",
                  options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        var linux = Linux()
        linux.resources = LinuxResources()
        linux.resources?.devices = [DeviceCgroup(allow: false, access: "rwm")]
        linux.namespaces = ["pid", "network", "ipc", "uts", "mount", "cgroup"].map { Namespace(type: $0) }
        linux.maskedPaths = [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/proc/scsi",
        ]
        linux.readonlyPaths = [
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
        ]
        spec.linux = linux
        return spec
    }
}
