#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// `run -p HOST:CONTAINER` (issue 11): DNAT rules of our own chains forward the host's port to a
/// container on the bridge, from the host's address and from 127.0.0.1, and are gone again after
/// `rm`, after the owner was killed, and when a second container asks for a taken port.
@Suite("Containers: published ports (-p)", .serialized)
struct PortPublishingTests {
    @Test("-p values: [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]; a bad one is refused naming it")
    func parsing() throws {
        #expect(try PortMapping.parse("8080:80") == PortMapping(hostPort: 8080, containerPort: 80))
        #expect(try PortMapping.parse("127.0.0.1:5353:53/udp") == PortMapping(hostIP: "127.0.0.1", hostPort: 5353, containerPort: 53, transport: .udp))
        #expect(try PortMapping.parse("0.0.0.0:1:65535/TCP").hostIP == nil)
        #expect(try PortMapping.parse("8080:80").description == "0.0.0.0:8080->80/tcp")
        #expect(try PortMapping.parse("127.0.0.1:53:53/udp").description == "127.0.0.1:53->53/udp")
        for (bad, named) in [
            ("8080:70000", "70000"), ("0:80", "host port 0"), ("8080:80/sctp", "sctp"), ("8080:80/", "protocol"),
            ("8080", "container port is missing"), (":80", "host port is missing"), ("8080:", "container port is missing"),
            ("1.2.3:8080:80", "1.2.3"), ("a:b:c:d", "too many"), ("80a:80", "80a"), ("", "missing"),
        ] {
            do {
                _ = try PortMapping.parse(bad)
                Issue.record("'\(bad)' was accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("'\(bad)'") && error.message.contains(named), "\(error.message)")
            }
        }
        // Needs the bridge; one host port once.
        #expect(throws: IntermodalError.self) { try RunOptions(network: .host, ports: [PortMapping(hostPort: 1, containerPort: 1)]).validate() }
        #expect(throws: IntermodalError.self) {
            try RunOptions(network: .bridge, ports: [PortMapping(hostPort: 9, containerPort: 1), PortMapping(hostIP: "127.0.0.1", hostPort: 9, containerPort: 2)]).validate()
        }
        try RunOptions(network: .bridge, ports: [PortMapping(hostPort: 9, containerPort: 1), PortMapping(hostPort: 9, containerPort: 1, transport: .udp)]).validate()
    }

