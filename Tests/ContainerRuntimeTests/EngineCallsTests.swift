#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// The calls container engines make of a runc-compatible runtime (conmon for podman, containerd's
/// runc v2 shim, docker through it), on real containers through the built binary.
@Suite("intermodal-runtime binary: the engines' calls")
struct EngineCallsTests {
    func cli(_ b: TestBundle, _ args: [String], input: String? = nil) async throws -> CommandResult {
        try await HostCommand.run(RuntimeCLITests.binary.string, ["--root", b.stateRoot.string] + args, input: input)
    }

    /// A running container of `sleep`, detached, with its id.
    func running(_ configure: (inout Spec) -> Void = { _ in }) async throws -> (TestBundle, String) {
        let b = try await TestBundle.make(["sleep", "600"], configure: configure)
        let id = TestBundle.uniqueID
        let r = try await cli(b, ["run", "-d", "-b", b.bundle.string, id])
        guard r.exitCode == 0 else {
            b.cleanup()
            throw IntermodalError(.externalFailure, "run -d: \(r.standardError)")
        }
        return (b, id)
    }

    static func alive(_ pid: Int32) -> Bool {
        // A zombie waiting for the host's init to reap it counts as gone.
        ProcessStat.read(pid).map { $0.state != "Z" } ?? false
    }

