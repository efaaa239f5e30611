import AsyncHTTPClient
import FoundationEssentials
import IntermodalCore
import NIOCore
import NIOPosix
import Synchronization

/// The AsyncHTTPClients of one registry client: one per proxy choice, made at first use.
///
/// AsyncHTTPClient takes its proxy per client, not per request, while the choice depends on each
/// URL (`no_proxy`, and http vs https): a token realm or a blob redirect can be on another host
/// than the registry. So each URL is mapped to its proxy (or none) and served by that proxy's
/// client; usually there is only one.
final class RegistryHTTPClients: Sendable {
    private let environment: [String: String]
    /// nil once shut down, so that no client is made after ``shutdown()`` and then leaked.
    private let clients = Mutex<[RegistryProxy?: HTTPClient]?>([:])

    init(environment: [String: String]) {
        self.environment = environment
    }

    /// The client for `url`, and the proxy it goes through (nil: direct) for messages.
    func client(for url: String) throws(IntermodalError) -> (HTTPClient, RegistryProxy?) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host else {
            throw IntermodalError(.invalidArgument, "invalid registry URL '\(url)'")
        }
        let port = parsed.port ?? (scheme == "https" ? 443 : 80)
        let proxy = try RegistryProxy.choose(scheme: scheme, host: host, port: port, environment: environment)
        let client = try clients.withLock { (clients) throws(IntermodalError) -> HTTPClient in
            guard clients != nil else { throw IntermodalError(.invalidState, "the registry client was shut down") }
            if let existing = clients?[proxy] { return existing }
            let made = Self.make(proxy)
            clients?[proxy] = made
            return made
        }
        return (client, proxy)
    }

    private static func make(_ proxy: RegistryProxy?) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,  // RegistryHTTP follows them (the Authorization header)
            timeout: .init(connect: .seconds(30), read: .seconds(120)))
        configuration.httpVersion = .automatic
        if let proxy {
            // A CONNECT tunnel for http and https targets alike; TLS stays end to end.
            let authorization = proxy.username.map {
                HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "")
            }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        }
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Closes every client's connections. Idempotent.
    func shutdown() async throws {
        let all = clients.withLock { clients in defer { clients = nil }; return Array((clients ?? [:]).values) }
        var failure: (any Error)?
        for client in all {
            do { try await client.shutdown() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    deinit {
        // A caller that did not shut down (an error path): close the connections in the background
        // rather than leak them (AsyncHTTPClient stops a debug build that drops a live client).
        for client in clients.withLock({ Array(($0 ?? [:]).values) }) { client.shutdown { _ in } }
    }
}
