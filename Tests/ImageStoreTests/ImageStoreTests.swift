import Foundation
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

@Suite("Image store")
struct ImageStoreTests {
    @Test func referenceParsing() throws {
        let a = try ImageReference.parse("busybox")
        #expect(a.repository == "busybox" && a.tag == "latest" && a.registry == nil)
        let b = try ImageReference.parse("127.0.0.1:5000/team/app:v1.2")
        #expect(b.registry == "127.0.0.1:5000" && b.repository == "team/app" && b.tag == "v1.2")
        #expect(b.description == "127.0.0.1:5000/team/app:v1.2")
        let c = try ImageReference.parse("localhost/x@sha256:" + String(repeating: "a", count: 64))
        #expect(c.registry == "localhost" && c.digest != nil)
        #expect(throws: IntermodalError.self) { try ImageReference.parse("Upper/Case") }
        #expect(throws: IntermodalError.self) { try ImageReference.parse("a:b:c!") }
    }

    @Test func busyboxBootstrapIsReproducibleAndShared() async throws {
        let t = try TemporaryStore()
        let one = try await t.store.bootstrapBusybox(name: .parse("bb:one"))
        let two = try await t.store.bootstrapBusybox(name: .parse("bb:two"))
        #expect(one.layers.count == 1)
        #expect(one.layers[0].digest == two.layers[0].digest, "same tree, same layer digest")
        let images = try t.store.list()
        #expect(images.count == 1, "identical content gives the same manifest, named twice")
        #expect(Set(images[0].names.map(\.localName)) == ["bb:one", "bb:two"])
        let usage = try t.store.diskUsage()
        // One layer blob + one config + one manifest, stored once.
        let blobs = try FileSystem.list(t.store.layoutDirectory.appending("blobs/sha256"))
        #expect(blobs.count == 3)
        #expect(usage.blobBytes >= one.layers[0].size)
        #expect(try t.store.resolve("bb:two").configDigest == one.configDigest)
        #expect(try t.store.resolve(one.shortID).manifestDigest == one.manifestDigest)
        #expect(throws: IntermodalError.self) { try t.store.resolve("nothere") }
    }

    @Test func unpackAndFlattenBusybox() async throws {
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb"))
        let dirs = try await t.store.unpackedLayers(of: image)
        #expect(dirs.count == 1)
        #expect(FileSystem.exists(dirs[0].appending("bin/busybox")))
        #expect(try await t.store.unpackedLayers(of: image) == dirs, "second call uses the cache")
        let flat = try t.directory("flat")
        try await t.store.flatten(image, into: flat)
        let out = try await HostCommand.check(flat.appending("bin/busybox").string, ["echo", "hi"])
        #expect(out == "hi\n")
        // Symlinks survive with their targets.
        var buf = [CChar](repeating: 0, count: 256)
        let n = readlink(flat.appending("bin/sh").string, &buf, 255)
        #expect(n > 0 && String(cString: Array(buf[0..<n]) + [0]) == "/bin/busybox")
    }

