#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The initramfs of a guest: our init, the kernel modules it needs, and the run's configuration.
public enum GuestInitramfs {
    /// Modules the init loads, in order with their dependencies, unless built into the kernel:
    /// the PCI transport, the disk, the host channel, and ext4 (with the crc32c it checksums with).
    static let baseModules = ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"]
    static let channelModules = ["virtio_console"]
    static let networkModules = ["virtio_net"]

    /// Where the init binary is: `$INTERMODAL_GUEST_INIT`, else beside the running executable
    /// (SwiftPM builds `intermodal-guest-init` next to `intermodal` and the test bundle).
    public static func locateInit() throws(IntermodalError) -> FilePath {
        if let env = getenvString("INTERMODAL_GUEST_INIT"), !env.isEmpty { return FilePath(env) }
        var candidates: [FilePath] = []
        if let exe = FileSystem.ownExecutable {
            candidates.append(exe.removingLastComponent().appending("intermodal-guest-init"))
        }
        candidates.append("/usr/local/libexec/intermodal/intermodal-guest-init")
        for c in candidates where access(c.string, X_OK) == 0 { return c }
        throw IntermodalError(
            .notFound,
            "the guest init intermodal-guest-init was not found (looked at \(candidates.map(\.string).joined(separator: ", ")); build it with `swift build` or set INTERMODAL_GUEST_INIT)")
    }