    @Test("run -d -p: the container answers on the host's address and on 127.0.0.1; ps shows the port; rm -f leaves no rule")
    func publishedPortIsReachable() async throws {
        try await EngineFixture.with { f in
            // Whatever ran before (a dockerd turns forwarding on): the engine turns it on itself
            // for published ports, and off again after the last, if it was off.
            let forwardingBefore = Self.ipForwarding
            let port = try Self.freePort()
            // No --network: -p implies the bridge, as with Docker.
            let run = try await f.cli(["run", "-d", "-p", "\(port):80", "busybox", "sh", "-c",
                                       "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            let id = run.standardOutput.trimmed
            let record = try await f.engine.container(id)
            #expect(record.network == .bridge)
            #expect(record.options.ports == [PortMapping(hostPort: port, containerPort: 80)])
            let rules = try await Self.rules(of: id)
            #expect(rules.count == 2, "one DNAT and one FORWARD rule: \(rules)")

            let primary = try await Self.primaryAddress()
            for address in [primary, "127.0.0.1"] {
                let page = try await Self.fetch(address, port)
                #expect(page == "hello\n", "nothing from \(address):\(port)")
            }
            // From another container on the bridge, through the host's address (hairpin NAT).
            let (peer, fetched) = try await f.run(["wget", "-q", "-O", "-", "http://\(primary):\(port)/"], options: RunOptions(network: .bridge))
            #expect(peer.status.code == 0 && fetched == "hello\n", "a container cannot reach \(primary):\(port): \(fetched)")
            let ps = try await f.cli(["ps"])
            #expect(ps.standardOutput.contains("0.0.0.0:\(port)->80/tcp"), "\(ps.standardOutput)")
            #expect(Self.ipForwarding == true, "forwarding is on while a port is published")

            let rm = try await f.cli(["rm", "-f", id])
            #expect(rm.exitCode == 0, "\(rm.standardError)")
            #expect(try await Self.rules(of: id).isEmpty, "rules left after rm -f")
            #expect(!FileSystem.exists(FilePath("/sys/class/net/\(BridgeNetwork.hostInterfaceName(containerID: id))")))
            if !Self.bridgeShared, forwardingBefore == false {
                #expect(Self.ipForwarding == false, "net.ipv4.ip_forward was off before and is left on")
            }
            try await Self.expectChainsGoneUnlessShared()
            try await expectBridgeGoneUnlessShared()
        }
    }

    @Test("-p HOST:CONTAINER/udp: datagrams to the host's address and to 127.0.0.1 reach the container and its answers come back")
    func udp() async throws {
        try await EngineFixture.with { f in
            let port = try Self.freePort()
            let record = try await f.engine.runDetached(image: "busybox", options: RunOptions(
                command: ["sleep", "60"], network: .bridge, ports: [PortMapping(hostPort: port, containerPort: 53, transport: .udp)]))
            let pid = try #require(record.pid)
            // busybox has no UDP server: the host's python3 answers inside the container's network namespace.
            let server = Task {
                try await HostCommand.run("timeout", ["20", "nsenter", "--net=/proc/\(pid)/ns/net", "python3", "-c", """
                    import socket
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind(("0.0.0.0", 53))
                    for _ in range(2):
                        data, peer = s.recvfrom(100)
                        s.sendto(b"pong " + data, peer)
                    """])
            }
            let primary = try await Self.primaryAddress()
            for address in ["127.0.0.1", primary] {
                let answer = try await Self.ask(address, port, "from \(address)")
                #expect(answer == "pong from \(address)", "UDP \(address):\(port): \(answer)")
            }
            let finished = try await server.value
            #expect(finished.exitCode == 0, "\(finished.standardError)")
            try await f.engine.remove(record.id, force: true)
            #expect(try await Self.rules(of: record.id).isEmpty)
        }
    }

    @Test("kill -9 of the monitor, with the container still running or exited too: the next engine command removes its rules")
    func monitorKilled() async throws {
        try await EngineFixture.with { f in
            var records: [ContainerRecord] = []
            for _ in 0..<2 {
                let port = try Self.freePort()
                records.append(try await f.engine.runDetached(image: "busybox", options: RunOptions(
                    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"],
                    network: .bridge, ports: [PortMapping(hostPort: port, containerPort: 80)])))
                #expect(try await Self.fetch("127.0.0.1", port) == "hello\n")
            }
            for r in records {
                let owner = try #require(r.ownerPID)
                kill(owner, SIGKILL)
                for _ in 0..<2400 where Engine.isProcessAlive(owner) { try await Task.sleep(for: .milliseconds(25)) }
                #expect(!Engine.isProcessAlive(owner))
            }
            // The first container still runs, unowned; the second one's process ends too.
            let running = try #require(records[0].pid), ended = try #require(records[1].pid)
            kill(ended, SIGKILL)
            for _ in 0..<2400 where Self.isRunning(ended) { try await Task.sleep(for: .milliseconds(25)) }
            #expect(Engine.isProcessAlive(running))
            // Nothing of this store has looked yet: the running one's rules are all there. (The
            // other's allocation is stale now that its veth is gone, so another test's attach on
            // the shared bridge may already have reclaimed it with its rules.)
            #expect(try await Self.rules(of: records[0].id).count == 2, "nothing may have removed the rules yet")

            // The next engine command (here `ps -a`) reconciles them: stopped, released.
            let ps = try await f.cli(["ps", "-a"])
            #expect(ps.exitCode == 0, "\(ps.standardError)")
            for r in records {
                let left = try await Self.rules(of: r.id)
                #expect(left.isEmpty, "rules left after the owner was killed: \(left)")
                #expect(!FileSystem.exists(FilePath("/sys/class/net/\(BridgeNetwork.hostInterfaceName(containerID: r.id))")))
                #expect(try await f.engine.container(r.id).status == .exited)
            }
            try await Self.expectChainsGoneUnlessShared()
            for r in records { try await f.engine.remove(r.id) }
            try await expectBridgeGoneUnlessShared()
        }
    }

    @Test("stop and --rm take the rules away with the container")
    func stopAndAutoRemove() async throws {
        try await EngineFixture.with { f in
            let port = try Self.freePort()
            let ports = [PortMapping(hostPort: port, containerPort: 80), PortMapping(hostIP: "127.0.0.1", hostPort: port, containerPort: 53, transport: .udp)]
            let detached = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"], network: .bridge, ports: ports))
            #expect(try await Self.rules(of: detached.id).count == 4)
            let stopped = try await f.engine.stop(detached.id, timeout: .milliseconds(200))
            #expect(stopped.status == .exited)
            #expect(try await Self.rules(of: detached.id).isEmpty, "rules left after stop")
            #expect(Engine.portsText(stopped).isEmpty)
            try await f.engine.remove(detached.id)

            let (outcome, _) = try await f.run(["true"], options: RunOptions(network: .bridge, ports: ports, autoRemove: true))
            #expect(outcome.status.code == 0)
            #expect(outcome.cleanupFailure == nil)
            #expect(try await Self.rules(of: outcome.container.id).isEmpty, "rules left after --rm")

            // A start that fails (no such program, found only when the runtime starts it), detached or not.
            await #expect(throws: IntermodalError.self) {
                _ = try await f.run(["no-such-program"], options: RunOptions(network: .bridge, ports: ports))
            }
            await #expect(throws: IntermodalError.self) {
                _ = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["no-such-program"], network: .bridge, ports: ports))
            }
            for listed in try await f.engine.list(all: true) {
                // The detached one's monitor reports the failure first, then finishes the record.
                var failed = listed
                for _ in 0..<2400 where failed.exitCode == nil {
                    try await Task.sleep(for: .milliseconds(25))
                    failed = try await f.engine.container(listed.id)
                }
                #expect(failed.exitCode == 127)
                #expect(try await Self.rules(of: failed.id).isEmpty, "rules left after a failed start")
                try await f.engine.remove(failed.id)
            }
            try await Self.expectChainsGoneUnlessShared()
            try await expectBridgeGoneUnlessShared()
        }
    }

    @Test("a bad -p value or -p with --network host fails naming it, and makes nothing")
    func badValues() async throws {
        try await EngineFixture.with { f in
            for (arguments, named) in [
                (["-p", "8080:70000"], "70000"), (["-p", "8080:80/sctp"], "sctp"), (["-p", "8080"], "'8080'"),
                (["--network", "host", "-p", "8080:80"], "--network bridge"), (["--network", "none", "-p", "8080:80"], "--network bridge"),
            ] {
                let r = try await f.cli(["run", "--rm"] + arguments + ["busybox", "true"])
                #expect(r.exitCode != 0)
                #expect(r.standardError.contains(named), "\(arguments): \(r.standardError)")
            }
            #expect(try await f.engine.list(all: true).isEmpty)
        }
    }

    @Test("a host port published by another container, or used by a program on the host, is refused and leaves nothing")
    func takenPortRefused() async throws {
        try await EngineFixture.with { f in
            let port = try Self.freePort()
            let first = try await f.engine.runDetached(image: "busybox", options: RunOptions(
                command: ["sleep", "60"], network: .bridge, ports: [PortMapping(hostPort: port, containerPort: 80)]))
            for wanted in [PortMapping(hostPort: port, containerPort: 81), PortMapping(hostIP: "127.0.0.1", hostPort: port, containerPort: 80)] {
                do {
                    _ = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"], network: .bridge, ports: [wanted]))
                    Issue.record("a second container got \(wanted)")
                } catch let error as IntermodalError {
                    #expect(error.code == .exists)
                    #expect(error.message.contains("\(port)") && error.message.contains(first.shortID), "\(error.message)")
                }
            }
            #expect(try await f.engine.list(all: true).map(\.id) == [first.id])
            // Another protocol is another port.
            let udp = try await f.engine.runDetached(image: "busybox", options: RunOptions(
                command: ["sleep", "60"], network: .bridge, ports: [PortMapping(hostPort: port, containerPort: 80, transport: .udp)]))
            #expect(try await Self.rules(of: udp.id).count == 2)
            try await f.engine.remove(udp.id, force: true)
            try await f.engine.remove(first.id, force: true)

            // A program listening on the host.
            let listener = try Self.listen()
            defer { close(listener.fd) }
            let cli = try await f.cli(["run", "--rm", "-p", "\(listener.port):80", "busybox", "true"])
            #expect(cli.exitCode != 0)
            #expect(cli.standardError.contains("in use by a program on this host"), "\(cli.standardError)")
            #expect(try await f.engine.list(all: true).isEmpty)
            let left = try await Self.allRules()
            #expect(left.isEmpty || Self.bridgeShared, "rules left: \(left)")
            try await Self.expectChainsGoneUnlessShared()
            try await expectBridgeGoneUnlessShared()
        }
    }

    @Test("containers started at the same time: distinct ports are all published; of two asking for one port, one gets it")
    func concurrentPublishing() async throws {
        try await EngineFixture.with { f in
            let shared = try Self.freePort()
            var wanted: [UInt16] = [shared, shared]
            for _ in 0..<3 { wanted.append(try Self.freePort()) }
            let results = await withTaskGroup(of: (UInt16, Result<ContainerRecord, IntermodalError>).self) { group in
                for port in wanted {
                    group.addTask {
                        do throws(IntermodalError) {
                            return (port, .success(try await f.engine.runDetached(image: "busybox", options: RunOptions(
                                command: ["sleep", "60"], network: .bridge, ports: [PortMapping(hostPort: port, containerPort: 80)]))))
                        } catch {
                            return (port, .failure(error))
                        }
                    }
                }
                var all: [(UInt16, Result<ContainerRecord, IntermodalError>)] = []
                for await r in group { all.append(r) }
                return all
            }
            let won = results.compactMap { r -> (UInt16, ContainerRecord)? in if case .success(let c) = r.1 { return (r.0, c) } else { return nil } }
            let lost = results.compactMap { r -> IntermodalError? in if case .failure(let e) = r.1 { return e } else { return nil } }
            #expect(won.count == 4 && lost.count == 1, "\(lost)")
            #expect(lost.allSatisfy { $0.code == .exists && $0.message.contains("\(shared)") }, "\(lost)")
            #expect(Set(won.map(\.0)) == Set(wanted))
            for (port, record) in won {
                let rules = try await Self.rules(of: record.id)
                #expect(rules.count == 2 && rules[0].contains("--dport \(port) "), "\(rules)")
            }
            // The loser published nothing and has no veth.
            let ids = Set(won.map(\.1.id))
            for record in try await f.engine.list(all: true) where !ids.contains(record.id) {
                #expect(try await Self.rules(of: record.id).isEmpty)
                #expect(!FileSystem.exists(FilePath("/sys/class/net/\(BridgeNetwork.hostInterfaceName(containerID: record.id))")))
            }
            for (_, record) in won { try await f.engine.remove(record.id, force: true) }
            try await Self.expectChainsGoneUnlessShared()
        }
    }

    @Test("the allocator's state rewritten without the ports (as an older intermodal on the host saves it): rm still removes exactly each container's rules")
    func stateWithoutPorts() async throws {
        try await EngineFixture.with { f in
            var records: [ContainerRecord] = []
            for _ in 0..<2 {
                records.append(try await f.engine.runDetached(image: "busybox", options: RunOptions(
                    command: ["sleep", "60"], network: .bridge, ports: [PortMapping(hostPort: try Self.freePort(), containerPort: 80)])))
            }
            let dir = "/run/intermodal-engine"
            _ = try await FileLock(FilePath("\(dir)/\(BridgeNetwork.defaultBridgeName).lock")).withLock { () async throws(IntermodalError) in
                try await HostCommand.check("python3", ["-c", """
                    import json
                    path = "\(dir)/\(BridgeNetwork.defaultBridgeName).json"
                    state = json.load(open(path))
                    for a in state["allocations"].values(): a.pop("ports", None)
                    json.dump(state, open(path, "w"))
                    """])
            }
            try await f.engine.remove(records[0].id, force: true)
            #expect(try await Self.rules(of: records[0].id).isEmpty, "the first container's rules stayed")
            #expect(try await Self.rules(of: records[1].id).count == 2, "the second container's rules went with the first")
            try await f.engine.remove(records[1].id, force: true)
            #expect(try await Self.rules(of: records[1].id).isEmpty, "the second container's rules stayed")
            try await Self.expectChainsGoneUnlessShared()
            try await expectBridgeGoneUnlessShared()
        }
    }

    // MARK: - Helpers

    /// Every rule of ours (`iptables -S` lines with our comment), in the nat and filter tables.
    static func allRules() async throws -> [String] {
        var lines: [String] = []
        for table in ["nat", "filter"] {
            let r = try await HostCommand.check("iptables", ["-w", "-t", table, "-S"])
            lines += r.split(separator: "\n").map(String.init).filter { $0.contains("intermodal:") }
        }
        return lines
    }

    static func rules(of id: String) async throws -> [String] {
        try await allRules().filter { $0.contains("intermodal:\(id)") }
    }

    /// True while a container of another test publishes ports (the chains are shared).
    /// `net.ipv4.ip_forward`, as the engine reads it.
    static var ipForwarding: Bool? {
        (try? FileSystem.readString(FilePath("/proc/sys/net/ipv4/ip_forward"))).map { $0.trimmed == "1" }
    }

    static var bridgeShared: Bool {
        let state = (try? FileSystem.readString(FilePath("/run/intermodal-engine/\(BridgeNetwork.defaultBridgeName).json"))) ?? ""
        return state.contains("\"ports\"")
    }

    static func expectChainsGoneUnlessShared(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        guard !bridgeShared else { return }
        var chains: [String] = []
        for table in ["nat", "filter"] {
            chains += try await HostCommand.check("iptables", ["-w", "-t", table, "-S"])
                .split(separator: "\n").map(String.init).filter { $0.contains("INTERMODAL") }
        }
        #expect(chains.isEmpty, "chains left: \(chains)", sourceLocation: sourceLocation)
    }

    /// The source address of the default route (the host's primary address).
    static func primaryAddress() async throws -> String {
        let route = (try? await HostCommand.check("ip", ["-4", "route", "get", "1.1.1.1"])) ?? ""
        let words = route.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        if let i = words.firstIndex(of: "src"), i + 1 < words.count, words[i + 1] != "127.0.0.1" { return words[i + 1] }
        let addresses = try await HostCommand.check("ip", ["-4", "-o", "addr", "show", "scope", "global"])
        let inet = addresses.split(separator: " ").drop { $0 != "inet" }.dropFirst().first
        return try #require(inet.map { String($0.split(separator: "/")[0]) }, "no global IPv4 address on this host")
    }

    /// The body a web server at `address`:`port` sends for `/`, retried while it is starting
    /// (HTTP/1.0 over a socket of our own, on a thread of its own).
    static func fetch(_ address: String, _ port: UInt16) async throws -> String {
        var last = ""
        for _ in 0..<60 {
            let r = await DedicatedThread.run { httpGet(address, port) }
            switch r {
            case .success(let body): return body
            case .failure(let e): last = "\(e)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return "no answer from \(address):\(port): \(last)"
    }

    private static func httpGet(_ address: String, _ port: UInt16) -> Result<String, IntermodalError> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(.system("socket")) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, address, &sa.sin_addr)
        let connected = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return .failure(.system("connect to \(address):\(port)")) }
        let request = Array("GET / HTTP/1.0\r\nHost: \(address)\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return .failure(.system("send")) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(.system("recv from \(address):\(port)")) }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("HTTP/1."), let split = text.range(of: "\r\n\r\n") else {
            return .failure(IntermodalError(.corrupted, "not an HTTP reply: \(text.prefix(80))"))
        }
        return .success(String(text[split.upperBound...]))
    }

    /// True while `pid` exists and is not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        ProcessStat.read(pid).map { !$0.hasEnded } ?? false
    }

    /// Sends `text` in a datagram to `address`:`port` until an answer comes (the server may be starting).
    static func ask(_ address: String, _ port: UInt16, _ text: String) async throws -> String {
        for _ in 0..<20 {
            let answer = await DedicatedThread.run { () -> String? in
                let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                guard fd >= 0 else { return nil }
                defer { close(fd) }
                var timeout = timeval(tv_sec: 0, tv_usec: 500_000)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = port.bigEndian
                _ = inet_pton(AF_INET, address, &sa.sin_addr)
                let bytes = Array(text.utf8)
                let sent = withUnsafePointer(to: &sa) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard sent == bytes.count else { return nil }
                var buffer = [UInt8](repeating: 0, count: 200)
                let n = recv(fd, &buffer, buffer.count, 0)
                return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
            }
            if let answer { return answer }
            try await Task.sleep(for: .milliseconds(100))
        }
        return "no answer"
    }

    /// A TCP port nobody uses now (the kernel's choice for port 0).
    static func freePort() throws -> UInt16 {
        let l = try listen()
        close(l.fd)
        return l.port
    }

    /// A socket listening on a port the kernel chose, on every address.
    static func listen() throws -> (fd: CInt, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IntermodalError.system("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && Glibc.listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { close(fd); throw IntermodalError.system("cannot listen on a free port") }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}
