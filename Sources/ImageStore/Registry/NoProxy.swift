import IntermodalCore

/// A `no_proxy` list: the hosts a request reaches directly although a proxy is set.
///
/// Entries are separated by commas (spaces around them are ignored) and matched as curl does,
/// case-insensitively:
/// - `*` alone: every host.
/// - `example.com`, `.example.com` or `*.example.com`: that domain and every name under it
///   (curl and Go treat the three alike for subdomains; curl's `.example.com` also matches
///   `example.com` itself since 7.86).
/// - an IP literal (`10.1.2.3`, `::1`, `[::1]`): that address exactly, compared as written
///   (no resolution: a name is never matched against an address entry, as in curl);
///   `10.0.0.0/8`: an IPv4 range.
/// - any of these with `:port` (IPv6 in brackets): only requests to that port.
public struct NoProxy: Sendable {
    enum Pattern: Equatable {
        case everything
        case domain(String)
        case address(String)
        case ipv4Range(UInt32, mask: UInt32)
    }

    struct Entry: Equatable {
        var pattern: Pattern
        var port: Int?
    }

    let entries: [Entry]

    public init(_ list: String) {
        entries = list.split(separator: ",").compactMap { Self.entry($0.trimmed.lowercased()) }
    }

    /// Whether a request to `host:port` goes direct.
    public func bypasses(host: String, port: Int) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }  // "example.com." is the same name
        // An address matches only address entries: "1.2.3" must not match 10.1.2.3 as a suffix.
        let isAddress = name.contains(":") || Self.ipv4(name) != nil
        return entries.contains { entry in
            if let p = entry.port, p != port { return false }
            switch entry.pattern {
            case .everything: return true
            case .domain(let domain): return !isAddress && (name == domain || name.hasSuffix("." + domain))
            case .address(let address): return name == address
            case .ipv4Range(let network, let mask):
                guard let ip = Self.ipv4(name) else { return false }
                return ip & mask == network
            }
        }
    }

    /// One entry, or nil for an empty or unusable one (ignored, as curl ignores them).
    static func entry(_ text: String) -> Entry? {
        guard !text.isEmpty else { return nil }
        if text == "*" { return Entry(pattern: .everything) }
        var host = Substring(text), port: Int?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
            return Entry(pattern: .address(String(host)), port: port)
        }
        // One colon: host:port. More: a bare IPv6 address, which cannot carry a port.
        if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { return nil }
            port = p
            host = host[..<colon]
        }
        if host.contains(":") { return Entry(pattern: .address(String(host)), port: port) }
        if let slash = host.firstIndex(of: "/") {
            guard let network = ipv4(host[..<slash]), let bits = Int(host[host.index(after: slash)...]),
                  (0...32).contains(bits) else { return nil }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            return Entry(pattern: .ipv4Range(network & mask, mask: mask), port: port)
        }
        if ipv4(host) != nil { return Entry(pattern: .address(String(host)), port: port) }
        if host.hasPrefix("*.") { host = host.dropFirst(2) } else if host.hasPrefix(".") { host = host.dropFirst() }
        if host.hasSuffix(".") { host = host.dropLast() }
        return host.isEmpty ? nil : Entry(pattern: .domain(String(host)), port: port)
    }

    /// A dotted-quad IPv4 address as a number.
    static func ipv4<S: StringProtocol>(_ text: S) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }
}
