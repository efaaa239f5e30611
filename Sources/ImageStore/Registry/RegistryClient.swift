import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IntermodalCore
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
public final class RegistryClient: Sendable {
    /// `host[:port]`.
    public let registry: String
    public let insecure: Bool
    let credentials: RegistryCredentials?
    let session: URLSession
    private let authorization = Mutex<String?>(nil)
    let logger = IntermodalLog.logger("registry")
    /// Size of each PATCH of a chunked upload.
    public let chunkSize: Int

    /// `insecure` speaks plain HTTP (a loopback test registry); otherwise HTTPS.
    public init(registry: String, insecure: Bool = false, credentials: RegistryCredentials? = nil, chunkSize: Int = 8 << 20) {
        self.registry = registry
        self.insecure = insecure
        self.credentials = credentials
        self.chunkSize = chunkSize
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 120
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: ChallengePassthrough(), delegateQueue: nil)
    }

    var currentAuthorization: String? { authorization.withLock { $0 } }

    var base: String { "\(insecure ? "http" : "https")://\(registry)" }

    func url(_ path: String) throws(IntermodalError) -> URL {
        let text = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : base + path
        guard let url = URL(string: text) else { throw IntermodalError(.invalidArgument, "invalid registry URL \(text)") }
        return url
    }

    /// One HTTP exchange with authentication handled; returns body and response.
    func send(
        _ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil, scope: String
    ) async throws(IntermodalError) -> (Data, HTTPURLResponse) {
        var attempt = 0
        while true {
            attempt += 1
            var request = URLRequest(url: try url(path))
            request.httpMethod = method
            for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
            if let auth = authorization.withLock({ $0 }) { request.setValue(auth, forHTTPHeaderField: "Authorization") }
            if let body { request.httpBody = body }
            let data: Data
            let response: URLResponse
            do {
                (data, response) = try await session.data(for: request)
            } catch {
                // corelibs URLSession turns a `401` with a Basic challenge into a challenge for
                // its delegate, which declines it (``ChallengePassthrough``): the task ends
                // cancelled, and that is how a Basic challenge reaches us.
                if (error as NSError).code == NSURLErrorCancelled {
                    if attempt == 1 {
                        try await authenticate(challenge: "Basic", scope: scope)
                        continue
                    }
                    throw IntermodalError(.invalidArgument, "registry \(registry) refused the credentials for \(method) \(path)")
                }
                throw IntermodalError(.externalFailure, "\(method) \(request.url!.absoluteString) failed", cause: error)
            }
            guard let http = response as? HTTPURLResponse else {
                throw IntermodalError(.externalFailure, "\(method) \(path): not an HTTP response")
            }
            if http.statusCode == 401 && attempt == 1 {
                let challenge = http.value(forHTTPHeaderField: "WWW-Authenticate") ?? ""
                try await authenticate(challenge: challenge, scope: scope)
                continue
            }
            return (data, http)
        }
    }

    /// Answers a `WWW-Authenticate` challenge by setting the Authorization header for later requests.
    func authenticate(challenge: String, scope: String) async throws(IntermodalError) {
        let lower = challenge.lowercased()
        if lower.hasPrefix("basic") {
            guard let credentials else {
                throw IntermodalError(.invalidArgument, "registry \(registry) requires a login (give --username and --password)")
            }
            let token = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
            authorization.withLock { $0 = "Basic \(token)" }
            return
        }
        guard lower.hasPrefix("bearer") else {
            throw IntermodalError(.externalFailure, "registry \(registry) asked for unsupported authentication '\(challenge)'")
        }
        let params = Self.challengeParameters(String(challenge.dropFirst("bearer".count)))
        guard let realm = params["realm"], var components = URLComponents(string: realm) else {
            throw IntermodalError(.externalFailure, "registry \(registry): bearer challenge without a realm")
        }
        var query = components.queryItems ?? []
        if let service = params["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: params["scope"] ?? scope))
        components.queryItems = query
        guard let tokenURL = components.url else { throw IntermodalError(.externalFailure, "invalid token realm \(realm)") }
        var request = URLRequest(url: tokenURL)
        if let credentials {
            let basic = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
            request.setValue("Basic \(basic)", forHTTPHeaderField: "Authorization")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw IntermodalError(.externalFailure, "token request to \(realm) failed", cause: error)
        }
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            throw IntermodalError(.externalFailure, "token request to \(realm) was refused (\((response as? HTTPURLResponse)?.statusCode ?? 0))")
        }
        struct TokenResponse: Decodable { var token: String?; var access_token: String? }
        let decoded = try JSON.decode(TokenResponse.self, from: Array(data), what: "token response from \(realm)")
        guard let token = decoded.token ?? decoded.access_token else {
            throw IntermodalError(.externalFailure, "token response from \(realm) has no token")
        }
        authorization.withLock { $0 = "Bearer \(token)" }
    }

    /// `realm="…",service="…",scope="…"` as a dictionary.
    static func challengeParameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text.trimmed)
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmed.lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = String(rest[..<end])
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            result[key] = value
            while let f = rest.first, f == "," || f == " " { rest = rest.dropFirst() }
        }
        return result
    }

    func fail(_ what: String, _ http: HTTPURLResponse, _ data: Data) -> IntermodalError {
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
            repositories += try JSON.decode(Catalog.self, from: Array(data), what: "catalog of \(registry)").repositories ?? []
            // Pagination: Link: </v2/_catalog?last=x&n=1000>; rel="next"
            guard let link = http.value(forHTTPHeaderField: "Link"), let open = link.firstIndex(of: "<"),
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
        return try JSON.decode(Tags.self, from: Array(data), what: "tags of \(repository)").tags ?? []
    }
}

/// Lets a `401` through to us: without a delegate that answers authentication challenges,
/// swift-corelibs-foundation's URLSession waits on them forever. We answer challenges ourselves
/// (``RegistryClient/authenticate(challenge:scope:)``), so URLSession should not.
final class ChallengePassthrough: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        completionHandler(.rejectProtectionSpace, nil)
    }
}
