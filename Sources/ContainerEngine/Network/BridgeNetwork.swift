#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The project bridge (`intermodal0`) and the veth pairs that connect containers to it.
///
/// The bridge is one per host, so its address allocator is host-wide too: a small JSON file under
/// `/run/intermodal-engine/` (tmpfs, gone at reboot together with the bridge), changed only under
/// an exclusive lock. An allocation whose host-side veth has disappeared (its container's network
/// namespace is gone) is reclaimed, so a crashed owner cannot leak addresses. The bridge is
/// deleted when its last container detaches.
public struct BridgeNetwork: Sendable {
    public static let defaultBridgeName = "intermodal0"

    public let bridgeName: String
    let stateDirectory: FilePath

    /// Where the allocator lives; `/run/intermodal-engine` by default.
    public init(bridgeName: String = BridgeNetwork.defaultBridgeName, stateDirectory: FilePath = "/run/intermodal-engine") {
        self.bridgeName = bridgeName
        self.stateDirectory = stateDirectory
    }

    /// What one attached container got.
    public struct Attachment: Sendable, Equatable {
        public var address: String
        public var gateway: String
        public var prefix: Int
        public var hostInterface: String
    }

    struct State: Codable {
        var subnet: IPv4Subnet
        /// address -> container ID
        var allocations: [String: Allocation]
    }

    struct Allocation: Codable {
        var container: String
        /// The host-side veth of a container; empty for a lease whose interface someone else
        /// makes (a libvirt guest's tap).
        var hostInterface: String
        /// For a lease without our veth: the process holding it; the lease ends with it.
        var ownerPID: Int32?
    }

    private var lock: FileLock { FileLock(stateDirectory.appending("\(bridgeName).lock")) }
    private var stateFile: FilePath { stateDirectory.appending("\(bridgeName).json") }

    /// The host-side veth name for a container: `imv` + the first 12 hex digits of its ID (15 characters, the limit).
    public static func hostInterfaceName(containerID: String) -> String { "imv" + containerID.prefix(12) }

    /// Creates the bridge if needed, allocates an address, and moves the container end of a new
    /// veth pair into the network namespace of `pid` as `eth0` with that address and a default route.
    public func attach(containerID: String, pid: Int32) async throws(IntermodalError) -> Attachment {
        try FileSystem.createDirectory(stateDirectory, mode: 0o700)
        return try await lock.withLock { () async throws(IntermodalError) -> Attachment in
            var state = try await loadOrCreateState()
            try await ensureBridge(state.subnet)
            reclaimStale(&state)
            guard let address = freeAddress(state) else {
                throw IntermodalError(.exists, "no free address left on \(bridgeName) (\(state.subnet))")
            }
            let hostInterface = Self.hostInterfaceName(containerID: containerID)
            let gateway = state.subnet.host(1)
            // Made directly with its peer in the container's namespace: no window where `eth0` is on the host.
            try await ip(["link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", String(pid)])
            do throws(IntermodalError) {
                try await ip(["link", "set", hostInterface, "master", bridgeName, "up"])
                let inside = """
                    addr add \(address)/\(state.subnet.prefix) dev eth0
                    link set eth0 up
                    link set lo up
                    route add default via \(gateway)
                    """
                try await HostCommand.check("nsenter", ["--net=/proc/\(pid)/ns/net", "ip", "-batch", "-"], input: inside + "\n")
                state.allocations[address] = Allocation(container: containerID, hostInterface: hostInterface)
                try save(state)
            } catch {
                _ = try? await HostCommand.run("ip", ["link", "del", hostInterface])
                try? await removeBridgeIfUnused(state)
                throw error
            }
            return Attachment(address: address, gateway: gateway, prefix: state.subnet.prefix, hostInterface: hostInterface)
        }
    }

    /// Creates the bridge if needed and leases an address on it to `owner` (a virtual machine
    /// whose tap libvirt attaches to the bridge), for as long as process `pid` lives or until
    /// ``detach(containerID:)`` with the same owner. Guests and containers then share one network.
    public func reserve(owner: String, pid: Int32 = getpid()) async throws(IntermodalError) -> Attachment {
        try FileSystem.createDirectory(stateDirectory, mode: 0o700)
        return try await lock.withLock { () async throws(IntermodalError) -> Attachment in
            var state = try await loadOrCreateState()
            try await ensureBridge(state.subnet)
            reclaimStale(&state)
            guard let address = freeAddress(state) else {
                throw IntermodalError(.exists, "no free address left on \(bridgeName) (\(state.subnet))")
            }
            state.allocations[address] = Allocation(container: owner, hostInterface: "", ownerPID: pid)
            try save(state)
            return Attachment(address: address, gateway: state.subnet.host(1), prefix: state.subnet.prefix, hostInterface: "")
        }
    }

