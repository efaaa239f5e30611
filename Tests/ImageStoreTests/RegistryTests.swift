import Foundation
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// Push, pull and search against a real registry on loopback (Debian's docker-registry).
@Suite("Registry over the OCI distribution API")
struct RegistryTests {
    @Test func pushPullRoundTripWithChunksAndSharedLayers() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let t = try TemporaryStore()
        let base = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let upper = try t.directory("upper")
        try write(String(repeating: "payload ", count: 200_000), to: upper.appending("data/blob"))
        let child = try await t.store.commit(
            base: base, upperDirectory: upper, configuration: base.configuration,
            history: HistoryEntry(createdBy: "add data"), tag: .parse("child:v1"))

        // Small chunks force several PATCH requests per blob.
        let client = RegistryClient(registry: registry.host, insecure: true, chunkSize: 256 << 10)
        let pushed = try await client.push(base, as: .parse("\(registry.host)/test/bb:v1"), from: t.store)
        #expect(pushed.blobsTransferred == 2 && pushed.blobsSkipped == 0)
        // The busybox layer is in another repository of the registry already, but not in this one.
        let pushedChild = try await client.push(child, as: .parse("\(registry.host)/test/child:v1"), from: t.store)
        #expect(pushedChild.blobsTransferred == 3)
        let again = try await client.push(child, as: .parse("\(registry.host)/test/child:v1"), from: t.store)
        #expect(again.blobsTransferred == 0 && again.blobsSkipped == 3, "HEAD finds every blob")

        // skopeo reads what we pushed.
        let inspect = try await sh("skopeo inspect --tls-verify=false docker://\(registry.host)/test/child:v1")
        #expect(inspect.contains(child.manifestDigest))

        // Pull into an empty store: every blob verified, image identical.
        let other = try TemporaryStore()
        let pulled = try await client.pull(.parse("\(registry.host)/test/child:v1"), into: other.store)
        #expect(pulled.image.manifestDigest == child.manifestDigest)
        #expect(pulled.blobsTransferred == 3)
        let flat = try other.directory("flat")
        try await other.store.flatten(try other.store.resolve("test/child:v1"), into: flat)
        #expect(try read(flat.appending("data/blob")).count == 1_600_000)
        // The base shares its layer: only config and manifest are new.
        let pulledBase = try await client.pull(.parse("\(registry.host)/test/bb:v1"), into: other.store)
        #expect(pulledBase.blobsSkipped == 1 && pulledBase.blobsTransferred == 1)

        // Search over the catalog.
        let catalog = try await client.catalog()
        #expect(Set(catalog) == ["test/bb", "test/child"])
        #expect(try await client.tags("test/child") == ["v1"])

