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
///
/// Published ports (`run -p`) are DNAT rules of ``PortForwarding``, recorded with the allocation
/// and changed under the same lock: they go when their container detaches or its allocation is
/// reclaimed, and the chains go with the last of them. Containers without published ports never
/// run iptables. The work (the `ip` and `iptables` commands, the lock) happens on a dedicated thread.
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
        /// The container's published ports (`-p`), whose DNAT rules go with the allocation.
        var ports: [PortMapping]?
    }

    private var lock: FileLock { FileLock(stateDirectory.appending("\(bridgeName).lock")) }
    private var stateFile: FilePath { stateDirectory.appending("\(bridgeName).json") }
    private var forwarding: PortForwarding { PortForwarding(bridgeName: bridgeName) }
    /// Exists while the iptables chains of published ports may exist: a file of its own, not a
    /// field of the state, which an older `intermodal` on the same host rewrites without the
    /// fields it does not know.
    private var forwardingMarker: FilePath { stateDirectory.appending("\(bridgeName).forwarding") }
    /// The marker's text when publishing ports turned `net.ipv4.ip_forward` on.
    static let forwardingTurnedOn = "ip_forward turned on\n"
    /// True when this bridge's published ports turned `net.ipv4.ip_forward` on (and so turn it off).
    private var turnedOnForwarding: Bool { (try? FileSystem.readString(forwardingMarker)) == Self.forwardingTurnedOn }

    /// The host-side veth name for a container: `imv` + the first 12 hex digits of its ID (15 characters, the limit).
    public static func hostInterfaceName(containerID: String) -> String { "imv" + containerID.prefix(12) }

    /// Creates the bridge if needed, allocates an address, and moves the container end of a new
    /// veth pair into the network namespace of `pid` as `eth0` with that address and a default route.
    /// With `ports`, connections to those host ports are forwarded to the container (DNAT, see
    /// ``PortForwarding``); a host port another container publishes, or a program on the host
    /// listens on, is refused before anything is made. On failure nothing is left behind.
    public func attach(containerID: String, pid: Int32, ports: [PortMapping] = []) async throws(IntermodalError) -> Attachment {
        let network = self
        return try await DedicatedThread.run { () throws(IntermodalError) -> Attachment in
            try network.attachBlocking(containerID: containerID, pid: pid, ports: ports)
        }
    }

    private func attachBlocking(containerID: String, pid: Int32, ports: [PortMapping]) throws(IntermodalError) -> Attachment {
        try FileSystem.createDirectory(stateDirectory, mode: 0o700)
        return try lock.withLockBlockingThisThread { () throws(IntermodalError) -> Attachment in
            var state = try loadOrCreateState()
            try ensureBridge(state.subnet)
            let hostInterface = Self.hostInterfaceName(containerID: containerID)
            var address = ""
            do throws(IntermodalError) {
                try releaseStale(&state)
                try Self.checkPorts(ports, state: state, containerID: containerID)
                guard let free = freeAddress(state) else {
                    throw IntermodalError(.exists, "no free address left on \(bridgeName) (\(state.subnet))")
                }
                address = free
            } catch {
                try? save(state)
                try? removeUnused(&state)
                throw error
            }
            let gateway = state.subnet.host(1)
            do throws(IntermodalError) {
                // Made directly with its peer in the container's namespace: no window where `eth0` is on the host.
                try HostCommand.checkBlocking("ip", ["link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", String(pid)])
                try HostCommand.checkBlocking("ip", ["link", "set", hostInterface, "master", bridgeName, "up"])
                let inside = """
                    addr add \(address)/\(state.subnet.prefix) dev eth0
                    link set eth0 up
                    link set lo up
                    route add default via \(gateway)
                    """
                try HostCommand.checkBlocking("nsenter", ["--net=/proc/\(pid)/ns/net", "ip", "-batch", "-"], input: inside + "\n")
                // Saved before the rules are added: whoever finds the allocation removes its rules.
                state.allocations[address] = Allocation(
                    container: containerID, hostInterface: hostInterface, ports: ports.isEmpty ? nil : ports)
                try save(state)
                if !ports.isEmpty {
                    let chainsKnown = FileSystem.exists(forwardingMarker)
                    // Forwarding on while ports are published (``PortForwarding``); the marker
                    // says whether this bridge turned it on, for the last port's removal.
                    let turnedOn = try PortForwarding.enableIPForwarding()
                    if !chainsKnown || turnedOn {
                        try FileSystem.writeAtomically(turnedOn || turnedOnForwarding ? Self.forwardingTurnedOn : "", to: forwardingMarker)
                    }
                    try forwarding.ensureChains(subnet: state.subnet, known: chainsKnown)
                    try forwarding.publish(containerID: containerID, address: address, ports: ports)
                }
            } catch {
                if !ports.isEmpty { try? forwarding.unpublish(containerIDs: [containerID]) }
                if interfaceExists(hostInterface) { _ = try? HostCommand.runBlocking("ip", ["link", "del", hostInterface]) }
                state.allocations[address] = nil
                try? save(state)
                try? removeUnused(&state)
                throw error
            }
            return Attachment(address: address, gateway: gateway, prefix: state.subnet.prefix, hostInterface: hostInterface)
        }
    }

    /// Refuses `ports` before a container is made for them: a host port that another container
    /// already publishes (on the same address, or either on every address), or that a program
    /// on the host listens on. ``attach(containerID:pid:ports:)`` checks again under the lock.
    public func checkPorts(_ ports: [PortMapping]) throws(IntermodalError) {
        guard !ports.isEmpty else { return }
        if FileSystem.exists(stateFile), var state = try? load() {
            state.allocations = state.allocations.filter { isLive($0.value) }
            try Self.checkPorts(ports, state: state, containerID: nil)
        } else {
            for port in ports { try PortForwarding.checkHostPortFree(port) }
        }
    }

    private static func checkPorts(_ ports: [PortMapping], state: State, containerID: String?) throws(IntermodalError) {
        for port in ports {
            for allocation in state.allocations.values where allocation.container != containerID {
                if let taken = allocation.ports?.first(where: { $0.conflicts(with: port) }) {
                    throw IntermodalError(
                        .exists,
                        "cannot publish \(port): host port \(port.hostPort)/\(port.transport.rawValue) is already published by container \(allocation.container.prefix(12)) (\(taken))")
                }
            }
            try PortForwarding.checkHostPortFree(port)
        }
    }

    /// Creates the bridge if needed and leases an address on it to `owner` (a virtual machine
    /// whose tap libvirt attaches to the bridge), for as long as process `pid` lives or until
    /// ``detach(containerID:)`` with the same owner. Guests and containers then share one network.
    public func reserve(owner: String, pid: Int32 = getpid()) async throws(IntermodalError) -> Attachment {
        let network = self
        return try await DedicatedThread.run { () throws(IntermodalError) -> Attachment in
            try FileSystem.createDirectory(network.stateDirectory, mode: 0o700)
            return try network.lock.withLockBlockingThisThread { () throws(IntermodalError) -> Attachment in
                var state = try network.loadOrCreateState()
                try network.ensureBridge(state.subnet)
                try network.releaseStale(&state)
                guard let address = network.freeAddress(state) else {
                    throw IntermodalError(.exists, "no free address left on \(network.bridgeName) (\(state.subnet))")
                }
                state.allocations[address] = Allocation(container: owner, hostInterface: "", ownerPID: pid)
                try network.save(state)
                return Attachment(address: address, gateway: state.subnet.host(1), prefix: state.subnet.prefix, hostInterface: "")
            }
        }
    }

    /// Deletes the container's veth (if the kernel has not already), removes the rules of its
    /// published ports, frees its address, and removes the bridge (and the port chains) when no
    /// container uses it any more. `published`: the container's record lists published ports,
    /// so its rules are looked for even if the allocation no longer says so.
    public func detach(containerID: String, published: Bool = false) async throws(IntermodalError) {
        guard FileSystem.exists(stateFile) || (published && FileSystem.exists(forwardingMarker)) else { return }
        let network = self
        try await DedicatedThread.run { () throws(IntermodalError) in
            try network.detachBlocking(containerID: containerID, published: published)
        }
    }

    /// ``detach(containerID:)`` on the calling thread, which blocks while another process holds
    /// the allocator's lock (for synchronous code, such as the engine's reconciliation of a
    /// container whose owner was killed).
    func detachBlocking(containerID: String, published: Bool = false) throws(IntermodalError) {
        guard FileSystem.exists(stateFile) || (published && FileSystem.exists(forwardingMarker)) else { return }
        try FileSystem.createDirectory(stateDirectory, mode: 0o700)
        try lock.withLockBlockingThisThread { () throws(IntermodalError) in
            guard FileSystem.exists(stateFile) else {
                // The allocation is gone (its bridge too) but the rules may not be.
                if published && FileSystem.exists(forwardingMarker) {
                    try forwarding.unpublish(containerIDs: [containerID])
                    var empty = State(subnet: IPv4Subnet(network: 0, prefix: 32), allocations: [:])
                    try removeUnused(&empty, saving: false)
                }
                return
            }
            var state = try load()
            let hostInterface = Self.hostInterfaceName(containerID: containerID)
            if interfaceExists(hostInterface) {
                let r = try HostCommand.runBlocking("ip", ["link", "del", hostInterface])
                if !r.succeeded && interfaceExists(hostInterface) {
                    throw IntermodalError(.externalFailure, "ip link del \(hostInterface) failed: \(r.standardError.trimmed)")
                }
            }
            let mine = state.allocations.values.filter { $0.container == containerID }
            if published || mine.contains(where: { !($0.ports ?? []).isEmpty }) {
                try forwarding.unpublish(containerIDs: [containerID])
            }
            state.allocations = state.allocations.filter { $0.value.container != containerID }
            try releaseStale(&state)
            try save(state)
            try removeUnused(&state)
        }
    }

    /// The bridge's gateway address, if the bridge is up (for tests and `inspect`).
    public func gateway() throws(IntermodalError) -> String? {
        guard FileSystem.exists(stateFile), interfaceExists(bridgeName) else { return nil }
        return try load().subnet.host(1)
    }

    // MARK: - Internals

    /// Removes the port chains when no allocation publishes a port, and the bridge and the
    /// state file when there is no allocation left.
    ///
    /// While the chains exist, rules of containers without an allocation are removed here too
    /// (an allocation is saved before its rules are made, under the same lock), and the chains go
    /// only when no container's rule is left in them: the allocations' own word on their ports
    /// is not trusted alone, as an older `intermodal` sharing the host drops it when it saves.
    private func removeUnused(_ state: inout State, saving: Bool = true) throws(IntermodalError) {
        if FileSystem.exists(forwardingMarker) && !state.allocations.values.contains(where: { !($0.ports ?? []).isEmpty }) {
            let left = try forwarding.prune(keeping: Set(state.allocations.values.map(\.container)))
            if left == 0 {
                try forwarding.removeChains()
                if turnedOnForwarding { try PortForwarding.setIPForwarding(false) }
                unlink(forwardingMarker.string)
            }
        }
        guard saving, state.allocations.isEmpty else { return }
        if interfaceExists(bridgeName) { try HostCommand.checkBlocking("ip", ["link", "del", bridgeName]) }
        unlink(stateFile.string)
    }

    private func ensureBridge(_ subnet: IPv4Subnet) throws(IntermodalError) {
        guard !interfaceExists(bridgeName) else { return }
        try HostCommand.checkBlocking("ip", ["link", "add", bridgeName, "type", "bridge"])
        do throws(IntermodalError) {
            try HostCommand.checkBlocking("ip", ["addr", "add", "\(subnet.host(1))/\(subnet.prefix)", "dev", bridgeName])
            try HostCommand.checkBlocking("ip", ["link", "set", bridgeName, "up"])
        } catch {
            _ = try? HostCommand.runBlocking("ip", ["link", "del", bridgeName])
            throw error
        }
    }

    /// Drops allocations whose container's veth (or lease holder) is gone, and the port rules
    /// they had (a container whose owner was killed).
    private func releaseStale(_ state: inout State) throws(IntermodalError) {
        let stale = state.allocations.filter { !isLive($0.value) }
        guard !stale.isEmpty else { return }
        state.allocations = state.allocations.filter { isLive($0.value) }
        let published = Set(stale.values.filter { !($0.ports ?? []).isEmpty }.map(\.container))
        try forwarding.unpublish(containerIDs: published)
    }

    private func isLive(_ a: Allocation) -> Bool {
        if let pid = a.ownerPID, a.hostInterface.isEmpty { return kill(pid, 0) == 0 || errno == EPERM }
        return interfaceExists(a.hostInterface)
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
    private func loadOrCreateState() throws(IntermodalError) -> State {
        if FileSystem.exists(stateFile), let state = try? load() { return state }
        let used = try usedSubnets()
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
    private func usedSubnets() throws(IntermodalError) -> [IPv4Subnet] {
        var result: [IPv4Subnet] = []
        let addresses = try HostCommand.checkBlocking("ip", ["-4", "-o", "addr", "show"])
        for line in addresses.split(separator: "\n") {
            let words = line.split(separator: " ")
            if let i = words.firstIndex(of: "inet"), i + 1 < words.count, let s = IPv4Subnet(String(words[i + 1])) {
                result.append(s)
            }
        }
        let routes = try HostCommand.checkBlocking("ip", ["-4", "route", "show", "table", "all"])
        for line in routes.split(separator: "\n") {
            let words = line.split(separator: " ")
            var dst = words.first.map(String.init) ?? ""
            if ["unicast", "local", "broadcast"].contains(dst), words.count > 1 { dst = String(words[1]) }
            if dst != "default", let s = IPv4Subnet(dst) { result.append(s) }
        }
        return result
    }
}
