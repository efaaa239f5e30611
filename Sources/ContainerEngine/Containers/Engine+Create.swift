#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// Phases the engine records besides the runtime's.
extension Phase {
    /// The snapshot of the image (overlay mount or copy) was started.
    public static let snapshot = Phase("snapshot")
}

extension Engine {
    /// Makes a container from `image` without starting it: a fresh snapshot of the image (every
    /// container starts from the original image), the mount-point files, and the OCI bundle.
    /// On failure nothing is left behind.
    public func create(image imageName: String, options: RunOptions, buildStep: Bool = false) async throws(IntermodalError) -> ContainerRecord {
        try await prepare(image: imageName, options: options, buildStep: buildStep).record
    }

    /// ``create(image:options:buildStep:)``, also returning the configuration written to the
    /// bundle, so that a `run` in this process hands it to the runtime instead of having it decoded again.
    func prepare(image imageName: String, options: RunOptions, buildStep: Bool = false) async throws(IntermodalError) -> (record: ContainerRecord, spec: Spec) {
        try options.validate()
        // What a killed `run` left is finished or undone first (nothing when nothing was killed):
        // its published ports too, before they are checked.
        await reclaimAbandoned()
        // A host port someone else has is refused before anything is made (attach checks again).
        if options.network == .bridge { try network.checkPorts(options.ports) }
        var timestamps = PhaseTimestamps()
        timestamps.mark(.snapshot)
        Timing.mark("engine: begin")
        let image = try store.resolve(imageName)
        Timing.mark("engine: resolved")
        let id = try Identifiers.newID()
        let hostname = String(id.prefix(12))
        let process = try InstanceProcess.resolve(image: image.configuration, overrides: options.processOverrides, hostname: hostname)
        let (entrypoint, command) = (process.entrypoint, process.command)
        Timing.mark("engine: id")
        let dir = registry.directory(id)

        let candidates: [String]
        if let wanted = options.name {
            try Identifiers.validateName(wanted)
            candidates = [wanted]
        } else {
            candidates = buildStep ? ["build_\(id.prefix(12))"] : Identifiers.generatedNames(for: id)
        }
        let now = WallClock.now
        // The record exists before anything is mounted, so `rm` can always find and undo it.
        var record = try await registry.create(ContainerRecord(
            id: id, name: candidates[0], image: imageName, imageID: image.configDigest,
            entrypoint: entrypoint, command: command, created: WallClock.rfc3339(now), createdUnix: now,
            status: .created, pid: nil, ownerPID: getpid(), network: options.network,
            logPath: dir.log.string, rootfsMode: .overlay, autoRemove: options.autoRemove,
            buildStep: buildStep, options: options, timestamps: timestamps), nameCandidates: candidates)
        Timing.mark("engine: record saved")

        do {
            record.rootfsMode = try await RootfsSnapshot.prepare(
                dir, image: image, store: store, initLayer: registry.initLayer, allowOverlay: useOverlay)
            Timing.mark("engine: snapshot")
            // Written in place: nothing reads these before the container exists.
            try NewFile.write(hostname + "\n", to: dir.hostname)
            try NewFile.write(
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(hostname)\n", to: dir.hosts)
            try NewFile.write(resolvConf(for: options.network), to: dir.resolvConf)

            Timing.mark("engine: etc files")
            let user = try UserResolver.resolve(process.user, rootfs: dir.rootfs)
            try makeWorkingDirectory(process.workingDirectory, in: dir.rootfs, user: user)
            Timing.mark("engine: user")
            let spec = BundleGenerator.spec(id: id, process: process, options: options, user: user, directory: dir)
            try NewFile.write(try JSON.encode(spec, pretty: true), to: dir.config)
            Timing.mark("engine: config written")
            // The first save assumed overlay; only the copy fallback changes the record.
            if record.rootfsMode != .overlay { try registry.save(record) }
            return (record, spec)
        } catch {
            try? await destroy(record)
            throw error
        }
    }

    /// Docker creates a missing working directory (owned by the user) rather than failing.
    private func makeWorkingDirectory(_ cwd: String, in rootfs: FilePath, user: ResolvedUser) throws(IntermodalError) {
        let target = try ScopedPath.resolve(cwd, in: rootfs)
        guard !FileSystem.isDirectory(target) else { return }
        try FileSystem.createDirectory(target)
        chown(target.string, user.uid, user.gid)
    }

    /// The host's resolver configuration for containers that can reach its network; a loopback-free
    /// fallback otherwise (a `127.0.0.x` resolver would be the container's own loopback).
    private func resolvConf(for network: NetworkMode) -> String {
        guard network != .none, let host = try? FileSystem.readString("/etc/resolv.conf") else { return "" }
        if network == .host { return host }
        let usable = host.split(separator: "\n").filter { !($0.hasPrefix("nameserver 127.") || $0.hasPrefix("nameserver ::1")) }
        return usable.joined(separator: "\n") + "\n"
    }

    /// Unmounts and deletes a container's files (the runtime and network parts must be gone already).
    func destroy(_ record: ContainerRecord) async throws(IntermodalError) {
        try RootfsSnapshot.unmount(registry.directory(record.id))
        try await registry.remove(record)
    }
}
