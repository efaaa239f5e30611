import FoundationEssentials
import IntermodalCore

/// The HTTP proxy a request goes through, as the standard environment variables choose it.
///
/// URLSession honoured `https_proxy`, `http_proxy` and `no_proxy`; AsyncHTTPClient reads no
/// environment, so the registry client decides here, the way curl does:
///
/// - `https_proxy`/`HTTPS_PROXY` for `https://` URLs, `http_proxy`/`HTTP_PROXY` for `http://`
///   (`--insecure`) ones, `all_proxy`/`ALL_PROXY` when the scheme's own variable is not set.
///   The lower-case name wins when both are set; an empty value counts as unset.
/// - `no_proxy`/`NO_PROXY` (lower-case wins) lists hosts that bypass the proxy: see ``NoProxy``.
/// - Loopback is not bypassed implicitly, as curl does not (Go, and so Docker, does): a local
///   proxy (a debugging or authenticating one) can reach it, and whoever wants it bypassed writes
///   `localhost,127.0.0.1,::1` into `no_proxy`, which serves curl too.
///
/// A value is `http://host[:port]` or `host[:port]`, with optional `user:password@` (sent as
/// `Proxy-Authorization: Basic`, percent-decoded). No port means 80, what `http://` implies
/// (curl would use 1080). An `https://` proxy (TLS to the proxy itself, which AsyncHTTPClient
/// does not speak), another scheme, or a malformed value is an error that names the variable,
/// rather than a silent direct connection that a firewall would drop after a long timeout.
public struct RegistryProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    /// The variable it came from, for messages.
    public var variable: String

    public init(host: String, port: Int, username: String? = nil, password: String? = nil, variable: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.variable = variable
    }

    /// `host:port` (IPv6 in brackets); no credentials, so that it can be logged.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The proxy for a request to `scheme://host:port`, or nil for a direct connection.
    /// Pure: reads nothing but `environment`.
    public static func choose(
        scheme: String, host: String, port: Int, environment: [String: String]
    ) throws(IntermodalError) -> RegistryProxy? {
        let own = scheme.lowercased() == "https" ? "https_proxy" : "http_proxy"
        guard let (variable, value) = lookup([own, "all_proxy"], environment) else { return nil }
        if let (_, list) = lookup(["no_proxy"], environment), NoProxy(list).bypasses(host: host, port: port) {
            return nil
        }
        return try parse(value, variable: variable)
    }

    /// The first of `names` set to a non-empty value, lower-case spelling before upper-case.
    static func lookup(_ names: [String], _ environment: [String: String]) -> (String, String)? {
        for name in names {
            for spelling in [name, name.uppercased()] {
                if let value = environment[spelling], !value.trimmed.isEmpty {
                    return (spelling, value.trimmed)
                }
            }
        }
        return nil
    }

    /// Parses a proxy variable's value; `variable` names it in errors.
    public static func parse(_ value: String, variable: String) throws(IntermodalError) -> RegistryProxy {
        func bad(_ why: String) -> IntermodalError {
            IntermodalError(.invalidArgument, "\(variable)='\(redacted(value))': \(why)")
        }
        var rest = Substring(value)
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            if scheme == "https" {
                throw bad("https:// proxies (TLS to the proxy) are not supported; give the proxy as http://host:port (https registries are still tunnelled with CONNECT and TLS end to end)")
            }
            guard scheme == "http" else { throw bad("unsupported proxy scheme '\(scheme)://' (only http:// proxies are supported)") }
            rest = rest[range.upperBound...]
        }
        // A path means nothing to a proxy; tolerate only the bare "/" people often write.
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else { throw bad("a proxy URL has no path") }
            rest = rest[..<slash]
        }
        var username: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = String(parts[0]).removingPercentEncoding,
                  let pass = String(parts.count > 1 ? parts[1] : "").removingPercentEncoding else {
                throw bad("invalid percent-encoding in the credentials")
            }
            username = user
            password = pass
        }
        var host: Substring, portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("unclosed '[' in the host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw bad("no proxy host") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }) else {
            throw bad("invalid proxy host '\(host)'")
        }
        var port = 80
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw bad("invalid proxy port '\(portText)'") }
            port = p
        }
        return RegistryProxy(host: String(host), port: port, username: username, password: password, variable: variable)
    }

    /// `value` with any password replaced by `***`, so that an error message does not leak it.
    static func redacted(_ value: String) -> String {
        guard let at = value.lastIndex(of: "@") else { return value }
        let start = value.range(of: "://")?.upperBound ?? value.startIndex
        guard start <= at, let colon = value[start..<at].firstIndex(of: ":") else { return value }
        return String(value[..<value.index(after: colon)]) + "***" + String(value[at...])
    }
}
