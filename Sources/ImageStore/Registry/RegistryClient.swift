import AsyncHTTPClient
import FoundationEssentials
import IntermodalCore
import NIOCore
import Synchronization

/// Credentials for a registry (basic auth, or to obtain a bearer token).
public struct RegistryCredentials: Sendable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// A client of the OCI distribution API (`/v2/...`) of one registry.
///
/// Authentication follows what the registry asks for: on `401` with
/// `WWW-Authenticate: Bearer realm=…,service=…,scope=…` it fetches a token from the realm
/// (with basic credentials when given) and retries; on `Basic` it retries with the credentials.
///
/// HTTP is AsyncHTTPClient on SwiftNIO's process-wide event loops (not URLSession, whose libcurl
/// and its ~20 libraries every `intermodal` start had to load). Call ``shutdown()`` when done;
/// a client dropped without it is shut down in the background. Proxies come from the standard
/// environment variables, as curl reads them (``RegistryProxy``).
public final class RegistryClient: Sendable {
    /// `host[:port]`.
    public let registry: String
    public let insecure: Bool
    let credentials: RegistryCredentials?
    let http: RegistryHTTPClients
    private let authorization = Mutex<String?>(nil)
    let logger = IntermodalLog.logger("registry")
    /// Size of each PATCH of a chunked upload.
    public let chunkSize: Int

    /// `insecure` speaks plain HTTP (a loopback test registry); otherwise HTTPS, verified against
    /// the system's certificate authorities.
    ///
    /// `environment` supplies the proxy variables (`https_proxy`, `http_proxy`, `all_proxy`,
    /// `no_proxy`; see ``RegistryProxy``), the process's own by default; each request's proxy is
    /// chosen from its URL, and a malformed variable fails the first request that would use it.
    public init(
        registry: String, insecure: Bool = false, credentials: RegistryCredentials? = nil, chunkSize: Int = 8 << 20,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.registry = registry
        self.insecure = insecure
        self.credentials = credentials
        self.chunkSize = chunkSize
        http = RegistryHTTPClients(environment: environment)
    }

    /// Closes the client's connections. Idempotent.
    public func shutdown() async throws(IntermodalError) {
        do {
            try await http.shutdown()
        } catch {
            throw IntermodalError(.externalFailure, "closing the connections to registry \(registry)", cause: error)
        }
    }

    var currentAuthorization: String? { authorization.withLock { $0 } }
    func setAuthorization(_ value: String) { authorization.withLock { $0 = value } }

    var base: String { "\(insecure ? "http" : "https")://\(registry)" }

    /// `path` on this registry, or `path` itself when it is a whole URL (a Location header).
    func url(_ path: String) -> String {
        path.hasPrefix("http://") || path.hasPrefix("https://") ? path : base + path
    }

    /// One HTTP exchange with authentication handled; the caller reads the body.
    func exchange(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, scope: String
    ) async throws(IntermodalError) -> RegistryResponse {
        var attempt = 0
        while true {
            attempt += 1
            var all = headers
            if let auth = currentAuthorization { all.append(("Authorization", auth)) }
            let response = try await RegistryHTTP.exchange(http, method: method, url: url(path), headers: all, body: body)
            guard response.statusCode == 401 else { return response }
            // Read the (small) refusal so that the connection can serve the retry.
            _ = try? await response.collect(limit: 64 << 10, "\(method) \(path)")
            if attempt > 1 {
                throw IntermodalError(.invalidArgument, "registry \(registry) refused the credentials for \(method) \(path)")
            }
            try await authenticate(challenge: response.value("WWW-Authenticate") ?? "", scope: scope)
        }
    }

    /// One HTTP exchange with authentication handled; returns the whole body and the response.
    func send(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, scope: String
    ) async throws(IntermodalError) -> ([UInt8], RegistryResponse) {
        let response = try await exchange(method, path, headers: headers, body: body, scope: scope)
        let data = method == "HEAD" ? [] : try await response.collect("\(method) \(path)")
        return (data, response)
    }

    func fail(_ what: String, _ http: RegistryResponse, _ data: [UInt8]) -> IntermodalError {
        let body = String(decoding: data.prefix(300), as: UTF8.self).trimmingTrailingWhitespace
        let code: IntermodalError.Code = http.statusCode == 404 ? .notFound : .externalFailure
        return IntermodalError(code, "\(what): registry \(registry) answered \(http.statusCode)\(body.isEmpty ? "" : ": \(body)")")
    }

    /// Repositories in the registry's catalog.
    public func catalog() async throws(IntermodalError) -> [String] {
        var repositories: [String] = []
        var path = "/v2/_catalog?n=1000"
        while true {
            let (data, http) = try await send("GET", path, scope: "registry:catalog:*")
            guard http.statusCode == 200 else { throw fail("catalog", http, data) }
            struct Catalog: Decodable { var repositories: [String]? }
            repositories += try JSON.decode(Catalog.self, from: data, what: "catalog of \(registry)").repositories ?? []
            // Pagination: Link: </v2/_catalog?last=x&n=1000>; rel="next"
            guard let link = http.value("Link"), let open = link.firstIndex(of: "<"),
                  let close = link.firstIndex(of: ">") else { break }
            path = String(link[link.index(after: open)..<close])
        }
        return repositories
    }

    /// Tags of a repository.
    public func tags(_ repository: String) async throws(IntermodalError) -> [String] {
        let (data, http) = try await send("GET", "/v2/\(repository)/tags/list", scope: "repository:\(repository):pull")
        guard http.statusCode == 200 else { throw fail("tags of \(repository)", http, data) }
        struct Tags: Decodable { var tags: [String]? }
        return try JSON.decode(Tags.self, from: data, what: "tags of \(repository)").tags ?? []
    }
}
