import IntermodalCore

/// An IPv4 /prefix network, for choosing the bridge subnet and handing out addresses.
struct IPv4Subnet: Codable, Sendable, Equatable, CustomStringConvertible {
    var network: UInt32
    var prefix: Int

    init(network: UInt32, prefix: Int) {
        self.prefix = prefix
        self.network = network & IPv4Subnet.mask(prefix)
    }

    /// Parses `10.213.0.0/24` (or a bare address as /32).
    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard let address = IPv4Subnet.parseAddress(String(parts[0])) else { return nil }
        let prefix = parts.count > 1 ? Int(parts[1]) ?? -1 : 32
        guard (0...32).contains(prefix) else { return nil }
        self.init(network: address, prefix: prefix)
    }

    static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix) }

    static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for o in octets {
            guard let b = UInt8(o) else { return nil }
            value = value << 8 | UInt32(b)
        }
        return value
    }

    static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
    }

    /// The `n`th host address (`n` = 1 is the gateway).
    func host(_ n: UInt32) -> String { IPv4Subnet.format(network + n) }

    var size: UInt32 { prefix == 0 ? UInt32.max : UInt32(1) << UInt32(32 - prefix) }

    func overlaps(_ other: IPv4Subnet) -> Bool {
        let p = min(prefix, other.prefix)
        return network & IPv4Subnet.mask(p) == other.network & IPv4Subnet.mask(p)
    }

    var description: String { "\(IPv4Subnet.format(network))/\(prefix)" }
}
