#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// The per-container monitor of detached containers: the Swift `container-monitor` starts the
/// container and becomes the small C `intermodal-monitor` in place, which keeps the log, reaps
/// the container and execs the engine's finish step. Every duty of the monitor, through it.
@Suite(.serialized)
struct ContainerMonitorTests {
    @Test("a running detached container is watched by the small monitor, which records the real exit status, output and phases, then is gone")
    func smallMonitorRecordsTheExit() async throws {
        try await EngineFixture.with { f in
            // The container waits for the test's go (a file the test makes in its root file
            // system), so that it still runs when looked at, however slow the host is.
            let run = try await f.cli(["run", "-d", "busybox", "sh", "-c",
                                       "echo out; echo err >&2; while [ ! -e /go ]; do sleep 0.05; done; sleep 1; echo late; exit 7"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            let id = run.standardOutput.trimmed
            let record = try await f.engine.container(id)
            #expect(record.status == .running)
            let owner = try #require(record.ownerPID)
            #expect(Self.executable(of: owner) == EngineFixture.productsDirectory.appending(Engine.smallMonitorName).string,
                    "the container's owner is not the small monitor")
            try FileSystem.writeAtomically("", to: f.engine.directory(of: record).rootfs.appending("go"))
            let done = try await Self.exited(f, id)
            #expect(done.exitCode == 7)
            #expect(done.error == nil)
            #expect(try FileSystem.readString(FilePath(done.logPath)) == "out\nerr\nlate\n")
            let t = done.timestamps
            let phases = try [t[.start], t[.firstOutput], t[.exit], t[.cleanup]].map { try #require($0) }
            #expect(phases == phases.sorted(), "phases out of order: \(t)")
            #expect(t[.exit]!.duration(since: t[.firstOutput]!) >= .milliseconds(900), "exit was not marked when the container exited")
            #expect(!RootfsMounted.check(f, done))
            #expect(throws: IntermodalError.self) { try f.engine.runtime.state(id: id) }
            try await Self.gone(owner)
        }
    }

    @Test("short containers: the exit status is right whether the container exits before or after the hand-over")
    func exitRacesTheHandOver() async throws {
        try await EngineFixture.with { f in
            var ids: [(String, Int32)] = []
            for code: Int32 in [0, 3, 0, 42, 1] {
                let r = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sh", "-c", "exit \(code)"]))
                ids.append((r.id, code))
            }
            for (id, code) in ids {
                let done = try await Self.exited(f, id)
                #expect(done.exitCode == code, "container \(id.prefix(12))")
                #expect(done.error == nil)
            }
        }
    }

    @Test("killed by a signal: 128 + signal is recorded; stop, and --rm removes everything")
    func killedBySignal() async throws {
        try await EngineFixture.with { f in
            let kept = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"]))
            let removed = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "60"], autoRemove: true))
            let owners = [kept.ownerPID, removed.ownerPID].compactMap { $0 }
            try f.engine.runtime.kill(id: kept.id, signal: SIGKILL)
            #expect(try await Self.exited(f, kept.id).exitCode == 137)
            try await f.engine.stop(removed.id, timeout: .milliseconds(300))
            for _ in 0..<1200 where FileSystem.exists(f.engine.directory(of: removed).path) { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!FileSystem.exists(f.engine.directory(of: removed).path))
            #expect(try await f.engine.list(all: true).map(\.id) == [kept.id])
            for owner in owners { try await Self.gone(owner) }
        }
    }

    @Test("output larger than a pipe written around the hand-over is kept whole and in order; logs -f follows it to the end")
    func largeOutputAndLogsFollow() async throws {
        try await EngineFixture.with { f in
            let run = try await f.cli(["run", "-d", "busybox", "sh", "-c", "seq 1 30000; echo middle >&2; sleep 0.5; seq 30001 30100"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            let id = run.standardOutput.trimmed
            let logs = try await f.cli(["logs", "-f", id])
            let expected = (1...30000).map { "\($0)\n" }.joined() + "middle\n" + (30001...30100).map { "\($0)\n" }.joined()
            #expect(logs.exitCode == 0)
            #expect(logs.standardOutput == expected, "logs -f printed \(logs.standardOutput.utf8.count) bytes, expected \(expected.utf8.count)")
            let done = try await Self.exited(f, id)
            #expect(done.exitCode == 0)
            #expect(try FileSystem.readString(FilePath(done.logPath)) == expected)
        }
    }

    @Test("killing `run -d` and its process group does not touch the container: its real exit status is recorded")
    func runKilled() async throws {
        try await EngineFixture.with { f in
            let cli = try Self.spawnInOwnGroup([
                EngineFixture.intermodal.string, "run", "--root", f.root.string, "-d", "busybox", "sh", "-c",
                "while [ ! -e /go ]; do sleep 0.05; done; exit 3",
            ])
            // Once the monitor has taken the record over, kill everything of the `run` command.
            var record: ContainerRecord?
            for _ in 0..<6000 {
                if let r = try await f.engine.list(all: true).first, r.ownerPID != cli, r.status == .running { record = r; break }
                try await Task.sleep(for: .milliseconds(10))
            }
            kill(-cli, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(cli, &status, 0)
            let running = try #require(record, "the container never ran")
            try FileSystem.writeAtomically("", to: f.engine.directory(of: running).rootfs.appending("go"))
            let done = try await Self.exited(f, running.id)
            #expect(done.exitCode == 3)
            #expect(done.error == nil)
        }
    }

    @Test("attached run: SIGTERM to `intermodal run` is forwarded to the container, whose exit code the run returns and records")
    func attachedRunForwardsSignals() async throws {
        try await EngineFixture.with { f in
            let cli = try Self.spawnInOwnGroup([
                EngineFixture.intermodal.string, "run", "--root", f.root.string, "busybox", "sh", "-c",
                "trap 'echo got TERM; exit 9' TERM; echo ready; while true; do sleep 0.1; done",
            ])
            var record: ContainerRecord?
            for _ in 0..<400 {
                if let r = try await f.engine.list(all: true).first, r.status == .running,
                   (try? FileSystem.readString(FilePath(r.logPath)))?.contains("ready") == true { record = r; break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let running = try #require(record, "the container never said ready")
            #expect(running.ownerPID == cli)
            kill(cli, SIGTERM)
            var status: Int32 = 0
            _ = waitpid(cli, &status, 0)
            #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 9, "wait status \(status)")
            let done = try await f.engine.container(running.id)
            #expect(done.exitCode == 9)
            #expect(try FileSystem.readString(FilePath(done.logPath)) == "ready\ngot TERM\n")
        }
    }

    @Test("kill -9 of the monitor: the next look kills the container and releases its process, cgroup, state and mount (no exit status invented); rm takes the rest")
    func monitorKilled() async throws {
        try await EngineFixture.with { f in
            let kept = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "300"]))
            let removed = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "300"], autoRemove: true))
            var cgroups: [CgroupFiles] = []
            for record in [kept, removed] {
                let pid = try #require(record.pid)
                cgroups.append(try CgroupFiles(pid: pid))
                #expect(cgroups.last!.exists())
                kill(try #require(record.ownerPID), SIGKILL)
            }
            for record in [kept, removed] { try await Self.gone(record.ownerPID!) }
            // The next look at the containers (ps -a) finds their owners dead.
            let listed = try await f.engine.list(all: true)
            #expect(Set(listed.map(\.id)) == [kept.id, removed.id])
            for found in listed {
                #expect(found.status == .exited)
                // Nobody could collect the status: none is invented (issue 14).
                #expect(found.exitCode == nil)
                #expect(found.error?.contains("exited without recording its end") == true)
            }
            for record in [kept, removed] {
                try await Self.gone(record.pid!)
                #expect(throws: IntermodalError.self) { try f.engine.runtime.state(id: record.id) }
                #expect(!RootfsMounted.check(f, record))
            }
            for c in cgroups { #expect(!c.exists(), "a cgroup of a container whose monitor was killed is still there") }
            for record in [kept, removed] { try await f.engine.remove(record.id) }
            #expect(try await f.engine.list(all: true).isEmpty)
            for record in [kept, removed] { #expect(!FileSystem.exists(f.engine.directory(of: record).path)) }
        }
    }
}

extension ContainerMonitorTests {
    /// Polls until the container has exited (its monitor finished it).
    static func exited(_ f: EngineFixture, _ id: String) async throws -> ContainerRecord {
        for _ in 0..<600 {
            let r = try await f.engine.container(id)
            if r.status == .exited { return r }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw IntermodalError(.timeout, "container \(id.prefix(12)) did not exit")
    }

    /// Waits until `pid` no longer exists (the host's init reaps a dead monitor).
    static func gone(_ pid: Int32) async throws {
        for _ in 0..<2400 where Engine.isProcessAlive(pid) { try await Task.sleep(for: .milliseconds(25)) }
        #expect(!Engine.isProcessAlive(pid), "process \(pid) is still there")
    }

    static func executable(of pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink("/proc/\(pid)/exe", &buffer, 4096)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `args` as the leader of a new process group, with standard streams on /dev/null.
    static func spawnInOwnGroup(_ args: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var cArgs = args.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw IntermodalError.system("cannot start \(args[0])", errno: rc) }
        return pid
    }
}
