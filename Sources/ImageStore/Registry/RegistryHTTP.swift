import AsyncHTTPClient
import FoundationEssentials
import IntermodalCore
import NIOCore
import NIOHTTP1

/// A registry's answer: status and headers; the body is read by the caller (whole or streamed).
struct RegistryResponse {
    var statusCode: Int
    var headers: HTTPHeaders
    var body: HTTPClientResponse.Body

    /// The first value of header `name` (case-insensitive).
    func value(_ name: String) -> String? { headers.first(name: name) }

    /// The whole body, at most `limit` bytes (manifests, JSON and error documents are small).
    func collect(limit: Int = 16 << 20, _ what: String) async throws(IntermodalError) -> [UInt8] {
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw IntermodalError(.externalFailure, "\(what): cannot read the registry's answer", cause: error)
        }
    }
}

/// One HTTP exchange over AsyncHTTPClient, following redirects ourselves.
///
/// AsyncHTTPClient would follow them too, but it keeps the Authorization header when a registry
/// sends a blob GET to another host (object storage, a CDN), which such hosts reject and which
/// would hand our token to them. So the client is configured not to, and this drops the header
/// when a redirect leaves the registry's scheme, host and port.
enum RegistryHTTP {
    /// How long one exchange may take in all, body included (a large layer over a slow link);
    /// a stalled connection ends sooner, through the client's read timeout.
    static let deadline: TimeAmount = .hours(2)

    static func exchange(
        _ clients: RegistryHTTPClients, method: String, url: String, headers: [(String, String)], body: [UInt8]?
    ) async throws(IntermodalError) -> RegistryResponse {
        var current = url
        var method = HTTPMethod(rawValue: method)
        var headers = headers
        var body = body
        for _ in 0...5 {
            var request = HTTPClientRequest(url: current)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(body) }
            // Chosen per hop: a redirect to another host may need another proxy, or none.
            let (client, proxy) = try clients.client(for: current)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: deadline)
            } catch {
                // Name the proxy: its refusal (407) or absence otherwise reads like the registry's.
                let via = proxy.map { " (through proxy \($0) from \($0.variable))" } ?? ""
                throw IntermodalError(.externalFailure, "\(method.rawValue) \(current) failed\(via)", cause: error)
            }
            let code = Int(response.status.code)
            guard [301, 302, 303, 307, 308].contains(code), let location = response.headers.first(name: "Location") else {
                return RegistryResponse(statusCode: code, headers: response.headers, body: response.body)
            }
            _ = try? await response.body.collect(upTo: 64 << 10)  // frees the connection for the next hop
            guard let next = URL(string: location, relativeTo: URL(string: current))?.absoluteString else {
                throw IntermodalError(.externalFailure, "\(method.rawValue) \(current): redirect to an invalid URL '\(location)'")
            }
            if origin(next) != origin(current) {
                headers.removeAll { $0.0.lowercased() == "authorization" }
            }
            if code == 303 && method != .HEAD {
                method = .GET
                body = nil
            }
            current = next
        }
        throw IntermodalError(.externalFailure, "\(method.rawValue) \(url): more than 5 redirects")
    }

    /// `scheme://host:port` of a URL, to tell whether a redirect stays on the same server.
    static func origin(_ url: String) -> String {
        guard let u = URL(string: url) else { return url }
        return "\(u.scheme ?? "")://\(u.host ?? ""):\(u.port ?? -1)"
    }
}
