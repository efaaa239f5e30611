#if canImport(Glibc)
import Glibc
#endif
@testable import BenchmarkHarness
import BenchmarkResults
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// podman and docker for real: the harness's busybox image loaded into them, `true` and `echo hi`
/// run, an idle instance's processes found by component, and after cleanup no container, image
/// storage, daemon, cgroup or mount of the backend left.
@Suite("Peer engine backends (podman, docker)", .serialized)
struct PeerEngineBackendTests {
    /// A temporary store with the busybox image, a journal and a work directory for one backend.
    struct Fixture {
        let root: FilePath
        let image: Image
        let journal: Journal
        let context: BenchContext

        init(backend: String) async throws {
            root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-peer-test")
            let store = try ImageStore(root: root.appending("store"))
            image = try await store.bootstrapBusybox(name: .parse("busybox:latest"))
            journal = try Journal(directory: root.appending("journal"))
            context = BenchContext(
                storeRoot: root.appending("store"), store: store, image: image, imageName: "busybox",
                workDirectory: root.appending("work-\(backend)"),
                suite: Suite(name: "peer-test", workloads: ["startup"], backends: [backend], runs: 1, warmup: 0, timeoutSeconds: 120),
                intermodalExecutable: "/bin/false", journal: journal)
        }

        var journalText: String { (try? FileSystem.readString(journal.file)) ?? "" }

        func remove() {
            journal.close()
            try? FileSystem.removeTree(root)
        }

