import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `intermodal image bootstrap debian`: a Debian root file system made by debootstrap from the
/// host's configured apt mirror (this host has no other way out), as a one-layer image.
///
/// debootstrap takes minutes, so its result is cached as a finished layer blob under
/// `IntermodalPaths.cacheRoot/debootstrap/<suite>-<variant>-<hash of mirror>/`; later bootstraps
/// (and tests) copy the verified blob into the store in a second.
public struct DebianBootstrap: Sendable {
    public var suite: String
    public var variant: String
    public var mirror: String
    public var cacheRoot: FilePath
    /// Extra packages (`--include`).
    public var include: [String]
    /// The debootstrap executable (Debian's, unless a caller brings its own).
    public var program: FilePath

    public init(suite: String = "bookworm", variant: String = "minbase", mirror: String? = nil,
                include: [String] = [], cacheRoot: FilePath = IntermodalPaths.cacheRoot,
                program: FilePath = "/usr/sbin/debootstrap") throws(IntermodalError) {
        self.program = program
        self.suite = suite
        self.variant = variant
        self.include = include
        self.cacheRoot = cacheRoot
        if let mirror { self.mirror = mirror } else { self.mirror = try Self.hostMirror(suite: suite) }
    }

    /// The URI of the host's apt source for `suite` (deb822 `.sources` files first, then `sources.list`).
    public static func hostMirror(suite: String) throws(IntermodalError) -> String {
        let sourcesDir: FilePath = "/etc/apt/sources.list.d"
        let files = ((try? FileSystem.list(sourcesDir)) ?? []).filter { $0.hasSuffix(".sources") }
        for file in files {
            guard let text = try? FileSystem.readString(sourcesDir.appending(file)) else { continue }
            for stanza in text.split(separator: "\n\n") {
                var uris: [String] = []
                var suites: [String] = []
                for line in stanza.split(separator: "\n") where !line.hasPrefix("#") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    let values = parts[1].split(separator: " ").map(String.init)
                    switch parts[0].trimmed.lowercased() {
                    case "uris": uris = values
                    case "suites": suites = values
                    default: break
                    }
                }
                if suites.contains(suite), let uri = uris.first { return uri }
            }
        }
        if let text = try? FileSystem.readString("/etc/apt/sources.list") {
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ").map(String.init)
                if f.count >= 3, f[0] == "deb", f.contains(suite) {
                    let uri = f[1].hasPrefix("[") ? f[2] : f[1]
                    return uri
                }
            }
        }
        throw IntermodalError(.notFound, "no apt source for suite '\(suite)' in /etc/apt (give --mirror)")
    }

    /// The cache directory for these inputs.
    public var cacheDirectory: FilePath {
        let key = Digest.hex(Digest.sha256(Array("\(suite)|\(variant)|\(mirror)|\(include.sorted().joined(separator: ","))".utf8))).prefix(12)
        return cacheRoot.appending("debootstrap").appending("\(suite)-\(variant)-\(key)")
    }

    /// The cached layer, made by debootstrap first when missing. Concurrent callers (threads or
    /// processes) wait for one build, off the cooperative pool (``FileLock``).
    public func cachedLayer() async throws(IntermodalError) -> (blob: FilePath, layer: LayerDescriptor) {
        let dir = cacheDirectory
        try FileSystem.createDirectory(dir)
        return try await FileLock(dir.appending("lock")).withLock { () async throws(IntermodalError) -> (blob: FilePath, layer: LayerDescriptor) in
            if let cached = cached(in: dir) { return cached }
            // Whoever holds the lock is the only builder: a work directory still here was left by
            // a build that was killed (kill -9 leaves no chance to clean up), so it goes now.
            for name in (try? FileSystem.list(dir)) ?? [] where name.hasPrefix(Self.workPrefix) {
                try FileSystem.removeTree(dir.appending(name))
            }
            return try await build(in: dir)
        }
    }

    /// The name prefix of the temporary directories a build works in.
    static let workPrefix = "debootstrap"

    private func cached(in dir: FilePath) -> (blob: FilePath, layer: LayerDescriptor)? {
        let blob = dir.appending("layer.tar.gz")
        let meta = dir.appending("layer.json")
        guard FileSystem.exists(blob), let bytes = try? FileSystem.readBytes(meta),
              let info = try? JSON.decode(CachedLayer.self, from: bytes, what: meta.string) else { return nil }
        return (blob, LayerDescriptor(digest: info.digest, size: info.size, mediaType: MediaType.ociLayerGzip, diffID: info.diffID))
    }

    /// Runs debootstrap into a work directory and packs the tree as the cached layer.
    private func build(in dir: FilePath) async throws(IntermodalError) -> (blob: FilePath, layer: LayerDescriptor) {
        let blob = dir.appending("layer.tar.gz")
        let meta = dir.appending("layer.json")
        let work = try FileSystem.makeTemporaryDirectory(prefix: Self.workPrefix, in: dir)
        defer { try? FileSystem.removeTree(work) }
        let tree = work.appending("rootfs")
        var args = ["--variant=\(variant)"]
        if !include.isEmpty { args.append("--include=\(include.joined(separator: ","))") }
        args += [suite, tree.string, mirror]
        guard FileSystem.exists(program) else {
            throw IntermodalError(.notFound, "debootstrap is not installed at \(program) (apt-get install debootstrap)")
        }
        try await HostCommand.check(program.string, args)
        // Downloaded packages are not part of the image (Docker's debian images drop them too).
        for sub in ["var/cache/apt/archives", "var/lib/apt/lists"] {
            for name in (try? FileSystem.list(tree.appending(sub))) ?? [] where name != "partial" && name != "lock" {
                try FileSystem.removeTree(tree.appending(sub).appending(name))
            }
        }
        let out = try await DedicatedThread.run { () throws(IntermodalError) in
            var builder = LayerBuilder()
            builder.source = .tree
            return try builder.build(tree, output: work.appending("layer.tar.gz"))
        }
        guard rename(out.file.string, blob.string) == 0 else { throw .system("cannot move the layer to \(blob)") }
        try FileSystem.writeAtomically(try JSON.encode(CachedLayer(digest: out.digest, size: out.size, diffID: out.diffID)), to: meta)
        return (blob, LayerDescriptor(digest: out.digest, size: out.size, mediaType: MediaType.ociLayerGzip, diffID: out.diffID))
    }

    struct CachedLayer: Codable {
        var digest: String
        var size: Int64
        var diffID: String
    }
}

extension ImageStore {
    /// `intermodal image bootstrap debian NAME`: a Debian image from debootstrap (cached).
    public func bootstrapDebian(name: ImageReference, bootstrap: DebianBootstrap) async throws(IntermodalError) -> Image {
        let (blob, layer) = try await bootstrap.cachedLayer()
        return try await withIngestLease { () async throws(IntermodalError) -> Image in
            if !hasBlob(layer.digest) {
                let tmp = try temporaryFile("debian")
                do throws(IntermodalError) {
                    try await HostCommand.check("/bin/cp", ["--reflink=auto", blob.string, tmp.string])
                } catch {
                    // A full store: the partial copy goes with the error.
                    unlink(tmp.string)
                    throw error
                }
                try ingestBlob(file: tmp, expectedDigest: layer.digest, expectedSize: layer.size, what: "cached Debian layer \(blob)")
            }
            let config = ImageConfiguration(
                config: .init(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cmd: ["bash"]),
                history: [HistoryEntry(
                    created: Timestamp.now(),
                    createdBy: "intermodal image bootstrap debian --suite \(bootstrap.suite) --variant \(bootstrap.variant) (\(bootstrap.mirror))")])
            return try await createImage(layers: [layer], configuration: config, names: [name])
        }
    }
}
