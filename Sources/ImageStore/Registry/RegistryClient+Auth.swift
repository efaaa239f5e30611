import FoundationEssentials
import IntermodalCore

extension RegistryClient {
    /// Answers a `WWW-Authenticate` challenge by setting the Authorization header for later requests.
    func authenticate(challenge: String, scope: String) async throws(IntermodalError) {
        let lower = challenge.lowercased()
        if lower.hasPrefix("basic") {
            guard let credentials else {
                throw IntermodalError(.invalidArgument, "registry \(registry) requires a login (give --username and --password)")
            }
            setAuthorization("Basic \(Self.basic(credentials))")
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
        guard let tokenURL = components.url?.absoluteString else { throw IntermodalError(.externalFailure, "invalid token realm \(realm)") }
        let headers = credentials.map { [("Authorization", "Basic \(Self.basic($0))")] } ?? []
        let response: RegistryResponse
        do {
            response = try await RegistryHTTP.exchange(http, method: "GET", url: tokenURL, headers: headers, body: nil)
        } catch {
            throw IntermodalError(.externalFailure, "token request to \(realm) failed", cause: error)
        }
        let data = try await response.collect("token request to \(realm)")
        guard response.statusCode == 200 else {
            throw IntermodalError(.externalFailure, "token request to \(realm) was refused (\(response.statusCode))")
        }
        struct TokenResponse: Decodable { var token: String?; var access_token: String? }
        let decoded = try JSON.decode(TokenResponse.self, from: data, what: "token response from \(realm)")
        guard let token = decoded.token ?? decoded.access_token else {
            throw IntermodalError(.externalFailure, "token response from \(realm) has no token")
        }
        setAuthorization("Bearer \(token)")
    }

    static func basic(_ credentials: RegistryCredentials) -> String {
        Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
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
}