    /// Deletes the container's veth (if the kernel has not already), frees its address, and
    /// removes the bridge when no container uses it any more.
    public func detach(containerID: String) async throws(IntermodalError) {
        guard FileSystem.exists(stateFile) else { return }
        try await lock.withLock { () async throws(IntermodalError) in
            guard FileSystem.exists(stateFile) else { return }
            var state = try load()
            let hostInterface = Self.hostInterfaceName(containerID: containerID)
            if interfaceExists(hostInterface) {
                let r = try await HostCommand.run("ip", ["link", "del", hostInterface])
                if !r.succeeded && interfaceExists(hostInterface) {
                    throw IntermodalError(.externalFailure, "ip link del \(hostInterface) failed: \(r.standardError.trimmed)")
                }
            }
            state.allocations = state.allocations.filter { $0.value.container != containerID }
            reclaimStale(&state)
            try save(state)
            try await removeBridgeIfUnused(state)
        }
    }

    /// The bridge's gateway address, if the bridge is up (for tests and `inspect`).
    public func gateway() throws(IntermodalError) -> String? {
        guard FileSystem.exists(stateFile), interfaceExists(bridgeName) else { return nil }
        return try load().subnet.host(1)
    }

    // MARK: - Internals

    private func removeBridgeIfUnused(_ state: State) async throws(IntermodalError) {
        guard state.allocations.isEmpty else { return }
        if interfaceExists(bridgeName) { try await ip(["link", "del", bridgeName]) }
        unlink(stateFile.string)
    }

    private func ensureBridge(_ subnet: IPv4Subnet) async throws(IntermodalError) {
        guard !interfaceExists(bridgeName) else { return }
        try await ip(["link", "add", bridgeName, "type", "bridge"])
        do throws(IntermodalError) {
            try await ip(["addr", "add", "\(subnet.host(1))/\(subnet.prefix)", "dev", bridgeName])
            try await ip(["link", "set", bridgeName, "up"])
        } catch {
            _ = try? await HostCommand.run("ip", ["link", "del", bridgeName])
            throw error
        }
    }

    private func reclaimStale(_ state: inout State) {
        state.allocations = state.allocations.filter { _, a in
            if let pid = a.ownerPID, a.hostInterface.isEmpty { return kill(pid, 0) == 0 || errno == EPERM }
            return interfaceExists(a.hostInterface)
        }
    }

    private func freeAddress(_ state: State) -> String? {
        // .1 is the bridge; the last address is broadcast.
        for n in 2..<(state.subnet.size - 1) {
            let a = state.subnet.host(n)
            if state.allocations[a] == nil { return a }
        }
        return nil
    }

    private func interfaceExists(_ name: String) -> Bool {
        FileSystem.exists(FilePath("/sys/class/net").appending(name))
    }

    private func load() throws(IntermodalError) -> State {
        try JSON.decode(State.self, from: try FileSystem.readBytes(stateFile), what: "\(stateFile)")
    }

    private func save(_ state: State) throws(IntermodalError) {
        try VolatileFile.write(try JSON.encode(state), to: stateFile)
    }

    /// The saved state, or a new one with a /24 in 10.x that no address or route on this host overlaps.
    private func loadOrCreateState() async throws(IntermodalError) -> State {
        if FileSystem.exists(stateFile), let state = try? load() { return state }
        let used = try await usedSubnets()
        for second in 213...254 {
            let candidate = IPv4Subnet(network: UInt32(10) << 24 | UInt32(second) << 16, prefix: 24)
            if !used.contains(where: { $0.overlaps(candidate) }) {
                let state = State(subnet: candidate, allocations: [:])
                try save(state)
                return state
            }
        }
        throw IntermodalError(.unsupported, "no unused /24 in 10.213.0.0-10.254.0.0 on this host for \(bridgeName)")
    }

    /// Networks this host already uses: interface addresses and routes (the default route aside).
    private func usedSubnets() async throws(IntermodalError) -> [IPv4Subnet] {
        var result: [IPv4Subnet] = []
        let addresses = try await HostCommand.check("ip", ["-4", "-o", "addr", "show"])
        for line in addresses.split(separator: "\n") {
            let words = line.split(separator: " ")
            if let i = words.firstIndex(of: "inet"), i + 1 < words.count, let s = IPv4Subnet(String(words[i + 1])) {
                result.append(s)
            }
        }
        let routes = try await HostCommand.check("ip", ["-4", "route", "show", "table", "all"])
        for line in routes.split(separator: "\n") {
            let words = line.split(separator: " ")
            var dst = words.first.map(String.init) ?? ""
            if ["unicast", "local", "broadcast"].contains(dst), words.count > 1 { dst = String(words[1]) }
            if dst != "default", let s = IPv4Subnet(dst) { result.append(s) }
        }
        return result
    }

    private func ip(_ arguments: [String]) async throws(IntermodalError) {
        try await HostCommand.check("ip", arguments)
    }
}
