import IntermodalCore
import SystemPackage
import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// What a pull or push moved, for the CLI and the harness.
public struct TransferResult: Sendable {
    public var image: Image
    /// Blobs transferred, and those skipped because the other side already had them.
    public var blobsTransferred = 0
    public var blobsSkipped = 0
    public var bytesTransferred: Int64 = 0
    public var timestamps = PhaseTimestamps()
}

extension RegistryClient {
    static let manifestAccept = [
        MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
    ].joined(separator: ", ")

    /// Pulls `reference` (its registry must be this client's) into `store`, verifying every blob.
    /// The image is named `repository:tag` locally. Layers the store has are not downloaded.
    public func pull(_ reference: ImageReference, into store: ImageStore) async throws(IntermodalError) -> TransferResult {
        let repo = reference.repository
        let scope = "repository:\(repo):pull"
        var timestamps = PhaseTimestamps()
        timestamps.mark(.create)
        return try await store.withIngestLease { () async throws(IntermodalError) -> TransferResult in
            var (bytes, mediaType) = try await fetchManifest(repo, reference.digest ?? reference.tag, expected: reference.digest, scope: scope)
            if MediaType.isIndex(mediaType) {
                let index = try JSON.decode(ImageIndex.self, from: bytes, what: "index of \(reference)")
                guard let chosen = ImageStore.choosePlatform(index.manifests) else {
                    throw IntermodalError(.notFound, "\(reference): no linux/\(ImageConfiguration.hostArchitecture) image in its index")
                }
                (bytes, mediaType) = try await fetchManifest(repo, chosen.digest, expected: chosen.digest, scope: scope)
            }
            guard MediaType.isManifest(mediaType) else {
                throw IntermodalError(.unsupported, "\(reference): unsupported manifest type '\(mediaType)'")
            }
            let manifest = try JSON.decode(Manifest.self, from: bytes, what: "manifest of \(reference)")
            var result = TransferResult(image: try placeholderImage())
            for descriptor in [manifest.config] + manifest.layers {
                if store.hasBlob(descriptor.digest) {
                    result.blobsSkipped += 1
                    continue
                }
                let tmp = try await download("/v2/\(repo)/blobs/\(descriptor.digest)", store: store, scope: scope,
                                             what: "blob \(descriptor.digest) of \(reference)")
                let (_, size) = try store.ingestBlob(file: tmp, expectedDigest: descriptor.digest, expectedSize: descriptor.size,
                                                     what: "\(reference): blob \(descriptor.digest)")
                result.blobsTransferred += 1
                result.bytesTransferred += size
            }
            for layer in manifest.layers { try await store.checkLayerSize(layer.digest) }
            let manifestDigest = try store.writeBlob(bytes)
            try await store.name(manifestDigest: manifestDigest, size: Int64(bytes.count), as: [reference.withoutRegistry])
            result.image = try store.resolve(reference.withoutRegistry.localName)
            timestamps.mark(.exit)
            result.timestamps = timestamps
            return result
        }
    }

    /// GETs a blob straight to a file in the store's tmp (layers can be large; they never sit in
    /// memory). A failed or interrupted download removes its file: nothing half-written remains
    /// for anything to reference, and the caller verifies size and digest before ingesting.
    func download(_ path: String, store: ImageStore, scope: String, what: String) async throws(IntermodalError) -> FilePath {
        let response = try await exchange("GET", path, scope: scope)
        guard response.statusCode == 200 else {
            throw fail(what, response, (try? await response.collect(limit: 64 << 10, what)) ?? [])
        }
        let tmp = try store.temporaryFile("pull")
        do {
            try await Self.stream(response.body, to: tmp, what: what)
            return tmp
        } catch {
            unlink(tmp.string)
            throw error
        }
    }

