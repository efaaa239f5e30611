import Foundation
import ImageStore
import IntermodalCore
import Testing

/// Pulls from the loopback registry through a loopback proxy, with the proxy chosen from an
/// explicit environment (the process's own is neither read nor changed).
@Suite("Registry through an HTTP proxy")
struct RegistryProxyEndToEndTests {
    /// A registry holding busybox as `proxied/bb:v1`, pushed directly.
    func seededRegistry(_ registry: LoopbackRegistry, _ t: TemporaryStore) async throws -> Image {
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let direct = RegistryClient(registry: registry.host, insecure: true, environment: [:])
        _ = try await direct.push(image, as: .parse("\(registry.host)/proxied/bb:v1"), from: t.store)
        try await direct.shutdown()
        return image
    }

    @Test func pullGoesThroughTheProxyUnlessNoProxyMatches() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let proxy = try await LoopbackProxy()
        defer { proxy.stop() }
        let t = try TemporaryStore()
        let image = try await seededRegistry(registry, t)
        #expect(proxy.requests.isEmpty, "the direct push did not use the proxy")

        // https_proxy is for https registries: set to a dead port, it must not be used here.
        let env = ["http_proxy": "http://\(proxy.address)", "https_proxy": "http://127.0.0.1:1"]
        let client = RegistryClient(registry: registry.host, insecure: true, environment: env)
        let other = try TemporaryStore()
        let pulled = try await client.pull(.parse("\(registry.host)/proxied/bb:v1"), into: other.store)
        try await client.shutdown()
        #expect(pulled.image.manifestDigest == image.manifestDigest)
        #expect(pulled.blobsTransferred == 2)
        let seen = proxy.requests
        #expect(!seen.isEmpty)
        #expect(seen.allSatisfy { $0 == "CONNECT \(registry.host) 200" }, "\(seen)")

        // no_proxy naming the registry (among others) bypasses the proxy.
        var bypass = env
        bypass["no_proxy"] = "example.com, 127.0.0.1:\(registry.port)"
        let direct = RegistryClient(registry: registry.host, insecure: true, environment: bypass)
        let third = try TemporaryStore()
        let again = try await direct.pull(.parse("\(registry.host)/proxied/bb:v1"), into: third.store)
        try await direct.shutdown()
        #expect(again.image.manifestDigest == image.manifestDigest)
        #expect(proxy.requests == seen, "nothing more went through the proxy")

        // The helper forwards absolute-URI requests too (what curl sends for http:// through a proxy).
        let code = try await sh("curl -s --noproxy '' -x http://\(proxy.address) -o /dev/null -w '%{http_code}' http://\(registry.host)/v2/")
        #expect(code == "200")
        #expect(proxy.requests.last == "GET http://\(registry.host)/v2/ 200")
    }

    @Test func proxyCredentialsFromTheURL() async throws {
        let registry = try await LoopbackRegistry()
        defer { registry.stop() }
        let proxy = try await LoopbackProxy(credentials: "alice:p@ss")
        defer { proxy.stop() }
        let t = try TemporaryStore()
        let image = try await seededRegistry(registry, t)

        let wrong = RegistryClient(registry: registry.host, insecure: true,
                                   environment: ["http_proxy": "http://alice:nope@\(proxy.address)"])
        let other = try TemporaryStore()
        let refused = await #expect(throws: IntermodalError.self) {
            _ = try await wrong.pull(.parse("\(registry.host)/proxied/bb:v1"), into: other.store)
        }
        try await wrong.shutdown()
        // AsyncHTTPClient retries the tunnel until its 30 s connect timeout, then reports the 407.
        #expect(refused?.message.contains("through proxy \(proxy.address) from http_proxy") == true, "\(refused?.message ?? "")")
        #expect(refused.map { "\($0)" }?.contains("proxyAuthenticationRequired") == true)
        #expect(proxy.requests.contains("CONNECT \(registry.host) 407"), "\(proxy.requests)")

        // Percent-encoded in the URL, sent decoded as Proxy-Authorization: Basic.
        let right = RegistryClient(registry: registry.host, insecure: true,
                                   environment: ["HTTP_PROXY": "alice:p%40ss@\(proxy.address)"])
        let pulled = try await right.pull(.parse("\(registry.host)/proxied/bb:v1"), into: other.store)
        try await right.shutdown()
        #expect(pulled.image.manifestDigest == image.manifestDigest)
        #expect(proxy.requests.contains("CONNECT \(registry.host) 200"), "\(proxy.requests)")
    }

    @Test func eachURLGetsItsOwnChoice() async throws {
        // The token server is another host:port than the registry: with only the registry in
        // no_proxy, the token request goes through the proxy and the registry's do not.
        let registry = try await LoopbackRegistry(tokenUser: ("intermodal", "t0ken"))
        defer { registry.stop() }
        let proxy = try await LoopbackProxy()
        defer { proxy.stop() }
        let t = try TemporaryStore()
        let image = try await t.store.bootstrapBusybox(name: .parse("bb:v1"))
        let env = ["http_proxy": "http://\(proxy.address)", "no_proxy": "127.0.0.1:\(registry.port)"]
        let client = RegistryClient(registry: registry.host, insecure: true,
                                    credentials: .init(username: "intermodal", password: "t0ken"), environment: env)
        let pushed = try await client.push(image, as: .parse("\(registry.host)/tok/bb:v1"), from: t.store)
        try await client.shutdown()
        #expect(pushed.blobsTransferred == 2)
        let seen = proxy.requests
        #expect(!seen.isEmpty, "the token request used the proxy")
        #expect(seen.allSatisfy { $0.hasPrefix("CONNECT 127.0.0.1:") && $0.hasSuffix(" 200") }, "\(seen)")
        #expect(!seen.contains { $0.contains(registry.host) }, "the registry itself was reached directly: \(seen)")
    }
}
