import Foundation
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// Layouts we write, read by skopeo and umoci; layouts they write, loaded by us.
@Suite("OCI interop with skopeo and umoci")
struct InteropTests {
    @Test func skopeoAndUmociReadWhatWeSave() async throws {
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let layout = t.root.appending("saved")
        try t.store.save([image], toLayout: layout)

        let inspect = try await sh("skopeo inspect oci:\(layout):bb:v1")
        let json = try JSONSerialization.jsonObject(with: Data(inspect.utf8)) as! [String: Any]
        #expect(json["Digest"] as? String == image.manifestDigest)
        #expect((json["Layers"] as? [String]) == image.layers.map(\.digest))

        // The store itself is a layout skopeo reads in place.
        let inPlace = try await sh("skopeo inspect --raw oci:\(t.store.layoutDirectory):bb:v1")
        #expect(Digest.sha256(Array(inPlace.utf8)) == image.manifestDigest)

        let bundle = t.root.appending("bundle")
        try await sh("cd \(t.root) && umoci unpack --image \(layout):bb:v1 \(bundle)")
        let ours = try FileSystem.readBytes(bundle.appending("rootfs/bin/busybox"))
        #expect(ours == (try FileSystem.readBytes("/bin/busybox")))

        // A tar of the layout is an oci-archive for skopeo.
        let archive = t.root.appending("bb.tar")
        try await t.store.save([image], toArchive: archive)
        let fromArchive = try await sh("skopeo inspect oci-archive:\(archive):bb:v1")
        #expect(fromArchive.contains(image.manifestDigest))
    }

    @Test func weLoadWhatSkopeoAndUmociWrite() async throws {
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        // skopeo copy of our image into its own layout, then loaded back: same manifest.
        let copied = t.root.appending("copied")
        try await sh("skopeo copy -q oci:\(t.store.layoutDirectory):bb:v1 oci:\(copied):again")
        let other = try TemporaryStore()
        let loaded = try await other.store.load(from: copied, repository: "fromskopeo")
        #expect(loaded.count == 1)
        #expect(loaded[0].manifestDigest == image.manifestDigest)
        #expect(try other.store.resolve("fromskopeo:again").configDigest == image.configDigest)

        // umoci: unpack, change the tree (add a file, delete one), repack: a layer with a whiteout.
        let layout = t.root.appending("umoci")
        try await sh("skopeo copy -q oci:\(t.store.layoutDirectory):bb:v1 oci:\(layout):base")
        try await sh("""
            cd \(t.root) && umoci unpack --image \(layout):base b && \
            echo made-by-umoci > b/rootfs/etc/umoci-file && rm b/rootfs/etc/hosts && \
            umoci repack --image \(layout):changed b
            """)
        let fromUmoci = try await other.store.load(from: layout, repository: "umoci")
        #expect(fromUmoci.count == 2)
        let changed = try other.store.resolve("umoci:changed")
        #expect(changed.layers.count == 2)
        let flat = try other.directory("flat")
        try await other.store.flatten(changed, into: flat)
        #expect(try read(flat.appending("etc/umoci-file")) == "made-by-umoci\n")
        #expect(!FileSystem.exists(flat.appending("etc/hosts")), "umoci's whiteout applied")
        #expect(FileSystem.exists(flat.appending("etc/passwd")))
        let dirs = try await other.store.unpackedLayers(of: changed)
        #expect(lstatMode(dirs[1].appending("etc/hosts")).map { $0 & S_IFMT } == S_IFCHR, "whiteout as overlay char device")
    }

    @Test func saveAndLoadArchiveRoundTrip() async throws {
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let archive = t.root.appending("out.tar")
        try await t.store.save([image], toArchive: archive)
        let other = try TemporaryStore()
        let loaded = try await other.store.load(from: archive)
        #expect(loaded.map(\.manifestDigest) == [image.manifestDigest])
        #expect(try other.store.resolve("bb:v1").layers == image.layers)
    }

    @Test func debianBootstrapFromTheHostMirror() async throws {
        // debootstrap runs once per host (minutes); the cached layer is reused after that.
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapDebian(name: .parse("debian:bookworm"), bootstrap: DebianBootstrap())
        #expect(image.layers.count == 1)
        let flat = try t.directory("flat")
        try await t.store.flatten(image, into: flat)
        let version = try read(flat.appending("etc/debian_version"))
        #expect(version.hasPrefix("12."))
        let out = try await sh("chroot \(flat) /bin/sh -c 'dpkg -l | grep -c ^ii'")
        #expect((Int(out.trimmed) ?? 0) > 50)
        #expect(try read(flat.appending("etc/apt/sources.list")).contains(try DebianBootstrap.hostMirror(suite: "bookworm")))
    }
}