    @Test("exec --process F --detach --pid-file P (conmon's and the shim's call) returns with the process running")
    func detachedExec() async throws {
        let (b, id) = try await running()
        defer { b.cleanup() }
        let process = b.directory.appending("process.json")
        try FileSystem.writeAtomically(#"{"args":["sleep","300"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0}}"#, to: process)
        let pidFile = b.directory.appending("exec.pid")
        // The process inherits the runtime's standard streams (conmon reads them): not the test's pipes.
        let errors = b.directory.appending("exec.err")
        let r = try await HostCommand.run("/bin/sh", ["-c", "exec \(RuntimeCLITests.binary.string) --root \(b.stateRoot.string) exec --process \(process.string) --detach --pid-file \(pidFile.string) \(id) </dev/null >/dev/null 2>\(errors.string)"])
        #expect(r.exitCode == 0, "\((try? FileSystem.readString(errors)) ?? "")")
        let pid = try #require(Int32(try FileSystem.readString(pidFile)))
        #expect(Self.alive(pid), "the detached process must outlive the runtime")
        let ps = try await cli(b, ["ps", "--format", "json", id])
        #expect(ps.standardOutput.contains("\(pid)"), "ps --format json: \(ps.standardOutput)")
        #expect(ps.standardOutput.hasPrefix("["))
        #expect(((try? FileSystem.readString(FilePath("/proc/\(pid)/cmdline"))) ?? "").hasPrefix("sleep"))
        kill(pid, SIGKILL)
    }

    @Test("exec's command-line form: -u, --cwd, -e over config.json's process; the exit status passes through")
    func commandLineExec() async throws {
        let (b, id) = try await running()
        defer { b.cleanup() }
        var r = try await cli(b, ["exec", "-u", "1000:1001", "--cwd", "/bin", "-e", "FOO=bar", id, "sh", "-c", "id -u; id -g; pwd; echo $FOO; echo $TERM"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        // TERM=xterm comes from config.json's process, as runc takes it.
        #expect(r.standardOutput == "1000\n1001\n/bin\nbar\nxterm\n", "\(r.standardOutput)")
        r = try await cli(b, ["exec", id, "sh", "-c", "exit 7"])
        #expect(r.exitCode == 7)
        // -t without --console-socket: a terminal of the runtime's own, relayed to its streams.
        r = try await cli(b, ["exec", "-t", id, "sh", "-c", "tty; exit 6"])
        #expect(r.exitCode == 6 && r.standardOutput.hasPrefix("/dev/pts/"), "\(r.standardOutput) \(r.standardError)")
        r = try await cli(b, ["exec", "-t", "--detach", id, "true"])
        #expect(r.exitCode == 255 && r.standardError.contains("--console-socket"), "\(r.standardError)")
        // --cap adds to the bounding and effective sets even beyond the container's (CAP_SYS_ADMIN is 21).
        r = try await cli(b, ["exec", "--cap", "CAP_SYS_ADMIN", id, "grep", "CapEff", "/proc/self/status"])
        let mask = UInt64(r.standardOutput.split(separator: "\t").last?.split(separator: "\n").first ?? "", radix: 16) ?? 0
        #expect(mask & (1 << 21) != 0, "\(r.standardOutput) \(r.standardError)")
        r = try await cli(b, ["exec", id, "grep", "CapEff", "/proc/self/status"])
        let plain = UInt64(r.standardOutput.split(separator: "\t").last?.split(separator: "\n").first ?? "", radix: 16) ?? 0
        #expect(plain & (1 << 21) == 0, "\(r.standardOutput)")
        // --preserve-fds 1: descriptor 3 of the caller is the process's descriptor 3.
        let secret = b.directory.appending("secret")
        try FileSystem.writeAtomically("passed-through\n", to: secret)
        r = try await HostCommand.run("/bin/sh", ["-c", "exec 3<\(secret.string); exec \(RuntimeCLITests.binary.string) --root \(b.stateRoot.string) exec --preserve-fds 1 \(id) cat /proc/self/fd/3"])
        #expect(r.standardOutput == "passed-through\n", "\(r.standardError)")
        r = try await HostCommand.run("/bin/sh", ["-c", "exec 3<\(secret.string); exec \(RuntimeCLITests.binary.string) --root \(b.stateRoot.string) exec \(id) cat /proc/self/fd/3"])
        #expect(r.exitCode != 0, "without --preserve-fds descriptor 3 must not reach the process")
        // run (and create) take --preserve-fds too.
        var spec = try Spec.load(bundle: b.bundle)
        spec.process?.args = ["cat", "/proc/self/fd/3"]
        try b.writeSpec(spec)
        r = try await HostCommand.run("/bin/sh", ["-c", "exec 3<\(secret.string); exec \(RuntimeCLITests.binary.string) --root \(b.stateRoot.string) run --preserve-fds 1 -b \(b.bundle.string) \(TestBundle.uniqueID)"])
        #expect(r.exitCode == 0 && r.standardOutput == "passed-through\n", "\(r.standardError)")
    }

    @Test("pause and resume freeze and thaw; state says paused; exec refuses a paused container")
    func pauseResume() async throws {
        let (b, id) = try await running()
        defer { b.cleanup() }
        var r = try await cli(b, ["pause", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["state", id])
        #expect(r.standardOutput.contains("\"status\":\"paused\""), "\(r.standardOutput)")
        let frozen = try b.runtime.cgroupDirectories(id: id).compactMap { dir in
            (try? FileSystem.readString(dir.appending("freezer.state")))?.trimmed
                ?? ((try? FileSystem.readString(dir.appending("cgroup.freeze")))?.trimmed == "1" ? "FROZEN" : nil)
        }
        #expect(frozen.contains("FROZEN"), "\(frozen)")
        r = try await cli(b, ["exec", id, "true"])
        #expect(r.exitCode == 255)
        #expect(r.standardError.contains("paused"), "\(r.standardError)")
        r = try await cli(b, ["pause", id])
        #expect(r.exitCode == 1)
        r = try await cli(b, ["resume", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["state", id])
        #expect(r.standardOutput.contains("\"status\":\"running\""), "\(r.standardOutput)")
        r = try await cli(b, ["exec", id, "echo", "thawed"])
        #expect(r.standardOutput == "thawed\n")
    }

    @Test("a paused container is killed by SIGKILL and removed by delete --force (thawed so that it can die)")
    func killPaused() async throws {
        let (b, id) = try await running()
        defer { b.cleanup() }
        var r = try await cli(b, ["pause", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["kill", id, "KILL"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = try await cli(b, ["state", id]).standardOutput.contains("\"status\":\"stopped\"")
            if !stopped { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(stopped, "SIGKILL must end a paused container within 5 s")
        r = try await cli(b, ["delete", id])
        #expect(r.exitCode == 0, "\(r.standardError)")

        let (b2, id2) = try await running()
        defer { b2.cleanup() }
        r = try await cli(b2, ["pause", id2])
        let dirs = try b2.runtime.cgroupDirectories(id: id2)
        r = try await cli(b2, ["delete", "--force", id2])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(dirs.allSatisfy { !FileSystem.exists($0) }, "the frozen cgroup must be gone: \(dirs)")
    }

    @Test("update --resources (stdin and file) and runc's flags write the cgroup; events --stats reads it")
    func updateAndStats() async throws {
        let (b, id) = try await running()
        defer { b.cleanup() }
        let dirs = try b.runtime.cgroupDirectories(id: id).map(\.string)
        func value(_ file: String) -> String? {
            dirs.lazy.compactMap { try? FileSystem.readString(FilePath($0 + "/" + file)).trimmed }.first
        }
        var r = try await cli(b, ["update", "--memory", "64m", "--pids-limit", "50", "--cpu-share", "512", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        if let limit = value("memory.limit_in_bytes") ?? value("memory.max") { #expect(limit == "67108864") }
        if let pids = value("pids.max") { #expect(pids == "50") }
        if let shares = value("cpu.shares") { #expect(shares == "512") }
        // Zeros are "not set": the shares stay 512 (the kernel would make 0 its minimum, 2).
        r = try await cli(b, ["update", "-r", "-", id], input: #"{"memory":{"limit":134217728},"cpu":{"shares":0},"blockIO":{"weight":0}}"#)
        #expect(r.exitCode == 0, "\(r.standardError)")
        if let limit = value("memory.limit_in_bytes") ?? value("memory.max") { #expect(limit == "134217728") }
        if let shares = value("cpu.shares") { #expect(shares == "512") }
        let file = b.directory.appending("resources.json")
        try FileSystem.writeAtomically(#"{"pids":{"limit":70}}"#, to: file)
        r = try await cli(b, ["update", "--resources", file.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        if let pids = value("pids.max") { #expect(pids == "70") }
        r = try await cli(b, ["update", "--memory", "lots", id])
        #expect(r.exitCode == 1 && r.standardError.contains("--memory lots"), "\(r.standardError)")

        r = try await cli(b, ["events", "--stats", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(r.standardOutput.contains("\"type\":\"stats\"") && r.standardOutput.contains("\"id\":\"\(id)\""), "\(r.standardOutput)")
        #expect(r.standardOutput.contains("\"pids\":{\"current\":1}"), "\(r.standardOutput)")
        // table: ps(1)'s own columns (default -ef), only the container's rows.
        r = try await cli(b, ["ps", id])
        let rows = r.standardOutput.split(separator: "\n")
        #expect(rows.first?.hasPrefix("UID") == true && rows.count == 2 && rows[1].hasSuffix("sleep 600"), "\(r.standardOutput)")
        r = try await cli(b, ["ps", id, "-o", "pid,comm"])
        #expect(r.standardOutput.split(separator: "\n").last?.hasSuffix("sleep") == true, "\(r.standardOutput) \(r.standardError)")
    }

    @Test("events streams stats every --interval, an oom event when the OOM killer strikes, and ends with the container")
    func eventsStream() async throws {
        let (b, id) = try await running { spec in
            spec.linux?.resources?.memory = Spec.Memory(limit: 16 << 20)
        }
        defer { b.cleanup() }
        let events = Task { try await cli(b, ["events", "--interval", "100ms", id]) }
        try await Task.sleep(for: .milliseconds(400))
        // dd's 64 MiB buffer does not fit the 16 MiB limit: the OOM killer ends dd, not the container.
        let r = try await cli(b, ["exec", id, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"])
        #expect(r.exitCode != 0)
        try await Task.sleep(for: .milliseconds(400))
        _ = try await cli(b, ["kill", id, "KILL"])
        let out = try await events.value
        #expect(out.exitCode == 0, "\(out.standardError)")
        let lines = out.standardOutput.split(separator: "\n")
        #expect(lines.filter { $0.contains("\"type\":\"stats\"") }.count >= 3, "\(out.standardOutput)")
        #expect(lines.contains { $0 == "{\"id\":\"\(id)\",\"type\":\"oom\"}" }, "\(out.standardOutput)")
    }

    @Test("zeros docker writes (cpu.shares 0, blockIO.weight 0) mean not set: the container starts with the kernel's defaults")
    func zerosAreUnset() async throws {
        let (b, id) = try await running { spec in
            var cpu = Spec.CPU()
            cpu.shares = 0
            cpu.quota = 0
            cpu.period = 0
            spec.linux?.resources?.cpu = cpu
            spec.linux?.resources?.blockIO = Spec.BlockIO(weight: 0)
            spec.linux?.resources?.pids = Spec.Pids(limit: 0)
        }
        defer { b.cleanup() }
        let dirs = try b.runtime.cgroupDirectories(id: id).map(\.string)
        for dir in dirs where FileSystem.exists(FilePath(dir + "/cpu.shares")) {
            #expect(try FileSystem.readString(FilePath(dir + "/cpu.shares")).trimmed == "1024")
        }
        for dir in dirs where FileSystem.exists(FilePath(dir + "/pids.max")) {
            #expect(try FileSystem.readString(FilePath(dir + "/pids.max")).trimmed == "max")
        }
    }

    @Test("errors reach --log as runc's JSON lines, argument errors too; delete --force of a missing container exits 0")
    func errorsReachTheLog() async throws {
        let b = try await TestBundle.make(["true"])
        defer { b.cleanup() }
        let log = b.directory.appending("log.json")
        var r = try await cli(b, ["--log", log.string, "--log-format", "json", "exec", "--no-such-flag", "x"])
        #expect(r.exitCode == 64)
        let line = try FileSystem.readString(log)
        #expect(line.hasPrefix("{\"level\":\"error\",\"msg\":\"") && line.contains("--no-such-flag") && line.contains("\"time\":\""), "\(line)")
        r = try await cli(b, ["--log", log.string, "--log-format", "json", "exec", "--detach", "--process", "/nonexistent.json", "nosuch"])
        #expect(r.exitCode == 255)
        #expect(try FileSystem.readString(log).split(separator: "\n").count == 2)
        r = try await cli(b, ["delete", "--force", "never-created"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["delete", "never-created"])
        #expect(r.exitCode == 1)
        r = try await cli(b, ["--help"])
        #expect(r.exitCode == 0)
    }

    @Test("features prints the runtime-spec features document, truthful for this runtime")
    func features() async throws {
        let b = try await TestBundle.make(["true"])
        defer { b.cleanup() }
        let r = try await cli(b, ["features"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        let f = try JSON.decode(RuntimeFeatures.self, from: Array(r.standardOutput.utf8), what: "features")
        #expect(f.ociVersionMin == "1.0.0")
        #expect(f.hooks.count == 6)
        #expect(f.linux.namespaces.contains("cgroup") && f.linux.capabilities.contains("CAP_SYS_ADMIN"))
        #expect(f.linux.cgroup.v1 && f.linux.cgroup.v2 && !f.linux.cgroup.systemd)
        #expect(!f.linux.seccomp.actions.contains("SCMP_ACT_NOTIFY") && f.linux.seccomp.actions.contains("SCMP_ACT_ERRNO"))
        #expect(!f.linux.apparmor.enabled && !f.linux.selinux.enabled)
        #expect(f.mountOptions.contains("rbind") && !f.mountOptions.contains("idmap"))
    }
}
