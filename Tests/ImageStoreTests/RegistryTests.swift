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
    }
}
