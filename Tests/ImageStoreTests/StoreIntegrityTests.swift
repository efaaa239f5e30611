import Foundation
@testable import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// Nothing lost, nothing stuck: failed, damaged, hostile and interrupted work never leaves the
/// store unusable (issue 14).
@Suite("The store survives bad input and interruptions")
struct StoreIntegrityTests {
    let t: TemporaryStore
    init() throws { t = try TemporaryStore() }

    /// What the issue asks of a store after each of these: `system check` finds no damage
    /// (leftovers of interrupted work may be listed; they are reclaimed by the next lease).
    static func expectNoDamage(_ store: ImageStore, _ after: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let damage = store.check().filter { $0.severity == .damage }
        #expect(damage.isEmpty, "system check after \(after): \(damage)", sourceLocation: sourceLocation)
    }

    /// Writes `bytes` as a blob of the layout at `layout`; returns its descriptor fields.
    private func putBlob(_ bytes: [UInt8], in layout: FilePath) throws -> (digest: String, size: Int64) {
        let digest = Digest.sha256(bytes)
        try FileSystem.writeAtomically(bytes, to: layout.appending("blobs/sha256").appending(Digest.hex(digest)))
        return (digest, Int64(bytes.count))
    }

    /// A saved layout of `image` whose config is replaced by `config` (digests fixed up, so every
    /// blob verifies and only the JSON is bad).
    private func layoutWithConfig(_ config: String, named name: String) async throws -> FilePath {
        let image = try await t.store.bootstrapBusybox(name: try ImageReference.parse(name))
        let layout = t.root.appending("layout-\(UInt32.random(in: 0...UInt32.max))")
        try t.store.save([image], toLayout: layout)
        var manifest = try t.store.manifest(of: image)
        let newConfig = try putBlob(Array(config.utf8), in: layout)
        manifest.config = Descriptor(mediaType: MediaType.ociConfig, digest: newConfig.digest, size: newConfig.size)
        let manifestBlob = try putBlob(try JSON.encode(manifest), in: layout)
        var index = try OCILayout.readIndex(layout)
        index.manifests = index.manifests.map { d in
            var d = d
            d.digest = manifestBlob.digest
            d.size = manifestBlob.size
            return d
        }
        try FileSystem.writeAtomically(try JSON.encode(index), to: layout.appending("index.json"))
        return layout
    }

