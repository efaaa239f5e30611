#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The iptables rules behind published ports (`run -p`), as Docker makes them without its
/// userland proxy, in chains of our own so that nothing else of the host's firewall is touched:
///
/// - table `nat`, chain `INTERMODAL`, jumped to from `PREROUTING` and `OUTPUT` for packets to an
///   address of this host (`-m addrtype --dst-type LOCAL`, 127.0.0.1 included): one DNAT rule per
///   published port, to the container's bridge address.
/// - table `nat`, chain `INTERMODAL-POST`, jumped to from `POSTROUTING`: MASQUERADE of what leaves
///   through the bridge from 127.0.0.0/8 (a connection to 127.0.0.1; the bridge has
///   `route_localnet=1` so that the kernel routes such packets at all; no host-wide sysctl is
///   changed) and of DNATed connections from the bridge's own subnet (a container reaching a
///   published port through the host's address: hairpin).
/// - table `filter`, chain `INTERMODAL-FWD`, inserted first in `FORWARD`: ACCEPT for DNATed
///   connections to a published container port and their replies, so that a `FORWARD` policy of
///   DROP (Docker's) does not stop traffic from other hosts.
///
/// A published port is reached through routing (a container on the bridge reaching another
/// through the host's address, other hosts' connections), which needs `net.ipv4.ip_forward=1`:
/// as Docker and podman do, the first published port turns it on when it is off, and the bridge
/// remembers that it did, so the last published port's removal turns it off again.
///
/// Every per-container rule carries the comment `intermodal:<container ID>`, by which it is found
/// and removed. Callers hold the bridge allocator's lock; the chains are made with the first
/// published port and removed with the last. Commands run synchronously: call from a thread of
/// your own (``DedicatedThread``).
struct PortForwarding: Sendable {
    let bridgeName: String

    /// The chains' names: `INTERMODAL…` for the project bridge, `IM-<bridge>…` for another one
    /// (iptables allows 28 characters).
    var natChain: String {
        bridgeName == BridgeNetwork.defaultBridgeName ? "INTERMODAL" : "IM-\(bridgeName)"
    }
    var postroutingChain: String { natChain + "-POST" }
    var forwardChain: String { natChain + "-FWD" }

    static let ipForwardSysctl = "/proc/sys/net/ipv4/ip_forward"

    /// Whether the host forwards IPv4 (nil when the sysctl cannot be read).
    static var ipForwarding: Bool? {
        (try? FileSystem.readString(FilePath(ipForwardSysctl))).map { $0.trimmed == "1" }
    }

    /// Turns `net.ipv4.ip_forward` on if it is off; true when this call turned it on.
    static func enableIPForwarding() throws(IntermodalError) -> Bool {
        guard ipForwarding == false else { return false }
        try setIPForwarding(true)
        return true
    }