    @Test func commitTurnsOverlayWhiteoutsIntoOCIAndBack() async throws {
        let t = try TemporaryStore()
        let base = try await t.store.bootstrapBusybox(name: .parse("bb"))
        // An overlayfs upper dir: a new file, a deleted file (char 0:0), an opaque directory.
        let upper = try t.directory("upper")
        try write("new\n", to: upper.appending("etc/added"))
        try FileSystem.createDirectory(upper.appending("etc"))
        #expect(mknod(upper.appending("etc/group").string, S_IFCHR, 0) == 0)
        try FileSystem.createDirectory(upper.appending("home"))
        #expect(ExtendedAttributes.set(upper.appending("home"), "trusted.overlay.opaque", Array("y".utf8)))
        try write("kept\n", to: upper.appending("home/fresh"))
        let committed = try await t.store.commit(
            base: base, upperDirectory: upper, configuration: base.configuration,
            history: HistoryEntry(createdBy: "test commit"), tag: .parse("bb:committed"))
        #expect(committed.layers.count == 2)
        #expect(committed.configuration.history?.last?.createdBy == "test commit")
        #expect(committed.configuration.rootfs.diffIDs.count == 2)

        // The OCI layer carries .wh. entries.
        let listing = try await sh("tar -tzf \(t.store.layoutDirectory.appending("blobs/sha256").appending(Digest.hex(committed.layers[1].digest)))")
        #expect(listing.contains("etc/.wh.group"))
        #expect(listing.contains("home/.wh..wh..opq"))

        // Unpacked for overlay: whiteouts are devices and xattrs again.
        let dirs = try await t.store.unpackedLayers(of: committed)
        let top = dirs[1]
        let mode = try #require(lstatMode(top.appending("etc/group")))
        #expect(mode & S_IFMT == S_IFCHR)
        #expect(ExtendedAttributes.get(top.appending("home"), "trusted.overlay.opaque") == Array("y".utf8))

        // Flattened: deletions applied.
        try write("old\n", to: t.root.appending("dummy"))
        let flat = try t.directory("flat")
        try await t.store.flatten(committed, into: flat)
        #expect(!FileSystem.exists(flat.appending("etc/group")))
        #expect(try read(flat.appending("etc/added")) == "new\n")
        #expect(try read(flat.appending("home/fresh")) == "kept\n")
        #expect(FileSystem.exists(flat.appending("etc/passwd")))

        // Config-only commit: no new layer, an empty_layer history entry.
        var config = committed.configuration
        config.config?.env = ["A=B"]
        let envOnly = try await t.store.commit(
            base: committed, upperDirectory: nil, configuration: config,
            history: HistoryEntry(createdBy: "ENV A=B"), tag: nil)
        #expect(envOnly.layers.count == 2)
        #expect(envOnly.configuration.history?.last?.emptyLayer == true)
    }

    @Test func removeCollectsUnsharedBlobsOnly() async throws {
        let t = try TemporaryStore()
        let base = try await t.store.bootstrapBusybox(name: .parse("bb"))
        let upper = try t.directory("upper")
        try write("x\n", to: upper.appending("x"))
        let child = try await t.store.commit(
            base: base, upperDirectory: upper, configuration: base.configuration,
            history: HistoryEntry(createdBy: "add x"), tag: .parse("child"))
        _ = try await t.store.unpackedLayers(of: child)
        try await t.store.remove("child")
        #expect(throws: IntermodalError.self) { try t.store.resolve("child") }
        #expect(!t.store.hasBlob(child.layers[1].digest), "the child's own layer is gone")
        #expect(t.store.hasBlob(base.layers[0].digest), "the shared base layer stays")
        let layers = try FileSystem.list(t.store.root.appending("layers/sha256"))
        #expect(layers == [Digest.hex(base.layers[0].diffID)])
        try await t.store.tag(base, as: .parse("other:tag"))
        try await t.store.remove("bb")
        #expect(try t.store.resolve("other:tag").manifestDigest == base.manifestDigest)
    }
}

