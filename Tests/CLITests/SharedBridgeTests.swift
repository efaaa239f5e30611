#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage
import Testing

/// A container and a virtual machine on the one project bridge, through the CLI as a user runs
/// them: the guest leases its address from the containers' allocator and reaches the container.
@Suite(.serialized) struct SharedBridgeTests {
    @Test func aGuestOnTheBridgeReachesAContainerAndLeavesNothing() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-test-bridge")
        defer { try? FileSystem.removeTree(root) }
        let env = ["INTERMODAL_ROOT": root.string]
        func intermodal(_ arguments: [String]) async throws -> CommandResult {
            try await HostCommand.run(BuiltProducts.directory.appending("intermodal").string, arguments, environment: env)
        }
        #expect(try await intermodal(["image", "bootstrap", "busybox", "busybox:latest"]).succeeded)
        // Long enough for a TCG boot on a loaded host (a cold run once took over 60 s to get the
        // guest to its ping); `rm -f` ends it.
        let started = try await intermodal(["run", "-d", "--name", "bridge-peer", "--network", "bridge", "busybox", "sleep", "900"])
        #expect(started.succeeded, "\(started.standardError)")
        // Expectations do not throw; anything that throws still removes the container first.
        do {
            try await guestReachesContainer(intermodal)
        } catch {
            _ = try? await intermodal(["rm", "-f", "bridge-peer"])
            throw error
        }
        #expect(try await intermodal(["rm", "-f", "bridge-peer"]).succeeded)
        // The guest's lease was given back (other tests may still hold the bridge itself).
        let leases = (try? FileSystem.readString("/run/intermodal-engine/intermodal0.json")) ?? ""
        #expect(!leases.contains("\"guest-"), "\(leases)")
    }

    private func guestReachesContainer(_ intermodal: ([String]) async throws -> CommandResult) async throws {
        let inspect = try await intermodal(["inspect", "bridge-peer"])
        let address = inspect.standardOutput.split(separator: "\n")
            .first { $0.contains("\"address\"") }
            .flatMap { $0.split(separator: "\"").dropFirst(3).first.map(String.init) }
        let container = try #require(address, "no address in: \(inspect.standardOutput)")

        let guest = try await intermodal(["vm", "run", "--network", "bridge", "busybox", "sh", "-c",
                                          "ip -4 -o addr show eth0; ping -c1 -W5 \(container)"])
        #expect(guest.exitCode == 0, "\(guest.standardOutput) \(guest.standardError)")
        #expect(guest.standardOutput.contains("1 packets received"))
        // The guest's address came from the same /24 as the container's.
        let subnet = container.split(separator: ".").prefix(3).joined(separator: ".") + "."
        #expect(guest.standardOutput.contains("inet \(subnet)"))
    }
}