    /// Writes a response body to `file` as it arrives.
    private static func stream(_ body: HTTPClientResponse.Body, to file: FilePath, what: String) async throws(IntermodalError) {
        let fd = open(file.string, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(file)") }
        defer { close(fd) }
        do {
            for try await buffer in body {
                try Interruption.check("while downloading \(what)")
                try buffer.withUnsafeReadableBytes { (bytes) throws(IntermodalError) in
                    var done = 0
                    while done < bytes.count {
                        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { throw .system("cannot write \(file)") }
                        done += n
                    }
                }
            }
        } catch let error as IntermodalError {
            throw error
        } catch {
            throw IntermodalError(.externalFailure, "\(what): the download broke off", cause: error)
        }
    }

    private func placeholderImage() throws(IntermodalError) -> Image {
        Image(reference: nil, manifestDigest: "", configDigest: "", configuration: ImageConfiguration(), layers: [])
    }

    /// GETs a manifest; checks it against `expected` (or the registry's Docker-Content-Digest).
    func fetchManifest(_ repo: String, _ tagOrDigest: String, expected: String?, scope: String) async throws(IntermodalError) -> ([UInt8], String) {
        let (bytes, http) = try await send(
            "GET", "/v2/\(repo)/manifests/\(tagOrDigest)", headers: [("Accept", Self.manifestAccept)], scope: scope)
        guard http.statusCode == 200 else { throw fail("manifest \(repo):\(tagOrDigest)", http, bytes) }
        let digest = Digest.sha256(bytes)
        if let expected = expected ?? http.value("Docker-Content-Digest"), expected != digest {
            throw IntermodalError(.corrupted, "manifest \(repo):\(tagOrDigest): digest mismatch (expected \(expected), got \(digest))")
        }
        var mediaType = http.value("Content-Type") ?? ""
        if let semicolon = mediaType.firstIndex(of: ";") { mediaType = String(mediaType[..<semicolon]) }
        if !MediaType.isIndex(mediaType) && !MediaType.isManifest(mediaType) {
            // Fall back to the document's own mediaType field.
            struct Probe: Decodable { var mediaType: String?; var manifests: [Descriptor]? }
            let probe = try JSON.decode(Probe.self, from: bytes, what: "manifest \(repo):\(tagOrDigest)")
            mediaType = probe.mediaType ?? (probe.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest)
        }
        return (bytes, mediaType)
    }

    /// Pushes `image` as `reference` (repository and tag on this registry): blobs the registry
    /// lacks go up by a chunked upload (POST, PATCH…, PUT), then the manifest.
    public func push(_ image: Image, as reference: ImageReference, from store: ImageStore) async throws(IntermodalError) -> TransferResult {
        let repo = reference.repository
        let scope = "repository:\(repo):pull,push"
        var result = TransferResult(image: image)
        result.timestamps.mark(.create)
        let manifestBytes = try store.readBlob(image.manifestDigest)
        let manifest = try JSON.decode(Manifest.self, from: manifestBytes, what: "manifest \(image.manifestDigest)")
        for descriptor in manifest.layers + [manifest.config] {
            let (_, head) = try await send("HEAD", "/v2/\(repo)/blobs/\(descriptor.digest)", scope: scope)
            if head.statusCode == 200 {
                result.blobsSkipped += 1
                continue
            }
            try await upload(descriptor, repo: repo, store: store, scope: scope)
            result.blobsTransferred += 1
            result.bytesTransferred += descriptor.size
        }
        let mediaType = manifest.mediaType ?? MediaType.ociManifest
        let (data, http) = try await send(
            "PUT", "/v2/\(repo)/manifests/\(reference.tag)", headers: [("Content-Type", mediaType)],
            body: manifestBytes, scope: scope)
        guard http.statusCode == 201 || http.statusCode == 200 else { throw fail("manifest upload of \(reference)", http, data) }
        if let returned = http.value("Docker-Content-Digest"), returned != image.manifestDigest {
            throw IntermodalError(.corrupted, "registry \(registry) stored the manifest of \(reference) as \(returned), not \(image.manifestDigest)")
        }
        result.timestamps.mark(.exit)
        return result
    }

    /// Chunked upload of one blob.
    private func upload(_ descriptor: Descriptor, repo: String, store: ImageStore, scope: String) async throws(IntermodalError) {
        let (startData, start) = try await send("POST", "/v2/\(repo)/blobs/uploads/", body: [], scope: scope)
        guard start.statusCode == 202, var location = start.value("Location") else {
            throw fail("starting the upload of \(descriptor.digest)", start, startData)
        }
        let path = try store.blobPath(descriptor.digest)
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)") }
        defer { close(fd) }
        var offset: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
            guard n >= 0 else { throw .system("cannot read \(path)") }
            if n == 0 { break }
            let (data, http) = try await send(
                "PATCH", location,
                // AsyncHTTPClient sets Content-Length from the body.
                headers: [
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Range", "\(offset)-\(offset + Int64(n) - 1)"),
                ],
                body: Array(buffer[0..<n]), scope: scope)
            guard http.statusCode == 202, let next = http.value("Location") else {
                throw fail("uploading \(descriptor.digest) at byte \(offset)", http, data)
            }
            location = next
            offset += Int64(n)
        }
        let separator = location.contains("?") ? "&" : "?"
        let (data, http) = try await send(
            "PUT", location + separator + "digest=\(descriptor.digest)", body: [], scope: scope)
        guard http.statusCode == 201 else { throw fail("finishing the upload of \(descriptor.digest)", http, data) }
    }
}
