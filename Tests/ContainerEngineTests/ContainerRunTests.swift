#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// Real containers from a busybox image in a temporary store, run in-process and through the CLI.
@Suite("Containers: run, ps, logs, exec, stop, rm", .serialized)
struct ContainerRunTests {
    @Test("run prints the output and exits with the container's code (CLI)")
    func outputAndExitCode() async throws {
        try await EngineFixture.with { f in
            let ok = try await f.cli(["run", "--rm", "busybox", "sh", "-c", "echo hello from busybox"])
            #expect(ok.exitCode == 0)
            #expect(ok.standardOutput == "hello from busybox\n")
            let failing = try await f.cli(["run", "--rm", "busybox", "sh", "-c", "echo to-stderr >&2; exit 3"])
            #expect(failing.exitCode == 3)
            #expect(failing.standardError == "to-stderr\n")
            #expect(try await f.engine.list(all: true).isEmpty, "--rm left a container record")
        }
    }

    @Test("a command missing from the image: executable file not found in $PATH, exit 127")
    func missingExecutable() async throws {
        try await EngineFixture.with { f in
            let r = try await f.cli(["run", "--rm", "busybox", "no-such-program", "-c1", "127.0.0.1"])
            #expect(r.exitCode == 127)
            #expect(r.standardError.contains("exec: \"no-such-program\": executable file not found in $PATH"), "\(r.standardError)")
            #expect(try await f.engine.list(all: true).isEmpty)
            // Without --rm the failed container stays, with the error and Docker's exit code.
            await #expect(throws: IntermodalError.self) {
                _ = try await f.run(["no-such-program"])
            }
            let kept = try await f.engine.list(all: true)
            #expect(kept.count == 1)
            #expect(kept.first?.exitCode == 127)
            #expect(kept.first?.status == .exited)
            #expect(!RootfsMounted.check(f, kept.first!), "the snapshot stayed mounted after a failed start")
        }
    }

    @Test("phases are recorded in order: snapshot, create, start, firstOutput, exit, cleanup")
    func phases() async throws {
        try await EngineFixture.with { f in
            let outcome = try await f.engine.run(
                image: "busybox", options: RunOptions(command: ["echo", "phase-test-output"], autoRemove: true), output: .stream)
            #expect(outcome.status.code == 0)
            let t = outcome.timestamps
            let logged = try await f.engine.run(
                image: "busybox", options: RunOptions(command: ["echo", "to the log"], autoRemove: true), output: .log)
            #expect(logged.timestamps[.firstOutput] != nil, "log mode did not mark the first output")
            // firstOutput is when the byte reached us: the exit may be reaped first, so it is
            // ordered against start and cleanup only.
            for order in [[Phase.snapshot, .create, .start, .exit, .cleanup], [.start, .firstOutput, .cleanup]] {
                let instants = order.compactMap { t[$0] }
                #expect(instants.count == order.count, "missing phases in \(t.marks.keys.sorted())")
                #expect(instants == instants.sorted(), "phases out of order: \(t.marks)")
            }
        }
    }

    @Test("each run starts from the original image")
    func freshSnapshotEachRun() async throws {
        try await EngineFixture.with { f in
            let (first, _) = try await f.run(["sh", "-c", "echo changed > /marker && rm /bin/ls"])
            #expect(first.status.code == 0)
            let (second, output) = try await f.run(["sh", "-c", "test -e /marker && echo marker; test -e /bin/ls && echo ls-present"])
            #expect(second.status.code == 0)
            #expect(output == "ls-present\n")
        }
    }

    @Test("ps -a shows stopped containers with their exit codes; ps only running ones; rm removes")
    func psAndRm() async throws {
        try await EngineFixture.with { f in
            let name = "exit-five-\(getpid())"
            let r = try await f.cli(["run", "--name", name, "busybox", "sh", "-c", "echo logged; exit 5"])
            #expect(r.exitCode == 5)
            let all = try await f.cli(["ps", "-a"])
            let line = all.standardOutput.split(separator: "\n").first { $0.contains(name) }
            #expect(line?.contains("Exited (5)") == true, "\(all.standardOutput)")
            let running = try await f.cli(["ps"])
            #expect(!running.standardOutput.contains(name))
            let logs = try await f.cli(["logs", name])
            #expect(logs.standardOutput == "logged\n")
            let duplicate = try await f.cli(["run", "--name", name, "busybox", "true"])
            #expect(duplicate.exitCode == 125)
            #expect(duplicate.standardError.contains("already in use"))
            let rm = try await f.cli(["rm", name])
            #expect(rm.exitCode == 0, "\(rm.standardError)")
            #expect(try await f.cli(["ps", "-a"]).standardOutput.contains(name) == false)
            #expect(try await f.engine.list(all: true).isEmpty)
        }
    }

    @Test("-e, -w, -u and -v reach the process")
    func runFlags() async throws {
        try await EngineFixture.with { f in
            let shared = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-volume")
            defer { try? FileSystem.removeTree(shared) }
            try FileSystem.writeAtomically("from the host\n", to: shared.appending("in.txt"))
            chmod(shared.string, 0o777)
            var options = RunOptions(
                environment: ["GREETING=hi there", "EMPTY="], workingDirectory: "/work/dir", user: "nobody",
                volumes: [VolumeMount(source: shared.string, destination: "/data")])
            let (outcome, output) = try await f.run(
                ["sh", "-c", "echo \"$GREETING\"; pwd; id -u; id -g; cat /data/in.txt; echo written > /data/out.txt"],
                options: options)
            #expect(outcome.status.code == 0, "\(output)")
            #expect(output == "hi there\n/work/dir\n65534\n65534\nfrom the host\n")
            #expect(try FileSystem.readString(shared.appending("out.txt")) == "written\n")

            options = RunOptions(user: "1234:4321", volumes: [VolumeMount(source: shared.string, destination: "/ro", readOnly: true)])
            let (ro, roOutput) = try await f.run(["sh", "-c", "id -u; id -g; if touch /ro/new 2>/dev/null; then echo writable; else echo read-only; fi"], options: options)
            #expect(ro.status.code == 0)
            #expect(roOutput == "1234\n4321\nread-only\n")
            #expect(!FileSystem.exists(shared.appending("new")))

            await #expect(throws: IntermodalError.self) {
                _ = try await f.run(["true"], options: RunOptions(user: "no-such-user"))
            }
        }
    }

    @Test("-m, --cpus and --pids-limit reach the container's cgroup; -d, stop, exec, ps")
    func cgroupLimitsDetached() async throws {
        try await EngineFixture.with { f in
            let run = try await f.cli(["run", "-d", "-m", "64m", "--cpus", "0.5", "--pids-limit", "20", "busybox", "sleep", "60"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            let id = run.standardOutput.trimmed
            let record = try await f.engine.container(id)
            #expect(record.status == .running)
            let pid = try #require(record.pid)
            let cgroups = try CgroupFiles(pid: pid)
            #expect(try cgroups.read("memory", v1: "memory.limit_in_bytes", v2: "memory.max") == "67108864")
            #expect(try cgroups.read("pids", v1: "pids.max", v2: "pids.max") == "20")
            let cpu = try cgroups.read("cpu", v1: "cpu.cfs_quota_us", v2: "cpu.max")
            #expect(cpu == "50000" || cpu == "50000 100000")

            let exec = try await f.cli(["exec", id, "sh", "-c", "echo inside $HOSTNAME"])
            #expect(exec.exitCode == 0, "\(exec.standardError)")
            #expect(exec.standardOutput == "inside \(id.prefix(12))\n")
            let ps = try await f.cli(["ps"])
            #expect(ps.standardOutput.contains(String(id.prefix(12))) && ps.standardOutput.contains("Up "))

            // sleep as PID 1 ignores SIGTERM: stop falls back to SIGKILL after the timeout.
            let stop = try await f.cli(["stop", "-t", "1", id])
            #expect(stop.exitCode == 0, "\(stop.standardError)")
            let stopped = try await f.engine.container(id)
            #expect(stopped.status == .exited)
            #expect(stopped.exitCode == 137)
            #expect(!cgroups.exists(), "the container's cgroup is still there after it stopped")
            let rm = try await f.cli(["rm", id])
            #expect(rm.exitCode == 0)
        }
    }

    @Test("rm -f kills a running container; rm without -f refuses")
    func removeRunning() async throws {
        try await EngineFixture.with { f in
            let record = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"]))
            await #expect(throws: IntermodalError.self) { try await f.engine.remove(record.id) }
            try await f.engine.remove(record.id, force: true)
            #expect(try await f.engine.list(all: true).isEmpty)
            #expect(!Engine.isProcessAlive(record.pid ?? 0))
            #expect(!FileSystem.exists(f.engine.directory(of: record).path))
        }
    }
}

extension ContainerRunTests {
    @Test("run -d --rm: stop removes it (its monitor cleans up); a short one disappears by itself")
    func detachedAutoRemove() async throws {
        try await EngineFixture.with { f in
            let long = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"], autoRemove: true))
            try await f.engine.stop(long.id, timeout: .seconds(1))
            let short = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["true"], autoRemove: true))
            for _ in 0..<1200 where FileSystem.exists(f.engine.directory(of: short).path) {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await f.engine.list(all: true).isEmpty)
            #expect(!FileSystem.exists(f.engine.directory(of: long).path))
            #expect(!FileSystem.exists(f.engine.directory(of: short).path))
        }
    }
}

