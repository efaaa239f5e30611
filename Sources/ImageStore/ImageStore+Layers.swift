import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// Unpacked layer directories, lowest first, cached in the store; OCI whiteouts turned into
    /// overlayfs ones (char 0:0, `trusted.overlay.opaque`) — ready as overlay lower directories.
    ///
    /// Each layer is unpacked into a temporary directory and renamed into place only when it was
    /// read completely and its digest matched, so a directory that exists is always complete.
    /// Unpacking is long synchronous work (seconds for a distribution's layer), so it runs on a
    /// thread of its own, not on the cooperative pool that every other task of the process needs.
    public func unpackedLayers(of image: Image) async throws(IntermodalError) -> [FilePath] {
        try await withIngestLease { () async throws(IntermodalError) -> [FilePath] in
            var result: [FilePath] = []
            for layer in image.layers {
                result.append(try await DedicatedThread.run { () throws(IntermodalError) in try self.unpackedLayer(layer) })
            }
            return result
        }
    }

    /// One layer unpacked (from the cache when it already is).
    public func unpackedLayer(_ layer: LayerDescriptor) throws(IntermodalError) -> FilePath {
        guard Digest.isValid(layer.diffID) else { throw IntermodalError(.corrupted, "invalid diff ID '\(layer.diffID)'") }
        let target = layersDirectory.appending(Digest.hex(layer.diffID))
        if FileSystem.isDirectory(target) { return target }
        let work = try temporaryDirectory("unpack")
        let tree = work.appending("tree")
        do throws(IntermodalError) {
            try FileSystem.createDirectory(tree)
            chmod(tree.string, 0o755)
            try unpack(layer, into: tree, mode: .overlay)
            if rename(tree.string, target.string) != 0 {
                // Another process unpacked the same layer first: use theirs.
                guard errno == EEXIST || errno == ENOTEMPTY else { throw IntermodalError.system("cannot move unpacked layer to \(target)") }
            }
            try FileSystem.removeTree(work)
        } catch {
            try? FileSystem.removeTree(work)
            throw error
        }
        return target
    }

    /// The image's layers applied in order into `directory` (a plain tree: for VM disks and the
    /// no-overlay fallback). Whiteouts delete what lower layers made.
    public func flatten(_ image: Image, into directory: FilePath) async throws(IntermodalError) {
        try FileSystem.createDirectory(directory)
        for layer in image.layers {
            try await DedicatedThread.run { () throws(IntermodalError) in try self.unpack(layer, into: directory, mode: .apply) }
        }
    }

    /// Refuses the stored layer blob `digest` if it expands beyond ``layerSizeLimit``: `load` and
    /// `pull` check every layer of an image before naming it, as `import` and unpacking do, so
    /// `--max-layer-size` bounds every way a layer comes in. Decompresses on a thread of its own.
    public func checkLayerSize(_ digest: String) async throws(IntermodalError) {
        let path = try blobPath(digest)
        let limit = layerSizeLimit
        try await DedicatedThread.run { () throws(IntermodalError) in
            _ = try ArchiveInput(file: path, name: "layer \(digest)", sizeLimit: limit).finish()
        }
    }

    /// Extracts one stored layer blob, verifying its digest as it is read.
    func unpack(_ layer: LayerDescriptor, into directory: FilePath, mode: LayerUnpacker.WhiteoutMode) throws(IntermodalError) {
        let path = try blobPath(layer.digest)
        guard FileSystem.exists(path) else { throw IntermodalError(.notFound, "layer \(layer.digest) is not in the store") }
        let name = "layer \(layer.digest)"
        let input = try ArchiveInput(file: path, name: name, sizeLimit: layerSizeLimit)
        let result = try LayerUnpacker(destination: directory, mode: mode, layerName: name).unpack(input)
        guard result.digest == layer.digest else {
            throw IntermodalError(.corrupted, "\(name): digest mismatch (the stored blob hashes to \(result.digest))")
        }
    }

    /// Makes a layer blob from a directory tree and stores it.
    public func storeLayer(
        fromDirectory directory: FilePath, overlayUpper: Bool = false, mtimeClamp: Int? = nil
    ) throws(IntermodalError) -> LayerDescriptor {
        let tmp = try temporaryFile("layer")
        do throws(IntermodalError) {
            var builder = LayerBuilder()
            builder.source = overlayUpper ? .overlayUpper : .tree
            builder.mtimeClamp = mtimeClamp
            let output = try builder.build(directory, output: tmp)
            try ingestBlob(file: tmp, expectedDigest: output.digest, expectedSize: output.size, what: "new layer from \(directory)")
            return LayerDescriptor(digest: output.digest, size: output.size, mediaType: MediaType.ociLayerGzip, diffID: output.diffID)
        } catch {
            unlink(tmp.string)
            throw error
        }
    }

    /// Stores a configuration and manifest for `layers` and names the image.
    public func createImage(
        layers: [LayerDescriptor], configuration: ImageConfiguration, names: [ImageReference]
    ) async throws(IntermodalError) -> Image {
        var configuration = configuration
        configuration.rootfs = .init(diffIDs: layers.map(\.diffID))
        if configuration.created == nil { configuration.created = Timestamp.now() }
        let configBytes = try JSON.encode(configuration)
        let configDigest = try writeBlob(configBytes)
        let manifest = Manifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
            layers: layers.map { Descriptor(mediaType: $0.mediaType, digest: $0.digest, size: $0.size) })
        let manifestBytes = try JSON.encode(manifest)
        let manifestDigest = try writeBlob(manifestBytes)
        try await name(manifestDigest: manifestDigest, size: Int64(manifestBytes.count), as: names)
        return Image(reference: names.first, names: names, manifestDigest: manifestDigest, configDigest: configDigest,
                     configuration: configuration, layers: layers)
    }

    /// A new image = `base` + one layer made from an overlayfs upper dir (overlay whiteouts ->
    /// OCI `.wh.` entries). With no upper directory only the configuration changes (an empty
    /// layer in history, as `ENV` or `CMD` make). `configuration` gives the new image's settings;
    /// its `rootfs` and `history` are derived from `base` and `history`.
    public func commit(
        base: Image?, upperDirectory: FilePath?, configuration: ImageConfiguration, history: HistoryEntry,
        tag: ImageReference?
    ) async throws(IntermodalError) -> Image {
        try await withIngestLease { () async throws(IntermodalError) -> Image in
            var layers = base?.layers ?? []
            var entry = history
            if entry.created == nil { entry.created = Timestamp.now() }
            if let upperDirectory {
                layers.append(try storeLayer(fromDirectory: upperDirectory, overlayUpper: true))
                entry.emptyLayer = nil
            } else {
                entry.emptyLayer = true
            }
            var config = configuration
            config.history = (base?.configuration.history ?? []) + [entry]
            config.created = entry.created
            return try await createImage(layers: layers, configuration: config, names: tag.map { [$0] } ?? [])
        }
    }
}
