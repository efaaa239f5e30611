import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Base images made on this host, without a registry.
extension ImageStore {
    /// `intermodal image bootstrap busybox NAME`: a one-layer image of Debian's busybox-static
    /// (``BusyboxRootfs``), with `sh` as its command. Reproducible: file times are clamped to the
    /// busybox binary's, so bootstrapping twice gives the same layer digest.
    public func bootstrapBusybox(name: ImageReference, busybox: FilePath = BusyboxRootfs.defaultBinary) async throws(IntermodalError) -> Image {
        // The lease covers the temporary tree too: garbage collection clears tmp otherwise.
        try await withIngestLease { () async throws(IntermodalError) -> Image in
            let work = try temporaryDirectory("busybox")
            defer { try? FileSystem.removeTree(work) }
            let tree = work.appending("rootfs")
            try FileSystem.createDirectory(tree)
            chmod(tree.string, 0o755)
            try await BusyboxRootfs.populate(at: tree, busybox: busybox)
            var st = stat()
            let clamp = stat(busybox.string, &st) == 0 ? st.st_mtim.tv_sec : 0
            let layer = try storeLayer(fromDirectory: tree, mtimeClamp: clamp)
            let created = Timestamp.rfc3339(seconds: clamp)
            let config = ImageConfiguration(
                created: created,
                config: .init(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cmd: ["sh"]),
                history: [HistoryEntry(created: created, createdBy: "intermodal image bootstrap busybox (\(busybox))")])
            return try await createImage(layers: [layer], configuration: config, names: [name])
        }
    }

    /// `intermodal import ROOTFS.tar[.gz] NAME`: a one-layer image from a root file system archive.
    /// The archive is unpacked with every safety check (so a hostile one is refused with its
    /// entry named) and archived again deterministically.
    public func importRootfs(archive: FilePath, name: ImageReference, configuration: ImageConfiguration? = nil, createdBy: String? = nil) async throws(IntermodalError) -> Image {
        try await withIngestLease { () async throws(IntermodalError) -> Image in
            let work = try temporaryDirectory("import")
            defer { try? FileSystem.removeTree(work) }
            let tree = work.appending("rootfs")
            try FileSystem.createDirectory(tree)
            chmod(tree.string, 0o755)
            let limit = layerSizeLimit
            _ = try await DedicatedThread.run { () throws(IntermodalError) in
                let input = try ArchiveInput(file: archive, name: archive.string, sizeLimit: limit)
                return try LayerUnpacker(destination: tree, mode: .apply, layerName: archive.string).unpack(input)
            }
            let by = createdBy ?? "intermodal import \(archive.lastComponent?.string ?? archive.string)"
            return try await importTree(tree, name: name, configuration: configuration, createdBy: by)
        }
    }

    /// A one-layer image from a directory tree.
    public func importTree(_ tree: FilePath, name: ImageReference, configuration: ImageConfiguration? = nil, createdBy: String, mtimeClamp: Int? = nil) async throws(IntermodalError) -> Image {
        try await withIngestLease { () async throws(IntermodalError) -> Image in
            // Archiving, compressing and hashing a tree: long synchronous work, off the pool.
            let layer = try await DedicatedThread.run { () throws(IntermodalError) in
                try self.storeLayer(fromDirectory: tree, mtimeClamp: mtimeClamp)
            }
            var config = configuration ?? ImageConfiguration(
                config: .init(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cmd: ["/bin/sh"]))
            let now = Timestamp.now()
            config.created = config.created ?? now
            config.history = [HistoryEntry(created: config.created, createdBy: createdBy)]
            return try await createImage(layers: [layer], configuration: config, names: [name])
        }
    }
}
