#if canImport(Glibc)
import Glibc
#endif
@testable import BenchmarkHarness
import IntermodalCore
import SystemPackage
import Testing

/// dockerd 20.10 (through containerd 1.6 and its runc v2 shim) with `intermodal-runtime` added
/// as a runtime (`--add-runtime intermodal=PATH`) on a dockerd of the test's own
/// (``DockerBackend``: data root, exec root, socket under a temporary directory, no iptables or
/// bridge): docker writes `blockIO.weight: 0` and `cpu.shares: 0`, which must mean "not set".
@Suite("docker --runtime intermodal", .serialized)
struct DockerWithOurRuntimeTests {
    @Test func dockerRunsExecsPausesUpdatesStopsAndRemovesWithOurRuntime() async throws {
        try await PeerEngineLock.shared.exclusively { try await self.dockerRunsExecsPausesUpdatesStopsAndRemovesWithOurRuntimeAlone() }
    }

    func dockerRunsExecsPausesUpdatesStopsAndRemovesWithOurRuntimeAlone() async throws {
        let f = try await PeerEngineBackendTests.Fixture(backend: "docker")
        defer { f.remove() }
        let backend = DockerBackend(runtimes: ["intermodal": PodmanWithOurRuntimeTests.runtime])
        let name = "intermodal-rt-docker-\(getpid())"
        do {
            _ = try await backend.prepare(f.context)
            guard await backend.startedDaemon else {
                Issue.record("a docker daemon was already running: this test needs one of its own to add the runtime")
                await backend.cleanup()
                return
            }
            let docker = try #require(PeerEngine.locate("docker")).string
            let environment = PeerEngine.dictionary(await backend.environment)
            let image = try #require(await backend.imageName)
            let parent = try #require(await backend.cgroupParent)
            func dockerCall(_ args: [String]) async throws -> CommandResult {
                try await HostCommand.run(docker, args, environment: environment)
            }
            let common = ["--runtime", "intermodal", "--network", "none", "--pull", "never", "--cgroup-parent", parent]

            var r = try await dockerCall(["run", "--rm"] + common + [image, "sh", "-c", "echo hello; exit 3"])
            #expect(r.exitCode == 3, "\(r.standardError)")
            #expect(r.standardOutput == "hello\n", "\(r.standardError)")

            r = try await dockerCall(["run", "-d", "--name", name] + common + [image, "sleep", "600"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            let id = r.standardOutput.trimmed
            r = try await dockerCall(["inspect", "--format", "{{.HostConfig.Runtime}}", name])
            #expect(r.standardOutput.trimmed == "intermodal")
            // docker's cpu.shares 0 left the kernel's default, not its minimum 2.
            let shares = FilePath("/sys/fs/cgroup/cpu\(parent)/\(id)/cpu.shares")
            if FileSystem.exists(FilePath("/sys/fs/cgroup/cpu\(parent)")) {
                #expect((try? FileSystem.readString(shares))?.trimmed == "1024", "\(shares)")
            }

            r = try await dockerCall(["exec", name, "sh", "-c", "echo in-exec; exit 4"])
            #expect(r.exitCode == 4 && r.standardOutput == "in-exec\n", "\(r.standardOutput) \(r.standardError)")
            r = try await dockerCall(["exec", "-t", name, "sh", "-c", "test -t 1 && echo on-a-tty"])
            #expect(r.exitCode == 0 && r.standardOutput.contains("on-a-tty"), "\(r.standardOutput) \(r.standardError)")

            r = try await dockerCall(["pause", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await dockerCall(["inspect", "--format", "{{.State.Status}}", name])
            #expect(r.standardOutput.trimmed == "paused")
            r = try await dockerCall(["unpause", name])
            #expect(r.exitCode == 0, "\(r.standardError)")

            r = try await dockerCall(["top", name])
            #expect(r.exitCode == 0 && r.standardOutput.contains("sleep 600"), "docker top reads our ps --format json: \(r.standardOutput) \(r.standardError)")
            r = try await dockerCall(["update", "--memory", "64m", "--memory-swap", "-1", name])
            #expect(r.exitCode == 0, "docker update sends our update --resources -: \(r.standardError)")
            let limit = FilePath("/sys/fs/cgroup/memory\(parent)/\(id)/memory.limit_in_bytes")
            if FileSystem.exists(FilePath("/sys/fs/cgroup/memory\(parent)")) {
                #expect((try? FileSystem.readString(limit))?.trimmed == "67108864", "\(limit)")
            }

            r = try await dockerCall(["stop", "-t", "1", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await dockerCall(["rm", name])
            #expect(r.exitCode == 0, "\(r.standardError)")
        } catch {
            await backend.cleanup()
            throw error
        }
        await backend.cleanup()
        #expect(f.leftovers(cgroupParent: PeerEngine.cgroupParent("docker")) == [])
        #expect(!FileSystem.exists(FilePath("/run/containerd/runc/moby/\(name)")))
    }
}
