import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// Writes `images` as an OCI image layout at `directory` (created; must not hold a different
    /// layout), each name an `index.json` entry, blobs hard-linked when possible. skopeo (`oci:DIR:NAME`)
    /// and umoci (`--image DIR:NAME`) read it.
    public func save(_ images: [Image], toLayout directory: FilePath) throws(IntermodalError) {
        try OCILayout.initialize(directory)
        var index = try OCILayout.readIndex(directory)
        for image in images {
            let manifestBytes = try readBlob(image.manifestDigest)
            let manifest = try JSON.decode(Manifest.self, from: manifestBytes, what: "manifest \(image.manifestDigest)")
            for descriptor in [manifest.config] + manifest.layers + [Descriptor(mediaType: "", digest: image.manifestDigest, size: 0)] {
                let target = directory.appending("blobs/sha256").appending(Digest.hex(descriptor.digest))
                if FileSystem.exists(target) { continue }
                let source = try blobPath(descriptor.digest)
                if link(source.string, target.string) != 0 {
                    try copyFile(source, target)
                }
            }
            let names = image.reference.map { [$0] } ?? image.names
            index.manifests.removeAll { d in names.contains { $0.localName == d.annotations?[refNameAnnotation] } }
            if names.isEmpty {
                index.manifests.append(Descriptor(mediaType: MediaType.ociManifest, digest: image.manifestDigest, size: Int64(manifestBytes.count)))
            }
            for name in names {
                index.manifests.append(Descriptor(
                    mediaType: MediaType.ociManifest, digest: image.manifestDigest, size: Int64(manifestBytes.count),
                    annotations: [refNameAnnotation: name.localName]))
            }
        }
        try FileSystem.writeAtomically(try JSON.encode(index), to: directory.appending("index.json"))
    }

    /// Writes `images` as a tar of an OCI image layout (what `skopeo copy oci-archive:` reads).
    public func save(_ images: [Image], toArchive file: FilePath) async throws(IntermodalError) {
        try await withIngestLease { () async throws(IntermodalError) in
            let work = try temporaryDirectory("save")
            defer { try? FileSystem.removeTree(work) }
            let layout = work.appending("layout")
            try save(images, toLayout: layout)
            let tmp = FilePath(file.string + ".partial")
            try writeTar(of: layout, to: tmp)
            guard rename(tmp.string, file.string) == 0 else { throw .system("cannot move \(tmp) to \(file)") }
        }
    }

    /// Loads every image of an OCI layout directory or a tar of one. Every blob is verified
    /// against its digest and size before it is stored; names come from the
    /// `org.opencontainers.image.ref.name` annotations (a bare tag gets `repository`, default:
    /// the layout's directory name). Returns the images loaded.
    public func load(from path: FilePath, repository: String? = nil) async throws(IntermodalError) -> [Image] {
        if FileSystem.isDirectory(path) {
            return try await loadLayout(path, repository: repository ?? path.lastComponent?.stem)
        }
        return try await withIngestLease { () async throws(IntermodalError) -> [Image] in
            let work = try temporaryDirectory("load")
            defer { try? FileSystem.removeTree(work) }
            let layout = work.appending("layout")
            try FileSystem.createDirectory(layout)
            let input = try ArchiveInput(file: path, name: path.string, sizeLimit: layerSizeLimit)
            _ = try LayerUnpacker(destination: layout, mode: .apply, layerName: path.string).unpack(input)
            return try await loadLayout(layout, repository: repository ?? path.lastComponent?.stem)
        }
    }

    private func loadLayout(_ layout: FilePath, repository: String?) async throws(IntermodalError) -> [Image] {
        let index = try OCILayout.readIndex(layout)
        let fallbackRepository = Self.sanitizedRepository(repository ?? "loaded")
        return try await withIngestLease { () async throws(IntermodalError) -> [Image] in
            // First every image's blobs are copied and checked, then all are named: a layout with
            // one bad image loads nothing (and names nothing), rather than half.
            var ready: [(descriptor: Descriptor, size: Int64, names: [ImageReference])] = []
            for entry in index.manifests {
                var descriptor = entry
                if MediaType.isIndex(descriptor.mediaType) {
                    let bytes = try copyBlob(from: layout, descriptor)
                    let nested = try JSON.decode(ImageIndex.self, from: bytes, what: "index \(descriptor.digest)")
                    guard let chosen = Self.choosePlatform(nested.manifests) else {
                        throw IntermodalError(.notFound, "\(layout): index \(descriptor.digest) has no linux/\(ImageConfiguration.hostArchitecture) image")
                    }
                    descriptor = chosen
                }
                let manifestBytes = try copyBlob(from: layout, descriptor)
                let manifest = try JSON.decode(Manifest.self, from: manifestBytes, what: "manifest \(descriptor.digest)")
                _ = try copyBlob(from: layout, manifest.config)
                for layer in manifest.layers {
                    _ = try copyBlob(from: layout, layer)
                    try await checkLayerSize(layer.digest)
                }
                do throws(IntermodalError) {
                    try checkComplete(manifestDigest: descriptor.digest)
                } catch {
                    throw IntermodalError(error.code, "\(layout): \(error.message)", cause: error.cause)
                }
                var names: [ImageReference] = []
                if let refName = entry.annotations?[refNameAnnotation] {
                    if refName.contains(":"), let ref = try? ImageReference.parse(refName) {
                        names.append(ref.withoutRegistry)
                    } else if ImageReference.isValidTag(refName) {
                        names.append(ImageReference(repository: fallbackRepository, tag: refName))
                    }
                }
                ready.append((descriptor, Int64(manifestBytes.count), names))
            }
            var loaded: [Image] = []
            for item in ready {
                try await name(manifestDigest: item.descriptor.digest, size: item.size, as: item.names)
                var image = try loadImage(manifestDigest: item.descriptor.digest)
                image.names = item.names
                image.reference = item.names.first
                loaded.append(image)
            }
            return loaded
        }
    }

    /// The linux/<host arch> manifest of a multi-platform index.
    static func choosePlatform(_ manifests: [Descriptor]) -> Descriptor? {
        manifests.first { $0.platform?.os == "linux" && $0.platform?.architecture == ImageConfiguration.hostArchitecture }
            ?? (manifests.count == 1 && manifests[0].platform == nil ? manifests[0] : nil)
    }

    /// Copies one blob of a foreign layout into the store, verified; returns it if small (JSON).
    private func copyBlob(from layout: FilePath, _ descriptor: Descriptor) throws(IntermodalError) -> [UInt8] {
        guard Digest.isValid(descriptor.digest) else {
            throw IntermodalError(.corrupted, "\(layout): invalid digest '\(descriptor.digest)'")
        }
        let source = layout.appending("blobs/sha256").appending(Digest.hex(descriptor.digest))
        guard FileSystem.exists(source) else {
            throw IntermodalError(.notFound, "\(layout): blob \(descriptor.digest) is missing")
        }
        if !hasBlob(descriptor.digest) {
            let tmp = try temporaryFile("load")
            do throws(IntermodalError) { try copyFile(source, tmp) } catch {
                unlink(tmp.string)
                throw error
            }
            try ingestBlob(file: tmp, expectedDigest: descriptor.digest, expectedSize: descriptor.size,
                           what: "\(layout): blob \(descriptor.digest)")
        }
        return descriptor.size <= 4 << 20 ? try readBlob(descriptor.digest) : []
    }

    /// A repository name made from a directory name (`My_Images` -> `my_images`).
    static func sanitizedRepository(_ text: String) -> String {
        var s = String(text.lowercased().map { c -> Character in
            (c.isLetter && c.isASCII) || c.isNumber || c == "." || c == "_" || c == "-" ? c : "-"
        })
        while let f = s.first, !(f.isLetter || f.isNumber) { s.removeFirst() }
        while let l = s.last, !(l.isLetter || l.isNumber) { s.removeLast() }
        return s.isEmpty ? "loaded" : s
    }

    /// A deterministic uncompressed tar of a directory.
    func writeTar(of directory: FilePath, to file: FilePath) throws(IntermodalError) {
        var builder = LayerBuilder()
        builder.compress = false
        _ = try builder.build(directory, output: file)
    }
}

/// Byte copy of a file (used when a hard link is not possible).
func copyFile(_ source: FilePath, _ target: FilePath) throws(IntermodalError) {
    let out = open(target.string, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard out >= 0 else { throw .system("cannot create \(target)") }
    defer { close(out) }
    try FileChunks.forEach(source) { chunk throws(IntermodalError) in
        try Interruption.check("while copying \(source)")
        var offset = 0
        while offset < chunk.count {
            let n = write(out, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 { if errno == EINTR { continue }; throw .system("cannot write \(target)") }
            offset += n
        }
    }
}
