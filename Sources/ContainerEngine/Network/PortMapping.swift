#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// A published port (`run -p [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`): connections to `hostPort`
/// on the host's addresses (or only on `hostIP`), 127.0.0.1 included, are forwarded to
/// `containerPort` of a container on the project bridge (DNAT, see ``BridgeNetwork``).
public struct PortMapping: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The transport protocol of a published port.
    public enum TransportProtocol: String, Codable, Sendable, CaseIterable {
        /// Connections (the default, as with Docker).
        case tcp
        /// Datagrams.
        case udp
    }

    /// The host address the port is published on (IPv4, dotted); nil for every address of the host.
    public var hostIP: String?
    /// The port on the host (1-65535).
    public var hostPort: UInt16
    /// The port the container's program listens on (1-65535).
    public var containerPort: UInt16
    /// TCP or UDP; the same on both sides.
    public var transport: TransportProtocol

    /// `hostIP` `"0.0.0.0"` is the same as nil: every address of the host.
    public init(hostIP: String? = nil, hostPort: UInt16, containerPort: UInt16, transport: TransportProtocol = .tcp) {
        self.hostIP = hostIP == "0.0.0.0" ? nil : hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.transport = transport
    }

    /// As `docker ps` shows it: `0.0.0.0:8080->80/tcp`, `127.0.0.1:5353->53/udp`.
    public var description: String {
        "\(hostIP ?? "0.0.0.0"):\(hostPort)->\(containerPort)/\(transport.rawValue)"
    }

    /// True when both would take the same host port: same protocol and port, and the same host
    /// address or either on every address.
    public func conflicts(with other: PortMapping) -> Bool {
        transport == other.transport && hostPort == other.hostPort
            && (hostIP == nil || other.hostIP == nil || hostIP == other.hostIP)
    }

    /// Parses `[IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]` (tcp when no protocol is given), as
    /// `docker run -p` does; IP is an IPv4 address (`0.0.0.0` means every address). The error
    /// names the value and what is wrong with it.
    public static func parse(_ text: String) throws(IntermodalError) -> PortMapping {
        let usage = "expected [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]"
        func invalid(_ why: String) -> IntermodalError {
            IntermodalError(.invalidArgument, "invalid port mapping '\(text)': \(why)")
        }
        var spec = Substring(text)
        var transport = TransportProtocol.tcp
        if let slash = spec.lastIndex(of: "/") {
            let name = String(spec[spec.index(after: slash)...])
            guard let t = TransportProtocol(rawValue: name.lowercased()) else {
                throw invalid(name.isEmpty ? "the protocol after '/' is missing (tcp or udp)" : "unknown protocol '\(name)' (tcp or udp)")
            }
            transport = t
            spec = spec[..<slash]
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            if parts.count < 2 { throw invalid("the \(parts.first?.isEmpty ?? true ? "ports are" : "container port is") missing; \(usage)") }
            throw invalid("too many parts (IPv6 addresses are not supported); \(usage)")
        }
        var hostIP: String?
        if parts.count == 3 {
            let ip = parts[0]
            guard !ip.isEmpty else { throw invalid("the host IP before the first ':' is empty; \(usage)") }
            var address = in_addr()
            guard inet_pton(AF_INET, ip, &address) == 1 else { throw invalid("'\(ip)' is not an IPv4 address") }
            hostIP = ip
        }
        func port(_ value: String, _ role: String) throws(IntermodalError) -> UInt16 {
            guard !value.isEmpty else { throw invalid("the \(role) port is missing; \(usage)") }
            guard value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber), let n = Int(value) else {
                throw invalid("\(role) port '\(value)' is not a number")
            }
            guard (1...65535).contains(n) else { throw invalid("\(role) port \(value) is out of range (1-65535)") }
            return UInt16(n)
        }
        let hostPort = try port(parts[parts.count - 2], "host")
        let containerPort = try port(parts[parts.count - 1], "container")
        return PortMapping(hostIP: hostIP, hostPort: hostPort, containerPort: containerPort, transport: transport)
    }
}