    @Test func aFailedLoadNamesNothing() async throws {
        let layout = try await layoutWithConfig(#"{"architecture": "amd64", "config": {"#, named: "bad:1")
        let other = try ImageStore(root: t.root.appending("other"))
        await #expect(throws: IntermodalError.self) { _ = try await other.load(from: layout) }
        #expect(try other.readIndex().manifests.isEmpty, "the failed image is not in index.json")
        #expect(try other.list().isEmpty)
        // A config that parses but does not match its layers is refused the same way.
        let mismatched = try await layoutWithConfig(
            #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#, named: "bad:2")
        await #expect(throws: IntermodalError.self) { _ = try await other.load(from: mismatched) }
        #expect(try other.readIndex().manifests.isEmpty)
        Self.expectNoDamage(other, "two failed loads")
    }

    @Test func aLayoutWithOneBadImageLoadsNone() async throws {
        let bad = try await layoutWithConfig(#"{"architecture": "amd64", "config": {"#, named: "bad:1")
        // Add a good image to the same layout, listed before the bad one.
        let good = try await t.store.bootstrapBusybox(name: try ImageReference.parse("good:1"))
        var index = try OCILayout.readIndex(bad)
        try t.store.save([good], toLayout: bad)
        let withGood = try OCILayout.readIndex(bad)
        index.manifests = withGood.manifests.filter { $0.annotations?[refNameAnnotation] == "good:1" } + index.manifests
        try FileSystem.writeAtomically(try JSON.encode(index), to: bad.appending("index.json"))
        let other = try ImageStore(root: t.root.appending("other"))
        await #expect(throws: IntermodalError.self) { _ = try await other.load(from: bad) }
        #expect(try other.readIndex().manifests.isEmpty, "all or nothing: the good image is not named either")
    }

    /// A store damaged the way older versions left it: a name whose config is not valid JSON.
    private func registerDamaged(_ name: String) throws {
        let config = Array(#"{"architecture": "amd64", "config": {"#.utf8)
        let configDigest = try t.store.writeBlob(config)
        let manifest = Manifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(config.count)), layers: [])
        let bytes = try JSON.encode(manifest)
        let digest = try t.store.writeBlob(bytes)
        var index = try t.store.readIndex()
        index.manifests.append(Descriptor(
            mediaType: MediaType.ociManifest, digest: digest, size: Int64(bytes.count), annotations: [refNameAnnotation: name]))
        try FileSystem.writeAtomically(try JSON.encode(index), to: t.store.layoutDirectory.appending("index.json"))
    }

    @Test func oneDamagedImageNeverHidesTheOthers() async throws {
        _ = try await t.store.bootstrapBusybox(name: try ImageReference.parse("fine:1"))
        try registerDamaged("broken:1")
        let listing = try t.store.listing()
        #expect(listing.images.map { $0.names.map(\.localName) } == [["fine:1"]])
        #expect(listing.damaged.map(\.handle) == ["broken:1"])
        #expect(listing.damaged.first?.problem.message.contains("not valid JSON") == true)
        #expect(try t.store.list().count == 1, "list works around the damaged entry")
        // The check names it as damage, with the command that removes it, and nothing else.
        let findings = t.store.check()
        #expect(findings.map(\.severity) == [.damage], "\(findings)")
        #expect(findings.first?.repair.contains("rmi --force broken:1") == true)
        _ = try t.store.diskUsage()
        // Resolving the damaged one says so, and how to remove it.
        let error = try #require(throws: IntermodalError.self) { _ = try t.store.resolve("broken:1") }
        #expect(error.code == .corrupted)
        #expect(error.message.contains("damaged") && error.message.contains("rmi --force broken:1"))
        // Removing it works without reading its blobs; the good image stays.
        #expect(try await t.store.removeDamaged("broken:1") == ["broken:1"])
        #expect(try t.store.readIndex().manifests.count == 1)
        #expect(try t.store.resolve("fine:1").names.map(\.localName) == ["fine:1"])
    }

    /// Item 1 as the issue found it, on the command line: `load` of a layout whose config is
    /// truncated JSON exits 125 and names nothing; a store damaged that way (as older versions
    /// left it) still lists, `rmi` says what is wrong and how to remove it, `rmi --force` removes
    /// it, and `system check` passes afterwards.
    @Test func theCommandLineWorksAroundADamagedImage() async throws {
        let root = t.root.appending("cli")
        func cli(_ args: String...) async throws -> CommandResult { try await ImageCLI.run(args + ["--root", root.string]) }
        let layout = try await layoutWithConfig(#"{"architecture": "amd64", "config": {"#, named: "bad:1")
        let load = try await cli("load", "-i", layout.string)
        #expect(load.exitCode == 125, "\(load.standardError)")
        #expect(try await cli("images", "-q").standardOutput.isEmpty, "the failed load named nothing")
        #expect(try await cli("system", "check").exitCode == 0)
        // The damage older versions left: a name whose config is not valid JSON, beside a good image.
        #expect(try await cli("image", "bootstrap", "busybox", "fine:1").exitCode == 0)
        let store = try ImageStore(root: root)
        let config = Array(#"{"architecture": "amd64", "config": {"#.utf8)
        let configDigest = try store.writeBlob(config)
        let manifest = try JSON.encode(Manifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(config.count)), layers: []))
        let manifestDigest = try store.writeBlob(manifest)
        var index = try store.readIndex()
        index.manifests.append(Descriptor(
            mediaType: MediaType.ociManifest, digest: manifestDigest, size: Int64(manifest.count), annotations: [refNameAnnotation: "broken:1"]))
        try FileSystem.writeAtomically(try JSON.encode(index), to: store.layoutDirectory.appending("index.json"))

        let images = try await cli("images")
        #expect(images.exitCode == 0 && images.standardOutput.contains("fine"), "\(images.standardOutput)\(images.standardError)")
        #expect(images.standardError.contains("broken:1"), "images warns about the damaged entry: \(images.standardError)")
        let damaged = try await cli("system", "check")
        #expect(damaged.exitCode == 1 && damaged.standardOutput.contains("rmi --force broken:1"), "\(damaged.standardOutput)")
        let rmi = try await cli("rmi", "broken:1")
        #expect(rmi.exitCode != 0 && rmi.standardError.contains("rmi --force broken:1"), "\(rmi.standardError)")
        let forced = try await cli("rmi", "--force", "broken:1")
        #expect(forced.exitCode == 0, "\(forced.standardError)")
        let after = try await cli("images")
        #expect(after.exitCode == 0 && after.standardOutput.contains("fine") && !after.standardError.contains("broken"), "\(after.standardError)")
        let check = try await cli("system", "check")
        #expect(check.exitCode == 0, "\(check.standardOutput)\(check.standardError)")
    }

    @Test func aMissingIndexIsDamageNotAnEmptyStore() async throws {
        _ = try await t.store.bootstrapBusybox(name: try ImageReference.parse("fine:1"))
        unlink(t.store.layoutDirectory.appending("index.json").string)
        let reopened = try ImageStore(root: t.store.root)
        let error = try #require(throws: IntermodalError.self) { _ = try reopened.list() }
        #expect(error.code == .corrupted)
        #expect(error.message.contains("index.json is missing"))
        #expect(!FileSystem.exists(t.store.layoutDirectory.appending("index.json")), "not silently recreated")
    }

    // One entry `d/d/…/d/leaf` `depth` levels down: the unpacker makes every directory.
    /// On tmpfs: this host's disk discards every freed directory synchronously (3-4 ms each under
    /// load), which would make 10,000 levels a minute of waiting for nothing the test is about.
    static func memoryStore() throws -> TemporaryStore {
        try TemporaryStore(in: FileSystem.isDirectory("/dev/shm") ? "/dev/shm" : nil)
    }

    @Test(arguments: [3_000, 10_000])
    func deepTreesImportUnpackAndGo(depth: Int) async throws {
        // Walking thousands of levels is long synchronous work even where the store hands it to
        // a thread: the whole test runs off the cooperative pool.
        try await withTaskExecutorPreference(DedicatedThreadExecutor()) { try await deepTree(depth: depth) }
    }

    private func deepTree(depth: Int) async throws {
        let t = try Self.memoryStore()
        let path = Array(repeating: "d", count: depth).joined(separator: "/") + "/leaf"
        let bytes = try makeArchive([(TarEntry(path: path, kind: .regular, mode: 0o644), "deep\n")], gzip: true)
        let archive = t.root.appending("deep-\(depth).tar.gz")
        try FileSystem.writeAtomically(bytes, to: archive)
        let image = try await t.store.importRootfs(archive: archive, name: try ImageReference.parse("deep:\(depth)"))
        let layers = try await t.store.unpackedLayers(of: image)
        #expect(layers.count == 1)
        // The leaf is there, `depth` levels down (reached relative to each parent: the path is too long).
        var fd = open(layers[0].string, O_RDONLY | O_DIRECTORY)
        for _ in 0..<depth {
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            close(fd)
            fd = next
            guard fd >= 0 else { break }
        }
        #expect(fd >= 0 && faccessat(fd, "leaf", F_OK, 0) == 0, "the leaf at depth \(depth)")
        if fd >= 0 { close(fd) }
        try await t.store.remove("deep:\(depth)")
        #expect(try FileSystem.list(t.store.layersDirectory).isEmpty, "the unpacked layer was removed")
        #expect(try FileSystem.list(t.store.temporaryDirectory).isEmpty)
        // And the store still works: another image, removed again.
        _ = try await t.store.bootstrapBusybox(name: try ImageReference.parse("after:1"))
        try await t.store.remove("after:1")
        #expect(try t.store.readIndex().manifests.isEmpty)
        Self.expectNoDamage(t.store, "a tree \(depth) levels deep was imported and removed")
    }

    @Test func removeTreeWorksAtAnyDepth() throws {
        let t = try Self.memoryStore()
        let top = t.root.appending("deep-remove")
        try FileSystem.createDirectory(top)
        var fd = open(top.string, O_RDONLY | O_DIRECTORY)
        for i in 0..<12_000 {
            if i % 1000 == 0 { close(openat(fd, "file", O_CREAT | O_WRONLY, 0o644)) }
            mkdirat(fd, "d", 0o755)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        close(fd)
        try FileSystem.removeTree(top)
        #expect(!FileSystem.exists(top))
    }

    @Test func aCleanupFailureDoesNotBecomeTheOperationsError() async throws {
        let image = try await t.store.bootstrapBusybox(name: try ImageReference.parse("gc:1"))
        _ = try await t.store.unpackedLayers(of: image)
        // A file system mounted inside the unpacked layer: garbage collection must refuse to remove it.
        let layer = t.store.layersDirectory.appending(Digest.hex(image.layers[0].diffID))
        let mountPoint = layer.appending("mnt")
        try FileSystem.createDirectory(mountPoint)
        try await sh("mount -t tmpfs intermodal-test \(mountPoint)")
        defer { _ = try? FileSystem.removeTree(layer) }
        defer { umount2(mountPoint.string, Int32(MNT_DETACH)) }
        try await t.store.remove("gc:1")   // the name goes; the tidy-up after it fails and is only a warning
        #expect(try t.store.readIndex().manifests.isEmpty)
        #expect(try FileSystem.list(t.store.blobsDirectory).isEmpty, "blobs went although the layer could not")
        await #expect(throws: IntermodalError.self) { try await t.store.collectGarbage() }
        #expect(FileSystem.exists(mountPoint), "nothing below a mount was touched")
    }

    @Test func decompressionHasALimitAndExceedingItLeavesNothing() async throws {
        // 64 MiB of zeros: a few dozen KiB of gzip.
        let tree = try t.directory("bomb")
        try await sh("head -c 67108864 /dev/zero > \(tree)/zeros && tar -C \(tree) -czf \(t.root)/bomb.tar.gz zeros")
        let limited = try ImageStore(root: t.root.appending("limited"), layerSizeLimit: 16 << 20)
        let error = try await #require(throws: IntermodalError.self) {
            _ = try await limited.importRootfs(archive: t.root.appending("bomb.tar.gz"), name: try ImageReference.parse("bomb:1"))
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("16 MiB") && error.message.contains("--max-layer-size"), "\(error.message)")
        #expect(try FileSystem.list(limited.temporaryDirectory).isEmpty, "nothing left in tmp")
        #expect(try limited.readIndex().manifests.isEmpty)
        Self.expectNoDamage(limited, "an import over the layer size limit")
        // The default limit lets it through.
        _ = try await t.store.importRootfs(archive: t.root.appending("bomb.tar.gz"), name: try ImageReference.parse("bomb:1"))
    }

    @Test func loadAppliesTheLayerSizeLimitToEveryLayer() async throws {
        // An image whose one layer expands to 64 MiB, saved by a store without a tight limit.
        let tree = try t.directory("bomb-load")
        try await sh("head -c 67108864 /dev/zero > \(tree)/zeros && tar -C \(tree) -czf \(t.root)/bomb-load.tar.gz zeros")
        let image = try await t.store.importRootfs(archive: t.root.appending("bomb-load.tar.gz"), name: try ImageReference.parse("bomb:2"))
        let layout = t.root.appending("bomb-layout"), archive = t.root.appending("bomb-image.tar")
        try t.store.save([image], toLayout: layout)
        try await t.store.save([image], toArchive: archive)
        for source in [layout, archive] {
            let limited = try ImageStore(root: t.root.appending("limited-load-\(source.lastComponent!.stem)"), layerSizeLimit: 16 << 20)
            let error = try await #require(throws: IntermodalError.self) { _ = try await limited.load(from: source) }
            #expect(error.message.contains("16 MiB") && error.message.contains("--max-layer-size"), "\(error.message)")
            #expect(try limited.readIndex().manifests.isEmpty, "the image was named")
            #expect(try FileSystem.list(limited.temporaryDirectory).isEmpty, "nothing left in tmp")
        }
        let roomy = try ImageStore(root: t.root.appending("roomy-load"))
        #expect(try await roomy.load(from: archive).count == 1)
    }

    /// A full store: the copy of the cached Debian layer fails, and its partial file must go
    /// with the error, or the store stays full for the next command.
    @Test func aBootstrapIntoAFullStoreGivesItsSpaceBack() async throws {
        let tree = try t.directory("incompressible")
        try await sh("head -c 8388608 /dev/urandom > \(tree)/noise")
        let layer = try t.store.storeLayer(fromDirectory: tree)
        let cache = try t.directory("cache")
        let bootstrap = try DebianBootstrap(mirror: "http://deb.invalid/debian", cacheRoot: cache, program: "/bin/false")
        try FileSystem.createDirectory(bootstrap.cacheDirectory)
        try await sh("cp \(try t.store.blobPath(layer.digest)) \(bootstrap.cacheDirectory)/layer.tar.gz")
        try FileSystem.writeAtomically(
            try JSON.encode(DebianBootstrap.CachedLayer(digest: layer.digest, size: layer.size, diffID: layer.diffID)),
            to: bootstrap.cacheDirectory.appending("layer.json"))
        let small = try t.directory("small")
        try await sh("mount -t tmpfs -o size=4m intermodal-test \(small)")
        defer { umount2(small.string, Int32(MNT_DETACH)) }
        let full = try ImageStore(root: small.appending("store"))
        await #expect(throws: IntermodalError.self) {
            _ = try await full.bootstrapDebian(name: try ImageReference.parse("debian:full"), bootstrap: bootstrap)
        }
        #expect(try FileSystem.list(full.temporaryDirectory).isEmpty, "the partial copy stayed in tmp")
        #expect(try full.readIndex().manifests.isEmpty)
        Self.expectNoDamage(full, "a bootstrap into a full store")
    }

    @Test func leftoversOfAKilledProcessAreReclaimedByTheNextLease() async throws {
        let image = try await t.store.bootstrapBusybox(name: try ImageReference.parse("bb:1"))
        let left = t.store.temporaryDirectory.appending("import.killed")
        try FileSystem.createDirectory(left.appending("rootfs/usr/lib"))
        try FileSystem.writeAtomically("x", to: left.appending("rootfs/usr/lib/file"))
        // Unpacking layers (what every `run` does) takes the lease: nobody else holds one, so tmp goes.
        _ = try await t.store.unpackedLayers(of: image)
        #expect(try FileSystem.list(t.store.temporaryDirectory).isEmpty)
        Self.expectNoDamage(t.store, "leftovers of a killed process were reclaimed")
    }
}