        /// What of the backend is still there: its work directory, mounts under it, processes
        /// naming it (daemon, containerd, shims, conmon), its cgroup parent, journal entries.
        func leftovers(cgroupParent: String) -> [String] {
            var found: [String] = []
            let work = context.workDirectory.string
            if FileSystem.exists(context.workDirectory) { found.append("work directory \(work)") }
            let mounts = ((try? FileSystem.readString("/proc/self/mountinfo")) ?? "").split(separator: "\n")
                .filter { $0.contains(" \(work)") }
            found += mounts.map { "mount \($0)" }
            found += PeerEngine.processes(mentioning: context.workDirectory).map { "process \($0)" }
            for hierarchy in (try? FileSystem.list("/sys/fs/cgroup")) ?? [] {
                let dir = FilePath("/sys/fs/cgroup/\(hierarchy)\(cgroupParent)")
                if FileSystem.exists(dir) { found.append("cgroup \(dir)") }
            }
            if journalText.contains("work-") { found.append("journal still lists \(journalText)") }
            return found
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func comm(_ pid: Int32) -> String {
        ((try? FileSystem.readString(FilePath("/proc/\(pid)/comm"))) ?? "").trimmed
    }

    /// `true` and `echo hi`, an exit status passed through, five timed runs of `true` (printed,
    /// not asserted: speed is the harness's business), and the image's footprint.
    static func runs(_ backend: some Backend) async throws {
        let t = try await backend.run(["true"])
        #expect(t.status == ExitStatus(code: 0), "true: \(text(t.output))")
        #expect(t.spawnToExit > .zero)
        let echo = try await backend.run(["echo", "hi"])
        #expect(echo.status == ExitStatus(code: 0))
        #expect(text(echo.output) == "hi\n")
        #expect(echo.spawnToFirstOutput != nil && echo.spawnToFirstOutput! <= echo.spawnToExit)
        let failing = try await backend.run(["sh", "-c", "exit 3"])
        #expect(failing.status.code == 3, "the container's exit status is the CLI's: \(text(failing.output))")
        var ms: [Double] = []
        for _ in 0..<5 {
            let r = try await backend.run(["true"])
            #expect(r.status.code == 0)
            ms.append(r.spawnToExit.milliseconds)
        }
        print("\(backend.name): spawn to exit of true, ms: \(ms.map { String(Int($0.rounded())) }.joined(separator: " "))")
        let footprint = await backend.footprint()
        #expect(footprint.count == 1)
        // The busybox layer is about 2 MB; allocated blocks of the peer's copy.
        #expect((footprint.first?.bytes ?? 0) > 1_000_000, "\(footprint.map { "\($0.what): \($0.bytes)" })")
    }

    /// The idle instance's processes: `expected` components, `sleep` as the container, a memory
    /// cgroup file that reads; the journal lists the container until it is stopped.
    static func idle(_ backend: some Backend, fixture: Fixture, expected: Set<String>, monitor: String) async throws -> [Int32] {
        let instance = try await backend.startIdle(0)
        #expect(Set(instance.processes.map(\.component)) == expected, "\(instance.processes)")
        let container = instance.processes.filter { $0.component == "container" }.map(\.pid)
        #expect(container.map(comm) == ["sleep"])
        let monitors = instance.processes.filter { $0.component != "container" }.map(\.pid)
        #expect(monitors.count == 1 && comm(monitors[0]).hasPrefix(monitor), "\(monitors.map(comm))")
        let file = try #require(instance.cgroupMemoryFile)
        let usage = Int64((try FileSystem.readString(file)).trimmed) ?? 0
        #expect(usage > 0, "\(file)")
        #expect(fixture.journalText.contains(instance.handle), "journaled while it runs")
        let starts = (container + monitors).map { ($0, HostProcesses.startTime($0)) }
        await backend.stopIdle(instance)
        #expect(!fixture.journalText.contains(instance.handle))
        // conmon and the shim exit just after `rm` returns; here PID 1 reaps them late, so an
        // exited one may stay a zombie for a while: gone, reused or a zombie counts as ended.
        for (pid, start) in starts {
            var ended = false
            for _ in 0..<50 {
                ended = HostProcesses.startTime(pid) != start || HostProcesses.hasExited(pid)
                if ended { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ended, "process \(pid) (\(comm(pid))) of the idle instance still runs")
        }
        return container + monitors
    }

    @Test func podmanRunsTheImageAndLeavesNothing() async throws {
        try await PeerEngineLock.shared.exclusively { try await self.podmanRunsTheImageAndLeavesNothingAlone() }
    }

    func podmanRunsTheImageAndLeavesNothingAlone() async throws {
        let f = try await Fixture(backend: "podman")
        defer { f.remove() }
        let backend = PodmanBackend()
        do {
            let readiness = try await backend.prepare(f.context)
            print("podman: \(readiness.version ?? "?"); adjustments:\n  " + readiness.adjustments.joined(separator: "\n  "))
            #expect(readiness.version?.hasPrefix("podman version") == true, "\(readiness.version ?? "nil")")
            #expect(readiness.adjustments.contains { $0.contains("default_ulimits = []") })
            #expect(readiness.adjustments.contains { $0.contains("storage of the harness's own") })
            if OCIRuntimeBackend.hybridCgroups {
                #expect(readiness.adjustments.contains { $0.contains("runtime = \"runc\"") })
            }
            #expect(readiness.adjustments.allSatisfy { $0.first!.isUppercase || $0.hasPrefix("podman") } && readiness.adjustments.allSatisfy { $0.hasSuffix(".") })
            #expect(await backend.imageName == "localhost/intermodal-bench:\(f.image.shortID)")
            try await Self.runs(backend)
            _ = try await Self.idle(backend, fixture: f, expected: ["conmon", "container"], monitor: "conmon")
        } catch {
            await backend.cleanup()
            throw error
        }
        await backend.cleanup()
        #expect(f.leftovers(cgroupParent: PeerEngine.cgroupParent("podman")) == [])
    }

    /// `podman+intermodal-runtime`: the same engine told to use this build's runtime, so that
    /// engine and runtime are measured apart; through `intermodal bench`, as a user runs it.
    @Test func podmanWithOurRuntimeIsMeasuredAndLeavesNothing() async throws {
        try await PeerEngineLock.shared.exclusively { try await self.podmanWithOurRuntimeAlone() }
    }

    func podmanWithOurRuntimeAlone() async throws {
        let name = "podman+intermodal-runtime"
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-peer-test")
        defer { try? FileSystem.removeTree(root) }
        let out = root.appending("r.json")
        let r = try await HostCommand.run(HarnessRunTests.intermodal.string, [
            "bench", "--backends", name, "--workloads", "startup", "--runs", "3", "--warmup", "0",
            "--bench-root", root.appending("bench").string, "--out", out.string,
        ])
        #expect(r.succeeded, "\(r.standardError.suffix(1500))")
        let results = try JSON.decode(ResultsFile.self, from: try FileSystem.readBytes(out), what: out.string)
        let status = try #require(results.backends.first { $0.name == name })
        #expect(status.state == .measured, "\(status.reason ?? "")")
        #expect(status.adjustments.contains { $0.contains("this build's intermodal-runtime") }, "\(status.adjustments)")
        #expect(results.failures.isEmpty, "\(results.failures)")
        #expect(results.samples.filter { $0.backend == name && !$0.warmup }.count == 6)
        // Nothing of the backend stays: its work directory and its cgroup parent are gone.
        #expect(!FileSystem.exists(root.appending("bench/work/\(name)")))
        for hierarchy in (try? FileSystem.list("/sys/fs/cgroup")) ?? [] {
            let left = ((try? FileSystem.list(FilePath("/sys/fs/cgroup/\(hierarchy)"))) ?? []).filter { $0.hasPrefix("intermodal-bench-podman-intermodal-runtime-") }
            #expect(left.isEmpty, "cgroups left in \(hierarchy): \(left)")
        }
    }

    @Test func dockerRunsTheImageAndLeavesNothing() async throws {
        try await PeerEngineLock.shared.exclusively { try await self.dockerRunsTheImageAndLeavesNothingAlone() }
    }

    func dockerRunsTheImageAndLeavesNothingAlone() async throws {
        let f = try await Fixture(backend: "docker")
        defer { f.remove() }
        let backend = DockerBackend()
        var daemon: Int32?
        do {
            let readiness: Readiness
            do {
                readiness = try await backend.prepare(f.context)
            } catch {
                // Docker is installed by scripts/setup and starts here: a skip is a failure, with its reason.
                Issue.record("docker was not ready, the harness would skip it with: \(error)")
                throw error
            }
            print("docker: \(readiness.version ?? "?"); adjustments:\n  " + readiness.adjustments.joined(separator: "\n  "))
            #expect(readiness.version?.contains("dockerd") == true, "\(readiness.version ?? "nil")")
            if await backend.startedDaemon {
                daemon = await backend.daemonPID
                #expect(readiness.adjustments.contains { $0.contains("started a dockerd of its own") })
                #expect(readiness.adjustments.contains { $0.contains("--iptables=false") })
                #expect(f.journalText.contains("\"pid\":\(daemon!)"), "the daemon is journaled: \(f.journalText)")
            }
            #expect(await backend.imageName == "localhost/intermodal-bench:\(f.image.shortID)")
            try await Self.runs(backend)
            _ = try await Self.idle(backend, fixture: f, expected: ["shim", "container"], monitor: "containerd-shim")
        } catch {
            await backend.cleanup()
            throw error
        }
        await backend.cleanup()
        #expect(await backend.startedDaemon == false)
        if let daemon { #expect(!FileSystem.exists(FilePath("/proc/\(daemon)")), "dockerd \(daemon) is stopped and reaped") }
        #expect(f.leftovers(cgroupParent: PeerEngine.cgroupParent("docker")) == [])
    }

    /// A peer that is not installed, or whose daemon dies while starting, throws from `prepare`
    /// with the reason the harness records as the skip, and its cleanup leaves nothing.
    @Test func unavailablePeersThrowTheirReason() async throws {
        let f = try await Fixture(backend: "absent")
        defer { f.remove() }
        let podman = PodmanBackend(podman: "/nonexistent/podman")
        await #expect { try await podman.prepare(f.context) } throws: { e in
            let e = e as! IntermodalError
            return e.code == .notFound && e.message.contains("/nonexistent/podman is not installed")
        }
        await podman.cleanup()
        let docker = DockerBackend(docker: "/nonexistent/docker")
        await #expect { try await docker.prepare(f.context) } throws: { e in
            let e = e as! IntermodalError
            return e.code == .notFound && e.message.contains("/nonexistent/docker is not installed")
        }
        await docker.cleanup()
        #expect(f.leftovers(cgroupParent: PeerEngine.cgroupParent("docker")) == [])
    }

    /// No daemon answers and the one started exits at once (`/bin/false` as dockerd): the reason
    /// names it, and cleanup reaps it and removes the work directory.
    @Test func aDaemonThatDiesWhileStartingIsTheSkipReason() async throws {
        let f = try await Fixture(backend: "docker-dies")
        defer { f.remove() }
        let docker = DockerBackend(dockerd: "/bin/false")
        do {
            _ = try await docker.prepare(f.context)
            // A daemon of the host answered: the path under test is not taken here.
            await docker.cleanup()
            withKnownIssue("a docker daemon already runs on this host; the backend used it") { throw IntermodalError(.invalidState, "daemon present") }
            return
        } catch {
            #expect(error.message.contains("dockerd exited while starting"), "\(error)")
        }
        await docker.cleanup()
        #expect(await docker.startedDaemon == false)
        #expect(f.leftovers(cgroupParent: PeerEngine.cgroupParent("docker")) == [])
    }
}
