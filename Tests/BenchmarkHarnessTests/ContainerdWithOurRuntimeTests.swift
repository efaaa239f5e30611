#if canImport(Glibc)
import Glibc
#endif
@testable import BenchmarkHarness
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// containerd 1.6's runc v2 shim driving `intermodal-runtime` through `ctr --runc-binary`: a
/// containerd of the test's own (root, state, sockets and config under a temporary directory,
/// CRI off), `ctr run` on a busybox root file system (`--rootfs`), exec with and without a
/// terminal, pause/resume, ps, kill, delete; containerd stopped and nothing left afterwards.
@Suite("ctr --runc-binary intermodal-runtime", .serialized)
struct ContainerdWithOurRuntimeTests {
    @Test func ctrRunsExecsPausesAndDeletesWithOurRuntime() async throws {
        try await PeerEngineLock.shared.exclusively { try await self.ctrRunsExecsPausesAndDeletesWithOurRuntimeAlone() }
    }

    func ctrRunsExecsPausesAndDeletesWithOurRuntimeAlone() async throws {
        guard let containerd = PeerEngine.locate("containerd"), let ctrPath = PeerEngine.locate("ctr") else {
            Issue.record("containerd and ctr are not installed (scripts/setup installs them)")
            return
        }
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-ctr")
        // Made by the shim at fixed host paths whatever containerd's roots: removed if new and empty.
        let fixed: [FilePath] = ["/run/containerd/runc", "/run/containerd/fifo", "/run/containerd/s", "/run/containerd"]
        let existed = Set(fixed.filter { FileSystem.exists($0) })
        let namespace = "intermodal-test-\(getpid())"
        let socket = dir.appending("c.sock").string
        let rootfs = dir.appending("rootfs")
        var daemon: BackgroundProcess?
        func ctr(_ args: [String]) async throws -> CommandResult {
            try await HostCommand.run(ctrPath.string, ["-a", socket, "-n", namespace] + args)
        }
        defer {
            Journal.unmountAll(under: dir.string)
            try? FileSystem.removeTree(dir)
        }
        do throws(any Error) {
            try await BusyboxRootfs.populate(at: rootfs)
            let config = dir.appending("config.toml")
            try FileSystem.writeAtomically("""
                version = 2
                root = "\(dir.appending("root").string)"
                state = "\(dir.appending("state").string)"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "\(socket)"
                [ttrpc]
                  address = "\(socket).ttrpc"
                """, to: config)
            daemon = try BackgroundProcess.start([containerd.string, "-c", config.string], environment: ["PATH=\(InstanceProcess.defaultPath)"],
                                                 log: dir.appending("containerd.log").string)
            var up = false
            for _ in 0..<150 where !up {
                up = try await ctr(["version"]).exitCode == 0
                if !up { try await Task.sleep(for: .milliseconds(200)) }
            }
            try #require(up, "containerd did not answer: \(DockerBackend.tail(dir.appending("containerd.log")))")
            let runtime = ["--runc-binary", PodmanWithOurRuntimeTests.runtime, "--rootfs", rootfs.string]

            var r = try await ctr(["run", "--rm"] + runtime + ["once", "sh", "-c", "echo hello-ctr; exit 3"])
            #expect(r.standardOutput == "hello-ctr\n", "\(r.standardError)")
            #expect(r.exitCode == 3)

            r = try await ctr(["run", "-d"] + runtime + ["idle", "sleep", "600"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await ctr(["task", "exec", "--exec-id", "e1", "idle", "sh", "-c", "echo in-exec; exit 5"])
            #expect(r.exitCode == 5 && r.standardOutput == "in-exec\n", "\(r.standardOutput) \(r.standardError)")
            // ctr wants its own standard streams to be a terminal for -t: script(1) gives it one.
            let tty = "\(ctrPath.string) -a \(socket) -n \(namespace) task exec -t --exec-id e2 idle sh -c 'test -t 1 && echo on-a-tty'"
            r = try await HostCommand.run("script", ["-qec", tty, "/dev/null"])
            #expect(r.standardOutput.contains("on-a-tty"), "\(r.standardOutput) \(r.standardError)")

            r = try await ctr(["task", "pause", "idle"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await ctr(["task", "ls"])
            #expect(r.standardOutput.contains("PAUSED"), "\(r.standardOutput)")
            r = try await ctr(["task", "resume", "idle"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await ctr(["task", "ls"])
            #expect(r.standardOutput.contains("RUNNING"), "\(r.standardOutput)")
            r = try await ctr(["task", "ps", "idle"])
            let pids = PeerEngine.integers(r.standardOutput)
            #expect(pids.count == 1 && pids.allSatisfy { $0 > 0 }, "task ps reads our ps --format json: \(r.standardOutput) \(r.standardError)")

            r = try await ctr(["task", "kill", "-s", "KILL", "idle"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            var stopped = false
            for _ in 0..<100 where !stopped {
                stopped = try await ctr(["task", "ls"]).standardOutput.contains("STOPPED")
                if !stopped { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(stopped)
            r = try await ctr(["task", "delete", "idle"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            r = try await ctr(["container", "delete", "idle"])
            #expect(r.exitCode == 0, "\(r.standardError)")
        } catch {
            await stop(daemon, namespace: namespace, ctr: ctr)
            removeNew(fixed, existed: existed, namespace: namespace)
            throw error
        }
        await stop(daemon, namespace: namespace, ctr: ctr)
        removeNew(fixed, existed: existed, namespace: namespace)

        // Nothing left: no process naming the directory (shims, containerd), no cgroup of the
        // namespace (ctr's default cgroupsPath is /NAMESPACE/ID), no runtime state.
        #expect(PeerEngine.processes(mentioning: dir) == [])
        for hierarchy in (try? FileSystem.list("/sys/fs/cgroup")) ?? [] {
            #expect(!FileSystem.exists(FilePath("/sys/fs/cgroup/\(hierarchy)/\(namespace)")), "cgroup left in \(hierarchy)")
        }
        #expect(!FileSystem.exists(FilePath("/run/containerd/runc/\(namespace)")))
    }

    /// Removes what is left in the namespace, then stops containerd.
    func stop(_ daemon: BackgroundProcess?, namespace: String, ctr: ([String]) async throws -> CommandResult) async {
        guard let daemon else { return }
        for id in ["once", "idle"] {
            _ = try? await ctr(["task", "kill", "-s", "KILL", id])
            _ = try? await ctr(["task", "delete", "--force", id])
            _ = try? await ctr(["container", "delete", id])
        }
        _ = try? await ctr(["namespaces", "remove", namespace])
        kill(daemon.pid, SIGTERM)
        for _ in 0..<100 where !HostProcesses.hasExited(daemon.pid) { try? await Task.sleep(for: .milliseconds(100)) }
        await daemon.stop()
    }

    /// The shim's fixed host directories that this test made (the runtime's state root for the
    /// namespace first), if empty.
    func removeNew(_ fixed: [FilePath], existed: Set<FilePath>, namespace: String) {
        rmdir("/run/containerd/runc/\(namespace)")
        for dir in fixed where !existed.contains(dir) { rmdir(dir.string) }
    }
}