@Suite("Store under concurrent use")
struct ConcurrencyTests {
    @Test func parallelCommitsTagsAndRemovalsKeepTheStoreConsistent() async throws {
        let t = try TemporaryStore()
        let base = try await t.store.bootstrapBusybox(name: .parse("base"))
        let root = t.store.root
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                let upper = try t.directory("upper-\(i)")
                try write("content \(i)\n", to: upper.appending("file-\(i)"))
                group.addTask {
                    // Each task uses its own store object, as separate processes would.
                    let store = try ImageStore(root: root)
                    let image = try await store.commit(
                        base: base, upperDirectory: upper, configuration: base.configuration,
                        history: HistoryEntry(createdBy: "task \(i)"), tag: .parse("child:\(i)"))
                    _ = try await store.unpackedLayers(of: image)
                    if i % 2 == 0 { try await store.remove("child:\(i)") }
                }
            }
            try await group.waitForAll()
        }
        #expect(try t.store.verify().isEmpty)
        let names = Set(try t.store.list().flatMap(\.names).map(\.localName))
        #expect(names == ["base:latest", "child:1", "child:3", "child:5", "child:7"])
        try await t.store.collectGarbage()
        // 1 base layer + 4 children's layers + 5 configs + 5 manifests.
        #expect(try FileSystem.list(t.store.layoutDirectory.appending("blobs/sha256")).count == 15)
        for i in [1, 3, 5, 7] {
            let flat = try t.directory("flat-\(i)")
            try await t.store.flatten(try t.store.resolve("child:\(i)"), into: flat)
            #expect(try read(flat.appending("file-\(i)")) == "content \(i)\n")
        }
    }

    @Test func redirectedDirectoriesInAnUpperDirAreRefused() async throws {
        let t = try TemporaryStore()
        let base = try await t.store.bootstrapBusybox(name: .parse("base"))
        let upper = try t.directory("upper")
        try FileSystem.createDirectory(upper.appending("renamed"))
        #expect(ExtendedAttributes.set(upper.appending("renamed"), "trusted.overlay.redirect", Array("/etc".utf8)))
        let error = await #expect(throws: IntermodalError.self) {
            _ = try await t.store.commit(base: base, upperDirectory: upper, configuration: base.configuration,
                                         history: HistoryEntry(createdBy: "x"), tag: .parse("bad"))
        }
        #expect(error?.code == .unsupported && error?.message.contains("redirect_dir=off") == true)
        #expect((try? t.store.resolve("bad")) == nil)
    }
}

@Suite("Layer archives")
struct LayerArchiveTests {
    @Test func gnuTarReadsOurPaxLongNamesXattrsAndHardLinks() async throws {
        let t = try TemporaryStore()
        let tree = try t.directory("tree")
        let longDir = (0..<6).map { "directory-with-a-long-name-\($0)" }.joined(separator: "/")
        try write("deep\n", to: tree.appending(longDir).appending("file"))
        try write("shared\n", to: tree.appending("a"))
        #expect(link(tree.appending("a").string, tree.appending("b").string) == 0)
        #expect(ExtendedAttributes.set(tree.appending("a"), "user.intermodal", Array("yes".utf8)))
        #expect(mkfifo(tree.appending("fifo").string, 0o600) == 0)
        let image = try await t.store.importTree(tree, name: .parse("tree"), createdBy: "test")
        let blob = try t.store.blobPath(image.layers[0].digest)

        let byTar = try t.directory("by-tar")
        try await sh("tar --xattrs --xattrs-include='user.*' -xzf \(blob) -C \(byTar)")
        #expect(try read(byTar.appending(longDir).appending("file")) == "deep\n")
        var sa = stat(), sb = stat()
        #expect(stat(byTar.appending("a").string, &sa) == 0 && stat(byTar.appending("b").string, &sb) == 0)
        #expect(sa.st_ino == sb.st_ino, "hard link kept")
        #expect(ExtendedAttributes.get(byTar.appending("a"), "user.intermodal") == Array("yes".utf8))
        #expect(lstatMode(byTar.appending("fifo")).map { $0 & S_IFMT } == S_IFIFO)

        // Our own unpacker agrees, and the same tree archives to the same digest again.
        let ours = try t.directory("ours")
        try await t.store.flatten(image, into: ours)
        #expect(try read(ours.appending(longDir).appending("file")) == "deep\n")
        #expect(ExtendedAttributes.get(ours.appending("a"), "user.intermodal") == Array("yes".utf8))
        let again = try t.store.storeLayer(fromDirectory: tree)
        #expect(again.digest == image.layers[0].digest && again.diffID == image.layers[0].diffID)
    }
}