    /// The module files for `names` and their dependencies, dependencies first, from modules.dep;
    /// modules listed in modules.builtin are skipped (nothing to load).
    public static func resolveModules(_ names: [String], kernel: GuestKernel) throws(IntermodalError) -> [FilePath] {
        let dir = kernel.moduleDirectory
        let depText = try FileSystem.readString(dir.appending("modules.dep"))
        let builtinText = (try? FileSystem.readString(dir.appending("modules.builtin"))) ?? ""
        func moduleName(_ path: Substring) -> String {
            var base = path.split(separator: "/").last.map(String.init) ?? ""
            for ext in [".ko.xz", ".ko.zst", ".ko.gz", ".ko"] where base.hasSuffix(ext) {
                base.removeLast(ext.count)
                break
            }
            return base.replacingUnderscoreDash
        }
        var deps: [String: (path: String, deps: [String])] = [:]
        for line in depText.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let path = line[..<colon]
            let rest = line[line.index(after: colon)...].split(separator: " ").map(String.init)
            deps[moduleName(path)] = (String(path), rest.map { moduleName(Substring($0)) })
        }
        let builtin = Set(builtinText.split(separator: "\n").map { moduleName($0) })
        var ordered: [String] = []
        var seen: Set<String> = []
        func visit(_ name: String) throws(IntermodalError) {
            let key = name.replacingUnderscoreDash
            if seen.contains(key) { return }
            seen.insert(key)
            if let entry = deps[key] {
                for d in entry.deps { try visit(d) }
                guard !entry.path.hasSuffix(".xz") && !entry.path.hasSuffix(".zst") && !entry.path.hasSuffix(".gz") else {
                    throw IntermodalError(.unsupported, "module \(entry.path) is compressed; our guest init loads only plain .ko files")
                }
                ordered.append(entry.path)
            } else if !builtin.contains(key) {
                throw IntermodalError(
                    .notFound, "kernel \(kernel.version) has module \(name) neither built in nor in \(dir)/modules.dep")
            }
        }
        for n in names { try visit(n) }
        return ordered.map { dir.appending($0) }
    }

    /// What one guest runs: the command and its surroundings inside the image.
    public struct RunConfiguration: Sendable {
        public var arguments: [String]
        public var environment: [String]
        public var workingDirectory: String
        public var user: String?
        public var hostname: String?
        /// eth0's address ("10.0.2.15/24") and gateway; nil leaves only loopback.
        public var address: String?
        public var gateway: String?
        /// Report over the serial console instead of the virtio-serial port (no port in the guest).
        public var consoleChannel = false
        /// The init prints its step timings on the serial console (console.log).
        public var debugTiming = false
        /// Written to the guest's /etc/resolv.conf when set.
        public var nameserver: String?

        public init(arguments: [String], environment: [String], workingDirectory: String = "/", user: String? = nil,
                    hostname: String? = nil, address: String? = nil, gateway: String? = nil, nameserver: String? = nil) {
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.user = user
            self.hostname = hostname
            self.address = address
            self.gateway = gateway
            self.nameserver = nameserver
        }
    }

    /// The whole initramfs for one run: the base archive (init, modules; cached) followed by
    /// the run's configuration archive (the kernel reads concatenated archives in turn).
    public static func build(kernel: GuestKernel, initBinary: FilePath, run: RunConfiguration, cacheRoot: FilePath = IntermodalPaths.cacheRoot) throws(IntermodalError) -> [UInt8] {
        let (base, modules) = try baseArchive(
            kernel: kernel, initBinary: initBinary, network: run.address != nil, channel: !run.consoleChannel, cacheRoot: cacheRoot)
        return base + (try configurationArchive(run, modules: modules))
    }

    /// The archive with `/init` and the modules, built once per (init binary, kernel, network)
    /// and cached: re-reading a few MB is cheaper than re-encoding them on every boot.
    static func baseArchive(kernel: GuestKernel, initBinary: FilePath, network: Bool, channel: Bool, cacheRoot: FilePath) throws(IntermodalError) -> (bytes: [UInt8], modules: [String]) {
        var st = stat()
        guard stat(initBinary.string, &st) == 0 else { throw .system("cannot stat the guest init \(initBinary)") }
        let key = "\(kernel.version)-\(network ? "net" : "nonet")-\(channel ? "port" : "console")-\(st.st_size)-\(st.st_mtim.tv_sec)-\(st.st_mtim.tv_nsec)-\(st.st_ino)"
        let cached = cacheRoot.appending("vm/initramfs/base-\(key).cpio")
        let cachedList = cacheRoot.appending("vm/initramfs/base-\(key).modules")
        // modules.dep is long: resolving it costs more than reading the cached answer.
        if let list = try? FileSystem.readString(cachedList), let bytes = try? FileSystem.readBytes(cached) {
            return (bytes, list.split(separator: "\n").map(String.init))
        }
        var modules = baseModules
        if channel { modules += channelModules }
        if network { modules += networkModules }
        let files = try resolveModules(modules, kernel: kernel)
        let names = files.map { "/lib/modules/" + ($0.lastComponent?.string ?? "module.ko") }
        var w = InitramfsWriter()
        for d in ["dev", "proc", "sys", "newroot", "intermodal", "lib", "lib/modules"] { w.addDirectory(d) }
        w.addCharacterDevice("dev/console", major: 5, minor: 1)
        w.addFile("init", contents: try FileSystem.readBytes(initBinary), mode: 0o755)
        for (file, name) in zip(files, names) {
            w.addFile(String(name.dropFirst()), contents: withoutSignature(try FileSystem.readBytes(file)))
        }
        let bytes = w.finish()
        try FileSystem.createDirectory(cached.removingLastComponent())
        try FileSystem.writeAtomically(bytes, to: cached)
        try FileSystem.writeAtomically(names.joined(separator: "\n"), to: cachedList)
        return (bytes, names)
    }

    /// A module without its appended signature.
    ///
    /// Why: under TCG the kernel's SHA-256 over a signed module costs ~0.1 s per MB (ext4.ko is
    /// 2 MB), a quarter of the boot. The modules come from the host's own /lib/modules, which we
    /// trust as much as the kernel we boot; an unsigned module loads unless the kernel enforces
    /// signatures (`module.sig_enforce`, lockdown), and only marks the kernel tainted (E).
    static func withoutSignature(_ module: [UInt8]) -> [UInt8] {
        let magic = Array("~Module signature appended~\n".utf8)
        guard module.count > magic.count + 12, Array(module.suffix(magic.count)) == magic else { return module }
        let info = module.count - magic.count - 12   // struct module_signature
        let signerLength = Int(module[info + 3]), keyIDLength = Int(module[info + 4])
        let sigLength = Int(module[info + 8]) << 24 | Int(module[info + 9]) << 16 | Int(module[info + 10]) << 8 | Int(module[info + 11])
        let strip = magic.count + 12 + sigLength + signerLength + keyIDLength
        guard strip < module.count else { return module }
        return Array(module.prefix(module.count - strip))
    }

    /// The small archive with `/intermodal/config`: the modules to load, the command, its surroundings.
    static func configurationArchive(_ run: RunConfiguration, modules: [String]) throws(IntermodalError) -> [UInt8] {
        // D first: it switches on the init's timing report for the module loads that follow.
        var records = (run.debugTiming ? ["D"] : []) + (run.consoleChannel ? ["c"] : []) + modules.map { "m" + $0 }
        for a in run.arguments {
            guard !a.utf8.contains(0) else { throw IntermodalError(.invalidArgument, "command argument contains a NUL byte") }
            records.append("a" + a)
        }
        for e in run.environment {
            guard !e.utf8.contains(0) else { throw IntermodalError(.invalidArgument, "environment entry contains a NUL byte") }
            records.append("e" + e)
        }
        records.append("w" + run.workingDirectory)
        if let u = run.user { records.append("u" + u) }
        if let h = run.hostname { records.append("h" + h) }
        if let a = run.address { records.append("i" + a) }
        if let g = run.gateway { records.append("g" + g) }
        if let n = run.nameserver { records.append("n" + n) }
        var config: [UInt8] = []
        for r in records { config += Array(r.utf8) + [0] }
        var w = InitramfsWriter()
        w.addDirectory("intermodal")
        w.addFile("intermodal/config", contents: config)
        return w.finish()
    }
}

extension String {
    var replacingUnderscoreDash: String { String(map { $0 == "-" ? "_" : $0 }) }
}
