#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// `--network bridge` for real: traffic both ways between the host and a container over the
/// project bridge, and nothing of it left after `rm`.
@Suite("Containers: bridge networking", .serialized)
struct BridgeNetworkTests {
    @Test("host and container reach each other over intermodal0 (ping, HTTP); rm leaves no veth or bridge")
    func bridgeTraffic() async throws {
        try await EngineFixture.with { f in
            // busybox httpd serves /www; its index says which container answered.
            let record = try await f.engine.runDetached(image: "busybox", options: RunOptions(
                command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"],
                network: .bridge))
            let address = try #require(record.address)
            let hostInterface = try #require(record.hostInterface)
            #expect(hostInterface == "imv" + record.id.prefix(12))
            #expect(FileSystem.exists(FilePath("/sys/class/net/\(hostInterface)")))
            let gateway = try #require(try f.engine.network.gateway())

            // host -> container
            let ping = try await HostCommand.run("/bin/busybox", ["ping", "-c", "1", "-W", "3", address])
            #expect(ping.exitCode == 0, "host cannot ping \(address): \(ping.standardOutput)\(ping.standardError)")
            var page = ""
            for _ in 0..<50 {   // httpd may need a moment to listen
                let r = try await HostCommand.run("/bin/busybox", ["wget", "-q", "-O", "-", "http://\(address):8080/"])
                if r.exitCode == 0 { page = r.standardOutput; break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(page == String(record.id.prefix(12)) + "\n")

            // container -> host (the bridge's address). Up to five echoes within 20 s, any answer
            // counts: one echo with a 3 s wait failed once in a cold suite at load 13 (TCG guests
            // on both cores) and never alone; the path was up (the host had just reached the
            // container), so the single echo's deadline, not the bridge, was what ran out.
            let status = try await f.engine.exec(record.id, command: ["ping", "-c", "5", "-w", "20", "-A", gateway])
            #expect(status.code == 0, "the container cannot ping the bridge at \(gateway)")

            // A second container gets another address on the same bridge.
            let (second, output) = try await f.run(["sh", "-c", "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'"], options: RunOptions(network: .bridge))
            #expect(second.status.code == 0)
            #expect(output.hasPrefix("inet ") && !output.contains(address + "\n"))

            try await f.engine.remove(record.id, force: true)
            try await f.engine.remove(second.container.id, force: true)
            #expect(!FileSystem.exists(FilePath("/sys/class/net/\(hostInterface)")), "veth \(hostInterface) left behind")
            try await expectBridgeGoneUnlessShared()
        }
    }

    @Test("--network none has only loopback; --network host shares the host's interfaces")
    func noneAndHost() async throws {
        try await EngineFixture.with { f in
            let (none, links) = try await f.run(["sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '; ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-up"], options: RunOptions(network: .none))
            #expect(none.status.code == 0)
            #expect(links == "lo lo-up\n")
            // Other tests' containers add and remove our veths (imv...) meanwhile, even within the
            // container's run: the links apart from those must be the host's.
            func stable(_ links: Set<String>) -> Set<String> { links.filter { !$0.hasPrefix("imv") } }
            let before = Set(try FileSystem.list("/sys/class/net"))
            let (host, hostLinks) = try await f.run(["ls", "/sys/class/net"], options: RunOptions(network: .host))
            let after = Set(try FileSystem.list("/sys/class/net"))
            #expect(host.status.code == 0)
            let seen = Set(hostLinks.split(separator: "\n").map(String.init))
            #expect(stable(seen) == stable(before) || stable(seen) == stable(after), "\(seen) against the host's \(before) / \(after)")
            #expect(seen.contains("lo") && seen.count > 1)
        }
    }

    @Test("containers attached concurrently get distinct addresses; the last rm removes the bridge")
    func concurrentAttach() async throws {
        try await EngineFixture.with { f in
            let records = try await withThrowingTaskGroup(of: ContainerRecord.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"], network: .bridge))
                    }
                }
                var all: [ContainerRecord] = []
                for try await r in group { all.append(r) }
                return all
            }
            let addresses = records.compactMap(\.address)
            #expect(addresses.count == 4)
            #expect(Set(addresses).count == 4, "duplicate addresses: \(addresses)")
            for r in records.dropLast() {
                try await f.engine.remove(r.id, force: true)
                #expect(FileSystem.exists(FilePath("/sys/class/net/\(BridgeNetwork.defaultBridgeName)")), "bridge removed while in use")
            }
            try await f.engine.remove(records.last!.id, force: true)
            try await expectBridgeGoneUnlessShared()
            for r in records { #expect(!FileSystem.exists(FilePath("/sys/class/net/\(r.hostInterface ?? "imv")"))) }
        }
    }
}

/// After our last container is removed the bridge must be gone, unless someone else (a test
/// running at the same time: a guest's lease, another suite's container) still holds an address
/// on it. The allocator's state file lists the holders and is removed together with the bridge.
func expectBridgeGoneUnlessShared(sourceLocation: SourceLocation = #_sourceLocation) async throws {
    // Under the allocator's lock: an attach of another suite makes the bridge before it saves its
    // allocation, and a look without the lock would see the bridge and no holder.
    let bridge = FilePath("/sys/class/net/\(BridgeNetwork.defaultBridgeName)")
    guard FileSystem.exists("/run/intermodal-engine") else {
        #expect(!FileSystem.exists(bridge), "bridge left behind", sourceLocation: sourceLocation)
        return
    }
    let lock = FileLock(FilePath("/run/intermodal-engine/\(BridgeNetwork.defaultBridgeName).lock"))
    try await lock.withLock {
        let state = (try? FileSystem.readString(FilePath("/run/intermodal-engine/\(BridgeNetwork.defaultBridgeName).json"))) ?? ""
        if state.contains("\"container\"") { return }
        #expect(!FileSystem.exists(bridge), "bridge left behind", sourceLocation: sourceLocation)
    }
}
