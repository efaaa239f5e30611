#if canImport(Glibc)
import Glibc
#endif
@testable import BenchmarkHarness
import IntermodalCore
import SystemPackage
import Testing

/// podman 4 (through conmon) driving `intermodal-runtime` with `--runtime`: every call it makes
/// of a runtime in a container's life (create, start, state, exec with and without a terminal,
/// pause, resume, kill, delete), on the harness's busybox image in a podman storage of the test's
/// own (``PodmanBackend``: private containers.conf without podman's 1048576 nofile limit, which
/// this host cannot grant, private storage and run roots), and nothing left afterwards.
@Suite("podman --runtime intermodal-runtime", .serialized)
struct PodmanWithOurRuntimeTests {
    /// The runtime built next to the test runner.
    static var runtime: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = FilePath(String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        return exe.removingLastComponent().appending("intermodal-runtime").string
    }

    @Test func podmanRunsExecsPausesStopsAndRemovesWithOurRuntime() async throws {
        try await PeerEngineLock.shared.exclusively { try await self.podmanRunsExecsPausesStopsAndRemovesWithOurRuntimeAlone() }
    }

    func podmanRunsExecsPausesStopsAndRemovesWithOurRuntimeAlone() async throws {
        let f = try await PeerEngineBackendTests.Fixture(backend: "podman")
        defer { f.remove() }
        let backend = PodmanBackend()
        let name = "intermodal-rt-podman-\(getpid())"
        do {
            _ = try await backend.prepare(f.context)
            let podman = try #require(PeerEngine.locate("podman")).string
            let environment = PeerEngine.dictionary(await backend.environment)
            let image = try #require(await backend.imageName)
            let parent = try #require(await backend.cgroupParent)
            func podmanCall(_ args: [String], input: String? = nil) async throws -> CommandResult {
                try await HostCommand.run(podman, args, environment: environment, input: input)
            }
            let common = ["--runtime", Self.runtime, "--network", "none", "--pull", "never", "--cgroup-parent", parent]

            var r = try await podmanCall(["run", "--rm"] + common + [image, "sh", "-c", "echo hello; exit 3"])
            #expect(r.exitCode == 3, "\(r.standardError)")
            #expect(r.standardOutput == "hello\n", "\(r.standardError)")

            r = try await podmanCall(["run", "-d", "--name", name] + common + [image, "sleep", "600"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await podmanCall(["inspect", "--format", "{{.OCIRuntime}}", name])
            #expect(r.standardOutput.contains("intermodal-runtime"), "podman must have used our runtime: \(r.standardOutput)")

            r = try await podmanCall(["exec", name, "sh", "-c", "echo in-exec; exit 4"])
            #expect(r.exitCode == 4 && r.standardOutput == "in-exec\n", "\(r.standardOutput) \(r.standardError)")
            r = try await podmanCall(["exec", "-t", name, "sh", "-c", "test -t 1 && echo on-a-tty"])
            #expect(r.exitCode == 0 && r.standardOutput.contains("on-a-tty"), "\(r.standardOutput) \(r.standardError)")
            r = try await podmanCall(["exec", "-i", name, "cat"], input: "through stdin\n")
            #expect(r.standardOutput == "through stdin\n", "\(r.standardError)")

            r = try await podmanCall(["pause", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await podmanCall(["inspect", "--format", "{{.State.Status}}", name])
            #expect(r.standardOutput.trimmed == "paused")
            r = try await podmanCall(["unpause", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await podmanCall(["inspect", "--format", "{{.State.Status}}", name])
            #expect(r.standardOutput.trimmed == "running")

            r = try await podmanCall(["top", name])
            #expect(r.exitCode == 0 && r.standardOutput.contains("sleep 600"), "\(r.standardOutput) \(r.standardError)")

            // sleep as pid 1 ignores TERM: stop kills it after 1 s.
            r = try await podmanCall(["stop", "-t", "1", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await podmanCall(["inspect", "--format", "{{.State.Status}}", name])
            #expect(r.standardOutput.trimmed == "exited")
            r = try await podmanCall(["rm", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
        } catch {
            await backend.cleanup()
            throw error
        }
        await backend.cleanup()
        #expect(f.leftovers(cgroupParent: PeerEngine.cgroupParent("podman")) == [])
    }
}