extension ContainerRunTests {
    @Test("logs -f follows a detached container until it exits")
    func logsFollow() async throws {
        try await EngineFixture.with { f in
            let run = try await f.cli(["run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            let logs = try await f.cli(["logs", "-f", run.standardOutput.trimmed])
            #expect(logs.exitCode == 0)
            #expect(logs.standardOutput == "line 1\nline 2\nline 3\n")
            let record = try await f.engine.container(run.standardOutput.trimmed)
            #expect(record.exitCode == 0)
            #expect(record.timestamps[.firstOutput] != nil, "the monitor did not mark the first output")
        }
    }
}

extension ContainerRunTests {
    @Test("-t gives the process a terminal (under script(1)); -i feeds it standard input")
    func terminalAndStdin() async throws {
        try await EngineFixture.with { f in
            let command = "\(EngineFixture.intermodal.string) run -t --rm --root \(f.root.string) busybox sh -c 'tty; test -t 1 && echo stdout-is-a-terminal'"
            let r = try await HostCommand.run("script", ["-qec", command, "/dev/null"])
            #expect(r.exitCode == 0, "\(r.standardError)")
            #expect(r.standardOutput.contains("/dev/pts/0"), "\(r.standardOutput)")
            #expect(r.standardOutput.contains("stdout-is-a-terminal"))
            let piped = try await f.cli(["run", "-i", "--rm", "busybox", "sh"], input: "echo from stdin\nexit 6\n")
            #expect(piped.exitCode == 6)
            #expect(piped.standardOutput == "from stdin\n")
        }
    }
}

/// True when a container's rootfs is still a mount point.
enum RootfsMounted {
    static func check(_ f: EngineFixture, _ record: ContainerRecord) -> Bool {
        let path = f.engine.directory(of: record).rootfs.string
        let mounts = (try? FileSystem.readString("/proc/self/mountinfo")) ?? ""
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == path }
    }
}

/// The cgroup files of a process on the host, v1 (per controller) or v2 (unified).
struct CgroupFiles {
    var v1: [String: FilePath] = [:]
    var v2: FilePath?

    init(pid: Int32) throws {
        for line in try FileSystem.readString(FilePath("/proc/\(pid)/cgroup")).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                if FileSystem.exists("/sys/fs/cgroup/cgroup.controllers") { v2 = FilePath("/sys/fs/cgroup" + parts[2]) }
            } else {
                for controller in parts[1].split(separator: ",") {
                    v1[String(controller)] = FilePath("/sys/fs/cgroup/\(parts[1])\(parts[2])")
                }
            }
        }
    }

    func read(_ controller: String, v1 file1: String, v2 file2: String) throws -> String {
        if let dir = v1[controller] { return try FileSystem.readString(dir.appending(file1)).trimmed }
        if let v2 { return try FileSystem.readString(v2.appending(file2)).trimmed }
        throw IntermodalError(.notFound, "no \(controller) cgroup")
    }

    func exists() -> Bool {
        v1.values.contains { FileSystem.exists($0) && $0.string.contains("intermodal") } || (v2.map { FileSystem.exists($0) && $0.string.contains("intermodal") } ?? false)
    }
}