    static func setIPForwarding(_ on: Bool) throws(IntermodalError) {
        let fd = open(ipForwardSysctl, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot set net.ipv4.ip_forward (\(ipForwardSysctl))") }
        defer { close(fd) }
        guard write(fd, on ? "1\n" : "0\n", 2) == 2 else { throw .system("cannot set net.ipv4.ip_forward (\(ipForwardSysctl))") }
    }

    /// The comment that marks a container's rules.
    static func comment(containerID: String) -> String { "intermodal:\(containerID)" }

    /// Creates the chains and the jumps to them where missing, and sets `route_localnet` on the
    /// bridge. `known`: the allocator made them before (then three looks, not eleven, tell they
    /// are still there; each `iptables` costs about 10 ms).
    func ensureChains(subnet: IPv4Subnet, known: Bool = false) throws(IntermodalError) {
        let sysctl = "/proc/sys/net/ipv4/conf/\(bridgeName)/route_localnet"
        let fd = open(sysctl, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot allow 127.0.0.1 to be forwarded to \(bridgeName) (\(sysctl))") }
        defer { close(fd) }
        guard write(fd, "1\n", 2) == 2 else { throw .system("cannot allow 127.0.0.1 to be forwarded to \(bridgeName) (\(sysctl))") }
        if known, try chainExists("nat", natChain), try chainExists("filter", forwardChain),
           try check("nat", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", natChain]) {
            return
        }
        for (table, chain) in [("nat", natChain), ("nat", postroutingChain), ("filter", forwardChain)] {
            if !(try chainExists(table, chain)) { try iptables(["-t", table, "-N", chain]) }
        }
        let local = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", natChain]
        try ensureRule("nat", "PREROUTING", local)
        try ensureRule("nat", "OUTPUT", local)
        try ensureRule("nat", "POSTROUTING", ["-j", postroutingChain])
        try ensureRule("filter", "FORWARD", ["-j", forwardChain], insert: true)
        try ensureRule("nat", postroutingChain, ["-s", "127.0.0.0/8", "-o", bridgeName, "-j", "MASQUERADE"])
        try ensureRule("nat", postroutingChain, [
            "-s", subnet.description, "-o", bridgeName, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE",
        ])
        try ensureRule("filter", forwardChain, [
            "-i", bridgeName, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT",
        ])
    }

    /// Adds the DNAT (and FORWARD ACCEPT) rules of one container; any it had before are replaced.
    func publish(containerID: String, address: String, ports: [PortMapping]) throws(IntermodalError) {
        try unpublish(containerIDs: [containerID])
        let comment = ["-m", "comment", "--comment", Self.comment(containerID: containerID)]
        for port in ports {
            let proto = port.transport.rawValue
            let destination = port.hostIP.map { ["-d", $0] } ?? []
            try iptables(["-t", "nat", "-A", natChain] + destination + ["-p", proto, "--dport", String(port.hostPort)]
                + comment + ["-j", "DNAT", "--to-destination", "\(address):\(port.containerPort)"])
            try iptables(["-t", "filter", "-A", forwardChain, "-d", address, "-o", bridgeName, "-p", proto,
                          "--dport", String(port.containerPort), "-m", "conntrack", "--ctstate", "DNAT"]
                + comment + ["-j", "ACCEPT"])
        }
    }

    /// Removes every rule marked with one of these containers' IDs (none: nothing to do).
    func unpublish(containerIDs: Set<String>) throws(IntermodalError) {
        guard !containerIDs.isEmpty else { return }
        let comments = Set(containerIDs.map(Self.comment(containerID:)))
        for (table, chain) in [("nat", natChain), ("filter", forwardChain)] {
            for rule in try rules(table, chain) {
                let words = Self.words(rule)
                guard words.first == "-A", let i = words.firstIndex(of: "--comment"), i + 1 < words.count,
                      comments.contains(words[i + 1]) else { continue }
                try iptables(["-t", table, "-D"] + words.dropFirst())
            }
        }
    }

    /// Removes the rules of every container not in `keep` (a container whose allocation is gone,
    /// however that happened); returns how many rules of containers are left.
    func prune(keeping keep: Set<String>) throws(IntermodalError) -> Int {
        let comments = Set(keep.map(Self.comment(containerID:)))
        var left = 0
        for (table, chain) in [("nat", natChain), ("filter", forwardChain)] {
            for rule in try rules(table, chain) {
                let words = Self.words(rule)
                guard words.first == "-A", let i = words.firstIndex(of: "--comment"), i + 1 < words.count,
                      words[i + 1].hasPrefix("intermodal:") else { continue }
                if comments.contains(words[i + 1]) {
                    left += 1
                } else {
                    try iptables(["-t", table, "-D"] + words.dropFirst())
                }
            }
        }
        return left
    }

    /// Removes the jumps and the chains (whatever is left of them).
    func removeChains() throws(IntermodalError) {
        let local = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", natChain]
        for (table, chain, rule) in [
            ("nat", "PREROUTING", local), ("nat", "OUTPUT", local), ("nat", "POSTROUTING", ["-j", postroutingChain]),
            ("filter", "FORWARD", ["-j", forwardChain]),
        ] {
            // Several copies are possible if someone added one by hand; 8 is plenty.
            var copies = 0
            while copies < 8, try check(table, chain, rule) {
                try iptables(["-t", table, "-D", chain] + rule)
                copies += 1
            }
        }
        for (table, chain) in [("nat", natChain), ("nat", postroutingChain), ("filter", forwardChain)] {
            guard try chainExists(table, chain) else { continue }
            try iptables(["-t", table, "-F", chain])
            try iptables(["-t", table, "-X", chain])
        }
    }

    /// The rules of a chain as `iptables -S` prints them (`-A CHAIN ...`); none when it does not exist.
    func rules(_ table: String, _ chain: String) throws(IntermodalError) -> [String] {
        let r = try HostCommand.runBlocking(try Self.executable().string, ["-w", "-t", table, "-S", chain])
        guard r.succeeded else { return [] }
        return r.standardOutput.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") }
    }

    // MARK: - Internals

    private func chainExists(_ table: String, _ chain: String) throws(IntermodalError) -> Bool {
        try HostCommand.runBlocking(try Self.executable().string, ["-w", "-t", table, "-S", chain]).succeeded
    }

    private func check(_ table: String, _ chain: String, _ rule: [String]) throws(IntermodalError) -> Bool {
        try HostCommand.runBlocking(try Self.executable().string, ["-w", "-t", table, "-C", chain] + rule).succeeded
    }

    private func ensureRule(_ table: String, _ chain: String, _ rule: [String], insert: Bool = false) throws(IntermodalError) {
        guard !(try check(table, chain, rule)) else { return }
        try iptables(["-t", table, insert ? "-I" : "-A", chain] + (insert ? ["1"] : []) + rule)
    }

    private func iptables(_ arguments: [String]) throws(IntermodalError) {
        let r = try HostCommand.runBlocking(try Self.executable().string, ["-w"] + arguments)
        guard r.succeeded else {
            throw IntermodalError(
                .externalFailure,
                "iptables \(arguments.joined(separator: " ")) failed: \(r.standardError.trimmingTrailingWhitespace)")
        }
    }

    /// `iptables` (Debian's, nft or legacy backend): from `PATH`, else the sbin directories.
    static func executable() throws(IntermodalError) -> FilePath {
        if let found = HostCommand.find("iptables") { return found }
        for dir in ["/usr/sbin", "/sbin"] where access(dir + "/iptables", X_OK) == 0 { return FilePath(dir + "/iptables") }
        throw IntermodalError(.notFound, "publishing ports (-p) needs iptables (Debian: apt-get install iptables)")
    }

    /// `iptables -S` output split into words, double quotes removed (comments are printed quoted).
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && quoted { escaped = true; continue }
            if c == "\"" { quoted.toggle(); inWord = true; continue }
            if c == " " && !quoted {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }

    /// Whether something on the host already holds `port` (a listening TCP socket, a bound UDP
    /// one): a test bind with `SO_REUSEADDR`, so connections in TIME_WAIT do not count. The DNAT
    /// rule would hide such a server. Throws for a host IP that is not this host's.
    static func checkHostPortFree(_ port: PortMapping) throws(IntermodalError) {
        let fd = socket(AF_INET, Int32(port.transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("cannot make a socket to check host port \(port.hostPort)") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.hostPort.bigEndian
        _ = inet_pton(AF_INET, port.hostIP ?? "0.0.0.0", &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc != 0 else { return }
        switch errno {
        case EADDRINUSE:
            throw IntermodalError(.exists, "cannot publish \(port): host port \(port.hostPort)/\(port.transport.rawValue) is in use by a program on this host")
        case EADDRNOTAVAIL:
            throw IntermodalError(.invalidArgument, "cannot publish \(port): \(port.hostIP ?? "0.0.0.0") is not an address of this host")
        case EACCES:
            return  // only our own bind is refused (an unprivileged check); DNAT needs no bind
        default:
            throw .system("cannot check host port \(port.hostPort)/\(port.transport.rawValue)")
        }
    }
}
