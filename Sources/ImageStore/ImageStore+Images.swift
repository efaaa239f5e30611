import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// Every image in the store, each once with all its names, newest first. A damaged entry
    /// (a manifest or config missing or unreadable) is left out: ``listing()`` reports those.
    public func list() throws(IntermodalError) -> [Image] {
        try listing().images
    }

    /// Every image in the store, and separately every `index.json` entry that does not load, so
    /// that one damaged image never hides the others (`images` lists them and names the damaged).
    public func listing() throws(IntermodalError) -> ImageListing {
        let index = try readIndex()
        var order: [String] = []
        var names: [String: [ImageReference]] = [:]
        for descriptor in index.manifests where MediaType.isManifest(descriptor.mediaType) || descriptor.mediaType.isEmpty {
            if names[descriptor.digest] == nil {
                order.append(descriptor.digest)
                names[descriptor.digest] = []
            }
            if let name = descriptor.annotations?[refNameAnnotation], let ref = try? ImageReference.parse(name) {
                names[descriptor.digest]!.append(ref)
            }
        }
        var listing = ImageListing()
        for digest in order {
            do throws(IntermodalError) {
                var image = try loadImage(manifestDigest: digest)
                image.names = names[digest]!
                image.reference = image.names.first
                listing.images.append(image)
            } catch {
                listing.damaged.append(DamagedImage(manifestDigest: digest, names: names[digest]!, problem: error))
            }
        }
        listing.images.sort { (Timestamp.parse($0.configuration.created ?? "") ?? 0) > (Timestamp.parse($1.configuration.created ?? "") ?? 0) }
        return listing
    }

    /// An image by `name[:tag]`, by (a unique prefix of) its ID, or by `sha256:` manifest digest.
    public func resolve(_ nameOrID: String) throws(IntermodalError) -> Image {
        let index = try readIndex()
        if let reference = try? ImageReference.parse(nameOrID) {
            let wanted = reference.localName
            let matches = index.manifests.filter { $0.annotations?[refNameAnnotation] == wanted }
            if let descriptor = matches.first {
                var image = try loadDamageChecked(descriptor.digest, named: nameOrID)
                image.reference = reference.withoutRegistry
                image.names = names(of: descriptor.digest, in: index)
                return image
            }
        }
        let hex = nameOrID.hasPrefix("sha256:") ? String(nameOrID.dropFirst(7)) : nameOrID
        if hex.count >= 4 && hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
            var found: [String: Image] = [:]
            for descriptor in index.manifests where found[descriptor.digest] == nil {
                guard let image = try? loadImage(manifestDigest: descriptor.digest) else { continue }
                if Digest.hex(image.configDigest).hasPrefix(hex) || Digest.hex(descriptor.digest).hasPrefix(hex) {
                    found[descriptor.digest] = image
                }
            }
            if found.count > 1 { throw IntermodalError(.invalidArgument, "image ID prefix '\(nameOrID)' is ambiguous") }
            if var image = found.values.first {
                image.names = names(of: image.manifestDigest, in: index)
                image.reference = image.names.first
                return image
            }
        }
        throw IntermodalError(.notFound, "no such image: \(nameOrID)")
    }

    /// ``loadImage(manifestDigest:)`` for a named entry: any failure is a `.corrupted` error that
    /// says the image is damaged and how to remove it.
    private func loadDamageChecked(_ manifestDigest: String, named name: String) throws(IntermodalError) -> Image {
        do throws(IntermodalError) {
            return try loadImage(manifestDigest: manifestDigest)
        } catch {
            throw IntermodalError(
                .corrupted, "image \(name) (\(manifestDigest)) is damaged: \(error.message) ('rmi --force \(name)' removes it)",
                cause: error.cause)
        }
    }

    private func names(of manifestDigest: String, in index: ImageIndex) -> [ImageReference] {
        index.manifests.filter { $0.digest == manifestDigest }
            .compactMap { $0.annotations?[refNameAnnotation] }
            .compactMap { try? ImageReference.parse($0) }
    }

    /// Reads a manifest and its configuration from the store (both verified).
    func loadImage(manifestDigest: String) throws(IntermodalError) -> Image {
        let manifest = try JSON.decode(Manifest.self, from: try readBlob(manifestDigest), what: "manifest \(manifestDigest)")
        let configuration = try JSON.decode(
            ImageConfiguration.self, from: try readBlob(manifest.config.digest), what: "image config \(manifest.config.digest)")
        let diffIDs = configuration.rootfs.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw IntermodalError(
                .corrupted,
                "image \(manifestDigest): \(manifest.layers.count) layers but \(diffIDs.count) diff_ids in its config")
        }
        let layers = zip(manifest.layers, diffIDs).map {
            LayerDescriptor(digest: $0.digest, size: $0.size, mediaType: $0.mediaType, diffID: $1)
        }
        return Image(reference: nil, manifestDigest: manifestDigest, configDigest: manifest.config.digest,
                     configuration: configuration, layers: layers)
    }

    /// The manifest of an image as stored.
    public func manifest(of image: Image) throws(IntermodalError) -> Manifest {
        try JSON.decode(Manifest.self, from: try readBlob(image.manifestDigest), what: "manifest \(image.manifestDigest)")
    }

    /// Gives `image` the name `reference` (moving the name if another image had it).
    public func tag(_ image: Image, as reference: ImageReference) async throws(IntermodalError) {
        let manifestSize = Int64(try readBlob(image.manifestDigest).count)
        try await name(manifestDigest: image.manifestDigest, size: manifestSize, as: [reference])
    }

    /// Names a stored manifest in `index.json`; with no names it is kept as an untagged image.
    ///
    /// Only a complete image is named: its manifest and configuration must be stored and parse,
    /// and every layer blob must be present. Otherwise nothing is written and the error says what
    /// is missing, so a failed `load`, `pull` or `commit` never leaves a name that breaks `images`.
    func name(manifestDigest: String, size: Int64, as references: [ImageReference]) async throws(IntermodalError) {
        try checkComplete(manifestDigest: manifestDigest)
        try await updateIndex { (index) throws(IntermodalError) in
            let newNames = Set(references.map(\.localName))
            index.manifests.removeAll { d in
                if let n = d.annotations?[refNameAnnotation] { return newNames.contains(n) }
                // An untagged entry for this manifest is replaced by the named ones.
                return d.digest == manifestDigest && !newNames.isEmpty
            }
            if references.isEmpty {
                if !index.manifests.contains(where: { $0.digest == manifestDigest }) {
                    index.manifests.append(Descriptor(mediaType: MediaType.ociManifest, digest: manifestDigest, size: size))
                }
            }
            for reference in references {
                index.manifests.append(Descriptor(
                    mediaType: MediaType.ociManifest, digest: manifestDigest, size: size,
                    annotations: [refNameAnnotation: reference.localName]))
            }
        }
        // A name moved away may have left an older image without names and unreferenced.
        await collectGarbageAfter("naming \(manifestDigest)")
    }

    /// Garbage collection as the tail of another operation (naming, removing): the operation has
    /// happened, so a failure to tidy up is reported as a warning and never becomes the
    /// operation's error (the next collection tries again; `system check` names what is left).
    func collectGarbageAfter(_ operation: String) async {
        do {
            try await collectGarbage()
        } catch {
            logger.warning("after \(operation): unused blobs or layers were not all removed: \(error)")
        }
    }

    /// Removes a name; the image itself (and its blobs and unpacked layers that no other image
    /// uses) goes when its last name does. Given an ID, removes the image with all its names.
    public func remove(_ reference: String) async throws(IntermodalError) {
        let image = try resolve(reference)
        let byName = (try? ImageReference.parse(reference)).map { ref in
            image.names.contains { $0.localName == ref.localName }
        } ?? false
        try await updateIndex { (index) throws(IntermodalError) in
            if byName, let ref = try? ImageReference.parse(reference) {
                index.manifests.removeAll { $0.annotations?[refNameAnnotation] == ref.localName }
            } else {
                index.manifests.removeAll { $0.digest == image.manifestDigest }
            }
        }
        await collectGarbageAfter("removing \(reference)")
    }

    /// Throws unless the image of this manifest loads (manifest and config parse, one diff ID per
    /// layer) and every layer blob is stored.
    func checkComplete(manifestDigest: String) throws(IntermodalError) {
        let image = try loadImage(manifestDigest: manifestDigest)
        for layer in image.layers where !hasBlob(layer.digest) {
            throw IntermodalError(.notFound, "image \(manifestDigest): layer \(layer.digest) is not in the store")
        }
    }

    /// Removes a damaged image's entries from `index.json` without reading its blobs (which is
    /// what fails for a damaged image): by name, only that name; by (a prefix of) its manifest
    /// digest, every entry of it. Returns the names removed. Unreferenced blobs go afterwards.
    /// What `rmi --force` does when ``resolve(_:)`` cannot load the image.
    @discardableResult
    public func removeDamaged(_ reference: String) async throws(IntermodalError) -> [String] {
        let wanted = (try? ImageReference.parse(reference))?.localName
        let hex = reference.hasPrefix("sha256:") ? String(reference.dropFirst(7)) : reference
        let removed = try await updateIndex { (index) throws(IntermodalError) -> [String] in
            var matches = index.manifests.filter { wanted != nil && $0.annotations?[refNameAnnotation] == wanted }
            if matches.isEmpty && hex.count >= 4 {
                let digests = Set(index.manifests.map(\.digest).filter { Digest.hex($0).hasPrefix(hex) })
                guard digests.count <= 1 else {
                    throw IntermodalError(.invalidArgument, "image ID prefix '\(reference)' is ambiguous")
                }
                matches = index.manifests.filter { digests.contains($0.digest) }
            }
            guard !matches.isEmpty else { throw IntermodalError(.notFound, "no such image: \(reference)") }
            index.manifests.removeAll { d in matches.contains(d) }
            return matches.map { $0.annotations?[refNameAnnotation] ?? $0.digest }
        }
        await collectGarbageAfter("removing \(reference)")
        return removed
    }

    /// Removes the name `reference` but keeps the image it named, untagged (`<none>`), when that
    /// was its last name: what `rmi --force` does to an image containers were made from, whose
    /// layers their writable layers sit on. (``remove(_:)`` is the untag that lets the image go.)
    public func untag(_ reference: ImageReference) async throws(IntermodalError) {
        let wanted = reference.localName
        try await updateIndex { (index) throws(IntermodalError) in
            guard let named = index.manifests.first(where: { $0.annotations?[refNameAnnotation] == wanted }) else {
                throw IntermodalError(.notFound, "no such image: \(reference)")
            }
            index.manifests.removeAll { $0.annotations?[refNameAnnotation] == wanted }
            if !index.manifests.contains(where: { $0.digest == named.digest }) {
                index.manifests.append(Descriptor(mediaType: named.mediaType, digest: named.digest, size: named.size))
            }
        }
    }

    /// Deletes blobs and unpacked layers no image refers to. Skipped (not an error) while another
    /// process is storing an image, whose blobs are not named yet.
    public func collectGarbage() async throws(IntermodalError) {
        guard let lease = try FileLock(ingestLockPath).tryAcquire(.exclusive) else { return }
        defer { lease.release() }
        try await FileLock(indexLockPath).withLock { () throws(IntermodalError) in
            let index = try readIndex()
            var keep = Set<String>()
            var keepDiffIDs = Set<String>()
            for descriptor in index.manifests {
                keep.insert(Digest.hex(descriptor.digest))
                guard let bytes = try? readBlob(descriptor.digest) else { continue }
                if MediaType.isIndex(descriptor.mediaType) {
                    // Foreign layouts may nest indexes; keep everything they name.
                    if let nested = try? JSON.decode(ImageIndex.self, from: bytes, what: "index") {
                        for m in nested.manifests { keep.insert(Digest.hex(m.digest)) }
                    }
                    continue
                }
                guard let manifest = try? JSON.decode(Manifest.self, from: bytes, what: "manifest") else { continue }
                keep.insert(Digest.hex(manifest.config.digest))
                for layer in manifest.layers { keep.insert(Digest.hex(layer.digest)) }
                if let config = try? JSON.decode(ImageConfiguration.self, from: try readBlob(manifest.config.digest), what: "config") {
                    for d in config.rootfs.diffIDs { keepDiffIDs.insert(Digest.hex(d)) }
                }
            }
            // One entry that cannot be removed does not keep the others: all are tried, the
            // first failure is thrown at the end.
            var firstFailure: IntermodalError?
            for name in try FileSystem.list(blobsDirectory) where !keep.contains(name) {
                logger.debug("removing unreferenced blob sha256:\(name)")
                if unlink(blobsDirectory.appending(name).string) != 0 && errno != ENOENT {
                    firstFailure = firstFailure ?? .system("cannot remove blob \(blobsDirectory.appending(name))")
                }
            }
            // An unpacked layer still serving as an overlay lower directory stays, whatever the index says.
            let mounted = Self.mountedOverlayOptions()
            for name in try FileSystem.list(layersDirectory) where !keepDiffIDs.contains(name) {
                let path = layersDirectory.appending(name).string
                if mounted.contains(where: { $0.contains(path) }) { continue }
                logger.debug("removing unpacked layer sha256:\(name)")
                do throws(IntermodalError) { try FileSystem.removeTree(layersDirectory.appending(name)) } catch { firstFailure = firstFailure ?? error }
            }
            // Nobody is ingesting (we hold the lease exclusively): what is in tmp was left by an
            // interrupted pull, commit or unpack and is never referenced.
            do throws(IntermodalError) { try reclaimTemporary() } catch { firstFailure = firstFailure ?? error }
            if let firstFailure { throw firstFailure }
        }
    }

    /// Mount options of the overlay mounts on this host (their lowerdir lists).
    static func mountedOverlayOptions() -> [String] {
        MountTable.current().entries.filter { $0.fileSystemType == "overlay" }.map { $0.superOptions.joined(separator: ",") }
    }

    /// Checks that every blob the index refers to (manifests, configs, layers) is present and
    /// matches its digest; returns the problems found (empty when the store is consistent).
    public func verify() throws(IntermodalError) -> [String] {
        var problems: [String] = []
        var checked = Set<String>()
        for descriptor in try readIndex().manifests {
            do throws(IntermodalError) {
                let image = try loadImage(manifestDigest: descriptor.digest)
                for layer in image.layers where !checked.contains(layer.digest) {
                    checked.insert(layer.digest)
                    let path = try blobPath(layer.digest)
                    guard FileSystem.exists(path) else { problems.append("layer \(layer.digest) is missing"); continue }
                    let digest = try Digest.sha256(file: path)
                    if digest != layer.digest { problems.append("layer \(layer.digest) hashes to \(digest)") }
                }
            } catch {
                problems.append("image \(descriptor.digest): \(error)")
            }
        }
        return problems
    }

    /// Bytes used by blobs, each counted once however many images share it.
    public func diskUsage() throws(IntermodalError) -> DiskUsage {
        let images = try list()
        var users: [String: Int] = [:]
        var sizes: [String: Int64] = [:]
        for image in images {
            for layer in Set(image.layers) {
                users[layer.digest, default: 0] += 1
                sizes[layer.digest] = layer.size
            }
        }
        var usage = DiskUsage()
        for name in try FileSystem.list(blobsDirectory) {
            var st = stat()
            if stat(blobsDirectory.appending(name).string, &st) == 0 { usage.blobBytes += Int64(st.st_size) }
        }
        usage.layerCount = sizes.count
        usage.sharedLayerBytes = sizes.filter { (users[$0.key] ?? 0) > 1 }.values.reduce(0, +)
        usage.layerBytesIfNotShared = images.reduce(0) { $0 + $1.size }
        for image in images {
            usage.uniqueBytes[image.manifestDigest] = image.layers.filter { (users[$0.digest] ?? 0) == 1 }.reduce(0) { $0 + $1.size }
        }
        return usage
    }
}

/// The images of a store, and the `index.json` entries that do not load.
public struct ImageListing: Sendable {
    /// Images that load, newest first.
    public var images: [Image] = []
    /// Entries whose manifest or configuration is missing or unreadable.
    public var damaged: [DamagedImage] = []
}

/// An `index.json` entry whose image cannot be loaded, and why.
public struct DamagedImage: Sendable {
    public var manifestDigest: String
    public var names: [ImageReference]
    public var problem: IntermodalError

    /// How the user names it to `rmi --force`: its first name, else its digest.
    public var handle: String { names.first?.description ?? manifestDigest }
}

/// How much the store occupies and how much sharing of layers saves.
public struct DiskUsage: Sendable {
    /// All blobs on disk (each stored once).
    public var blobBytes: Int64 = 0
    /// Distinct layers referenced.
    public var layerCount = 0
    /// Bytes of layers used by more than one image.
    public var sharedLayerBytes: Int64 = 0
    /// What the images' layers would take if each image had its own copy.
    public var layerBytesIfNotShared: Int64 = 0
    /// Per manifest digest: bytes of layers only that image uses.
    public var uniqueBytes: [String: Int64] = [:]
}