        // A missing tag is a clear not-found.
        let missing = await #expect(throws: IntermodalError.self) {
            _ = try await client.pull(.parse("\(registry.host)/test/child:nope"), into: other.store)
        }
        #expect(missing?.code == .notFound)
        try await client.shutdown()
    }

    @Test func pullsWhatSkopeoPushes() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        try await sh("skopeo copy -q --dest-tls-verify=false oci:\(t.store.layoutDirectory):bb:v1 docker://\(registry.host)/skopeo/bb:latest")
        let other = try TemporaryStore()
        let client = RegistryClient(registry: registry.host, insecure: true)
        let pulled = try await client.pull(.parse("\(registry.host)/skopeo/bb"), into: other.store)
        #expect(pulled.image.configDigest == image.configDigest)
        #expect(pulled.image.names.map(\.localName) == ["skopeo/bb:latest"])
        try await client.shutdown()
    }

    @Test func basicAuthWhenTheRegistryAsks() async throws {
        let registry = try await LoopbackRegistry(user: ("intermodal", "s3cret"))
        defer { registry.stop() }
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let anonymous = RegistryClient(registry: registry.host, insecure: true)
        let refused = await #expect(throws: IntermodalError.self) {
            _ = try await anonymous.push(image, as: .parse("\(registry.host)/auth/bb:v1"), from: t.store)
        }
        #expect(refused?.message.contains("login") == true, "\(refused?.message ?? "")")
        let wrong = RegistryClient(registry: registry.host, insecure: true, credentials: .init(username: "intermodal", password: "bad"))
        await #expect(throws: IntermodalError.self) {
            _ = try await wrong.push(image, as: .parse("\(registry.host)/auth/bb:v1"), from: t.store)
        }
        let client = RegistryClient(registry: registry.host, insecure: true, credentials: .init(username: "intermodal", password: "s3cret"))
        _ = try await client.push(image, as: .parse("\(registry.host)/auth/bb:v1"), from: t.store)
        let other = try TemporaryStore()
        let pulled = try await client.pull(.parse("\(registry.host)/auth/bb:v1"), into: other.store)
        #expect(pulled.image.manifestDigest == image.manifestDigest)
        try await anonymous.shutdown()
        try await wrong.shutdown()
        try await client.shutdown()
    }

    @Test func bearerTokenAuthWhenTheRegistryAsks() async throws {
        let registry = try await LoopbackRegistry(tokenUser: ("intermodal", "t0ken"))
        defer { registry.stop() }
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let anonymous = RegistryClient(registry: registry.host, insecure: true)
        let refused = await #expect(throws: IntermodalError.self) {
            _ = try await anonymous.push(image, as: .parse("\(registry.host)/tok/bb:v1"), from: t.store)
        }
        #expect(refused?.message.contains("token request") == true, "\(refused?.message ?? "")")
        let client = RegistryClient(registry: registry.host, insecure: true, credentials: .init(username: "intermodal", password: "t0ken"))
        let pushed = try await client.push(image, as: .parse("\(registry.host)/tok/bb:v1"), from: t.store)
        #expect(pushed.blobsTransferred == 2)
        let other = try TemporaryStore()
        let pulled = try await client.pull(.parse("\(registry.host)/tok/bb:v1"), into: other.store)
        #expect(pulled.image.manifestDigest == image.manifestDigest)
        try await anonymous.shutdown()
        try await client.shutdown()
    }

    @Test func multiPlatformIndexAndDockerSchema2() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let t = try TemporaryStore()
        let amd64 = try await t.store.bootstrapBusybox(name: .parse("bb:amd64"))
        // A second image claiming arm64 (same layer, different config), and an index over both.
        var armConfig = amd64.configuration
        armConfig.architecture = "arm64"
        armConfig.created = "2026-01-01T00:00:00Z"
        let arm64 = try await t.store.createImage(layers: amd64.layers, configuration: armConfig, names: [.parse("bb:arm64")])
        let layout = t.root.appending("multi")
        try t.store.save([amd64, arm64], toLayout: layout)
        func descriptor(_ image: Image, _ arch: String) throws -> [String: Any] {
            let size = try FileSystem.readBytes(t.store.blobPath(image.manifestDigest)).count
            return ["mediaType": MediaType.ociManifest, "digest": image.manifestDigest, "size": size,
                    "platform": ["architecture": arch, "os": "linux"]]
        }
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": MediaType.ociIndex,
                                    "manifests": [try descriptor(arm64, "arm64"), try descriptor(amd64, "amd64")]]
        let indexBytes = Array(try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]))
        let indexDigest = Digest.sha256(indexBytes)
        try FileSystem.writeAtomically(indexBytes, to: layout.appending("blobs/sha256").appending(Digest.hex(indexDigest)))
        let top: [String: Any] = ["schemaVersion": 2, "manifests": [[
            "mediaType": MediaType.ociIndex, "digest": indexDigest, "size": indexBytes.count,
            "annotations": ["org.opencontainers.image.ref.name": "multi"]]]]
        try JSONSerialization.data(withJSONObject: top).write(to: URL(fileURLWithPath: layout.appending("index.json").string))

        // load picks linux/amd64 from the index.
        let other = try TemporaryStore()
        let loaded = try await other.store.load(from: layout, repository: "multi")
        #expect(loaded.map(\.manifestDigest) == [amd64.manifestDigest])

        // skopeo pushes the whole index; our pull resolves it to the amd64 manifest.
        try await sh("skopeo copy -q --all --dest-tls-verify=false oci:\(layout):multi docker://\(registry.host)/multi/bb:latest")
        let client = RegistryClient(registry: registry.host, insecure: true)
        let third = try TemporaryStore()
        let pulled = try await client.pull(.parse("\(registry.host)/multi/bb"), into: third.store)
        #expect(pulled.image.manifestDigest == amd64.manifestDigest)
        #expect(pulled.image.configuration.architecture == "amd64")

        // Docker schema 2 media types (what Docker's registries serve) pull and unpack too.
        try await sh("skopeo copy -q --format v2s2 --dest-tls-verify=false oci:\(t.store.layoutDirectory):bb:amd64 docker://\(registry.host)/docker/bb:v2s2")
        let fourth = try TemporaryStore()
        let docker = try await client.pull(.parse("\(registry.host)/docker/bb:v2s2"), into: fourth.store)
        #expect(docker.image.layers.first?.mediaType == MediaType.dockerLayerGzip)
        let flat = try fourth.directory("flat")
        try await fourth.store.flatten(docker.image, into: flat)
        #expect(FileSystem.exists(flat.appending("bin/busybox")))
        try await client.shutdown()
    }

    @Test func pushPullSearchOnTheCommandLine() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let t = try TemporaryStore()
        let root = t.root.appending("cli").string
        func cli(_ args: String...) async throws -> String {
            let r = try await ImageCLI.run(args + ["--root", root])
            #expect(r.exitCode == 0, "intermodal \(args.joined(separator: " ")): \(r.standardError)")
            return r.standardOutput
        }
        _ = try await cli("image", "bootstrap", "busybox", "course/busybox:1")
        let push = try await cli("push", "--insecure", "\(registry.host)/course/busybox:1")
        #expect(push.contains("2 blobs pushed"))
        _ = try await cli("rmi", "course/busybox:1")
        let pull = try await cli("pull", "--insecure", "\(registry.host)/course/busybox:1")
        #expect(pull.contains("2 blobs pulled"))
        #expect(try await cli("images").contains("course/busybox"))
        let search = try await cli("search", "--insecure", "--registry", registry.host, "busy")
        #expect(search.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) } == [["course/busybox", "1"]])
    }

    @Test func debianImageThroughTheRegistry() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let t = try TemporaryStore()
        let debian = try await t.store.bootstrapDebian(name: .parse("debian:bookworm"), bootstrap: DebianBootstrap())
        let client = RegistryClient(registry: registry.host, insecure: true)
        let pushed = try await client.push(debian, as: .parse("\(registry.host)/library/debian:bookworm"), from: t.store)
        #expect(pushed.bytesTransferred > 40_000_000)
        let other = try TemporaryStore()
        let pulled = try await client.pull(.parse("\(registry.host)/library/debian:bookworm"), into: other.store)
        #expect(pulled.image.manifestDigest == debian.manifestDigest)
        #expect(try other.store.verify().isEmpty)
        #expect(try FileSystem.list(other.store.root.appending("tmp")).isEmpty, "downloads moved into blobs")
        try await client.shutdown()
    }
}
