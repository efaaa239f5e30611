#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// Containers whose `run` was killed at any point, damaged records, bad limits (issue 14).
@Suite("Containers killed half-made are listed, removable and leave nothing", .serialized)
struct InterruptedContainerTests {
    /// PIDs of processes whose command line mentions `text` (the store root: the CLI and the
    /// container inits it cloned, which keep its command line until they exec).
    static func processes(mentioning text: String) -> [Int32] {
        let mine = getpid()
        return ((try? FileSystem.list("/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard pid != mine, let bytes = try? FileSystem.readBytes(FilePath("/proc/\(pid)/cmdline")) else { return false }
            return String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(text)
        }
    }

    /// Cgroup directories named for the containers (`/intermodal-<id12>` in every hierarchy).
    static func cgroups(of ids: [String]) -> [String] {
        let hierarchies = ((try? FileSystem.list("/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/\($0)" } + ["/sys/fs/cgroup"]
        return ids.flatMap { id in hierarchies.map { "\($0)/intermodal-\(id.prefix(12))" } }.filter { FileSystem.isDirectory(FilePath($0)) }
    }

    @Test("kill -9 of run at many points: the next run finishes or undoes each, ps -a lists the rest as they are, rm -f removes all, nothing stays")
    func killNineDuringRun() async throws {
        try await EngineFixture.with { f in
            // A few kills before the container's record can exist, then kills at many points
            // after it appeared: while the snapshot, the bundle, the runtime's create and start run,
            // and (the last ones, on a loaded host) while the container runs.
            let early = [0, 10]
            let afterRecord = [0, 1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 170, 250, 400, 550, 700, 900, 1200, 1600]
            let containers = f.root.appending("containers")
            for delay in early {
                _ = try await HostCommand.check("/bin/sh", ["-c", """
                    \(EngineFixture.intermodal) run --rm --root \(f.root) busybox sleep 2 >/dev/null 2>&1 & p=$!
                    sleep \(Double(delay) / 1000); kill -9 $p; wait $p 2>/dev/null; true
                    """])
            }
            // Each run also finishes or undoes what the runs killed before it left (in its own
            // creation, before its record): what had runtime state by then is noted per kill. A
            // kill comes `delay` after the run's record (its directory, under the name's ID) appeared.
            var seen = Set<String>(), hadRuntimeState = Set<String>()
            for (i, delay) in afterRecord.enumerated() {
                _ = try await HostCommand.check("/bin/sh", ["-c", """
                    \(EngineFixture.intermodal) run --rm --name killed-\(i) --root \(f.root) busybox sleep 2 >/dev/null 2>&1 & p=$!
                    i=0; while [ $i -lt 10000 ]; do
                        id=$(cat \(containers)/.names/killed-\(i) 2>/dev/null); [ -n "$id" ] && [ -d \(containers)/$id ] && break
                        sleep 0.001; i=$((i+1))
                    done
                    sleep \(Double(delay) / 1000); kill -9 $p; wait $p 2>/dev/null; true
                    """])
                seen.formUnion(((try? FileSystem.list(containers)) ?? []).filter { !$0.hasPrefix(".") })
                hadRuntimeState.formUnion((try? FileSystem.list(f.engine.runtime.stateRoot)) ?? [])
            }
            // One kill once the runtime's state is there, whatever the host's load: the schedule
            // above is in wall time, and on a loaded host a debug build's create can come after it.
            _ = try await HostCommand.check("/bin/sh", ["-c", """
                \(EngineFixture.intermodal) run --rm --name killed-late --root \(f.root) busybox sleep 2 >/dev/null 2>&1 & p=$!
                i=0; while [ $i -lt 60000 ] && [ -z "$(ls \(f.engine.runtime.stateRoot) 2>/dev/null)" ]; do sleep 0.001; i=$((i+1)); done
                kill -9 $p; wait $p 2>/dev/null; true
                """])
            seen.formUnion(((try? FileSystem.list(containers)) ?? []).filter { !$0.hasPrefix(".") })
            hadRuntimeState.formUnion((try? FileSystem.list(f.engine.runtime.stateRoot)) ?? [])
            let delays = early + afterRecord + [-1]
            let left = Array(seen)
            print("\(delays.count) killed runs made \(seen.count) containers; \(hadRuntimeState.count) had runtime state when killed")
            #expect(seen.count >= afterRecord.count, "\(seen.count) containers made by \(delays.count) killed runs")
            #expect(!hadRuntimeState.isEmpty, "some kills came after the runtime had written its state")
            // Nobody has looked yet (no ps, no rm): the next `run` finishes or undoes what the killed
            // ones left. No init stays blocked on its exec fifo, no cgroup, no runtime state.
            let next = try await f.cli(["run", "--rm", "busybox", "true"])
            #expect(next.exitCode == 0, "the next run: \(next.standardError)")
            #expect(Self.processes(mentioning: f.root.string).isEmpty, "processes left after the next run: \(Self.processes(mentioning: f.root.string))")
            #expect(Self.cgroups(of: left).isEmpty, "cgroups left after the next run: \(Self.cgroups(of: left))")
            let statesAfterRun = (try? FileSystem.list(f.engine.runtime.stateRoot)) ?? []
            #expect(statesAfterRun.isEmpty, "runtime state directories left after the next run: \(statesAfterRun)")
            let ps = try await f.cli(["ps", "-a"])
            #expect(ps.exitCode == 0, "\(ps.standardError)")
            #expect(!ps.standardOutput.contains("(255)") && !ps.standardOutput.contains(" Up "), "ps -a after the next run:\n\(ps.standardOutput)")
            let listed = try await f.engine.list(all: true, includeBuildSteps: true)
            let interrupted = listed.filter { Engine.statusText($0) == "Created (interrupted)" }.count
            let running = listed.filter { $0.status == .running }.count
            print("after the next run \(listed.count) containers: \(interrupted) interrupted while created, \(running) running")
            #expect(running == 0, "no container of a dead owner is left running")
            for record in listed {
                let status = Engine.statusText(record)
                #expect(!status.contains("(255)"), "no made-up exit status: \(status)")
                #expect(record.exitCode != 255)
                #expect(status == "Created (interrupted)" || (record.status == .exited && record.exitCode == nil),
                        "a killed run's container is either interrupted while created or exited with its status unknown: \(status)")
            }
            let ids = ((try? FileSystem.list(f.root.appending("containers"))) ?? []).filter { !$0.hasPrefix(".") }
            let psA = try await f.cli(["ps", "-aq", "--no-trunc"])
            #expect(Set(psA.standardOutput.split(separator: "\n").map(String.init)) == Set(ids), "ps -a lists every container there is")
            if !ids.isEmpty {
                let rm = try await f.cli(["rm", "-f"] + ids)
                #expect(rm.exitCode == 0, "\(rm.standardError)")
            }
            // Whatever each killed run had made is gone: records, runtime state, cgroups, processes.
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await f.engine.list(all: true, includeBuildSteps: true).isEmpty)
            let states = try f.engine.runtime.list().map(\.id)
            #expect(states.isEmpty, "runtime states left: \(states)")
            let stateDirs = (try? FileSystem.list(f.engine.runtime.stateRoot)) ?? []
            #expect(stateDirs.isEmpty, "runtime state directories left: \(stateDirs)")
            #expect(Self.cgroups(of: left).isEmpty, "cgroups left: \(Self.cgroups(of: left))")
            #expect(Self.processes(mentioning: f.root.string).isEmpty, "processes left: \(Self.processes(mentioning: f.root.string))")
            // And the store passes `system check`: every blob, record and reference.
            let check = try await HostCommand.run(EngineFixture.intermodal.string, ["system", "check", "--root", f.root.string])
            #expect(check.exitCode == 0, "system check after the killed runs:\n\(check.standardOutput)\(check.standardError)")
        }
    }

    /// The narrowest window of a killed create, made on purpose: the runtime had reserved the
    /// container and made its cgroups but not yet written the state that names them (the kill -9
    /// test above hit it under load and left nine cgroups). Its note of the path it was making
    /// lets `delete --force` (what `rm` and the next `run` use) remove them; `system check` names it.
    @Test("a create killed after making its cgroups, before its first state: system check names it, --repair removes the cgroups")
    func killedBetweenCgroupsAndState() async throws {
        try await EngineFixture.with { f in
            let id = (0..<4).map { _ in
                let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
                return String(repeating: "0", count: 16 - hex.count) + hex
            }.joined()
            let dir = f.engine.runtime.stateRoot.appending(id)
            try FileSystem.createDirectory(dir)
            #expect(mkfifo(dir.appending("exec.fifo").string, 0o622) == 0)
            try FileSystem.writeAtomically("/intermodal-\(id.prefix(12))", to: dir.appending("cgroup.intent"))
            let hierarchies = ((try? FileSystem.list("/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/\($0)" }
                .filter { FileSystem.isDirectory(FilePath($0)) && FileSystem.exists(FilePath($0).appending("cgroup.procs")) }
            let made = (hierarchies.isEmpty ? ["/sys/fs/cgroup"] : hierarchies).map { "\($0)/intermodal-\(id.prefix(12))" }
            for path in made { mkdir(path, 0o755) }
            defer { for path in made { rmdir(path) } }
            #expect(!Self.cgroups(of: [id]).isEmpty, "the test made the cgroups")
            // system check names it (a leftover: the check passes); --repair deletes it and its
            // cgroups through delete --force, what rm -f and the next run use for a known container.
            func check(_ extra: String...) async throws -> CommandResult {
                try await HostCommand.run(EngineFixture.intermodal.string, ["system", "check", "--root", f.root.string] + extra)
            }
            let found = try await check()
            #expect(found.exitCode == 0 && found.standardOutput.contains(id), "\(found.standardOutput)\(found.standardError)")
            let repaired = try await check("--repair")
            #expect(repaired.exitCode == 0 && repaired.standardOutput.contains(id), "\(repaired.standardOutput)\(repaired.standardError)")
            #expect(Self.cgroups(of: [id]).isEmpty, "cgroups left: \(Self.cgroups(of: [id]))")
            #expect(!FileSystem.exists(dir))
        }
    }

    @Test("a run killed after its container started: the exit status is not made up")
    func ownerKilledAfterStart() async throws {
        try await EngineFixture.with { f in
            let pid = try await HostCommand.check("/bin/sh", ["-c", """
                \(EngineFixture.intermodal) run --name orphan --root \(f.root) busybox sh -c 'sleep 5; exit 0' >/dev/null 2>&1 & echo $!
                """]).trimmed
            // Killed once the container runs; it outlives its owner, then exits 0 by itself. (It
            // runs 5 s: on a loaded host the poll below missed a 1.5 s container's whole run.)
            var record = try? await f.engine.container("orphan")
            for _ in 0..<3000 where record?.status != .running {
                try await Task.sleep(for: .milliseconds(20))
                record = try? await f.engine.container("orphan")
            }
            #expect(record?.status == .running)
            kill(Int32(pid)!, SIGKILL)
            for _ in 0..<300 where record?.status != .exited {
                try await Task.sleep(for: .milliseconds(100))
                record = try? await f.engine.container("orphan")
            }
            guard let record else { Issue.record("the container vanished"); return }
            #expect(record.status == .exited)
            #expect(record.exitCode == nil, "nobody could collect the exit status: none is invented (got \(String(describing: record.exitCode)))")
            #expect(record.error?.contains("exit status") == true, "\(String(describing: record.error))")
            try await f.engine.remove("orphan", force: true)
            #expect(try f.engine.runtime.list().isEmpty)
        }
    }

    @Test("each store has its own runtime state root")
    func runtimeStateRootPerStore() async throws {
        let a = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-store-a")
        let b = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-store-b")
        defer { try? FileSystem.removeTree(a); try? FileSystem.removeTree(b) }
        let ea = try Engine(root: a), eb = try Engine(root: b)
        #expect(ea.runtime.stateRoot != eb.runtime.stateRoot)
        #expect(ea.runtime.stateRoot != IntermodalPaths.runtimeStateRoot)
        #expect(try Engine(root: a).runtime.stateRoot == ea.runtime.stateRoot, "the same store finds its state again")
    }

    @Test("--cpus outside what the kernel can apply is refused, naming the range")
    func cpusAreValidated() async throws {
        try await EngineFixture.with { f in
            for cpus in [1e-9, 0.001, Double.infinity, Double.nan, 1e6] {
                let error = await #expect(throws: IntermodalError.self) {
                    _ = try await f.engine.run(image: "busybox", options: RunOptions(command: ["true"], cpus: cpus, autoRemove: true), output: .log)
                }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.contains("--cpus") == true && error?.message.contains("0.01") == true, "\(String(describing: error))")
            }
            #expect(try await f.engine.list(all: true).isEmpty, "nothing was created for a refused limit")
            let ok = try await f.engine.run(image: "busybox", options: RunOptions(command: ["true"], cpus: 0.5, autoRemove: true), output: .log)
            #expect(ok.status.code == 0)
            let cli = try await f.cli(["run", "--rm", "--cpus=inf", "busybox", "true"])
            #expect(cli.exitCode == 125 && cli.standardError.contains("--cpus"), "\(cli.standardError)")
        }
    }

    @Test("a container whose record is unreadable is listed and removable")
    func damagedRecord() async throws {
        try await EngineFixture.with { f in
            let made = try await f.engine.create(image: "busybox", options: RunOptions(command: ["true"]))
            let dir = f.engine.directory(of: made)
            try FileSystem.writeAtomically(#"{"id": "#, to: dir.record)
            let listed = try await f.engine.list(all: true)
            #expect(listed.map(\.id) == [made.id], "ps -a still shows it")
            #expect(listed.first.map { Engine.statusText($0) } == "Unreadable record")
            try await f.engine.remove(made.shortID, force: true)
            #expect(!FileSystem.exists(dir.path))
            #expect(try await f.engine.list(all: true).isEmpty)
        }
    }

    @Test("a container whose runtime state.json is truncated is still found and removed with its process and cgroups")
    func truncatedRuntimeState() async throws {
        try await EngineFixture.with { f in
            let run = try await f.cli(["run", "-d", "busybox", "sleep", "30"])
            let id = run.standardOutput.trimmed
            #expect(run.exitCode == 0 && !id.isEmpty, "\(run.standardError)")
            let state = f.engine.runtime.stateRoot.appending(id).appending("state.json")
            let bytes = try FileSystem.readBytes(state)
            try FileSystem.writeAtomically(Array(bytes.prefix(bytes.count * 2 / 3)), to: state)
            #expect(try f.engine.runtime.unreadable().map(\.id) == [id], "not hidden")
            #expect(await f.engine.check().contains { $0.severity == .damage && $0.problem.contains(id) })
            let pid = try #require(try await f.engine.container(id).pid)
            let rm = try await f.cli(["rm", "-f", id])
            #expect(rm.exitCode == 0, "\(rm.standardError)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(!Engine.isProcessAlive(pid) || ProcessStat.read(pid)?.state == "Z",
                    "the container's process was killed")
            #expect(Self.cgroups(of: [id]).isEmpty, "cgroups left: \(Self.cgroups(of: [id]))")
            #expect(!FileSystem.exists(f.engine.runtime.stateRoot.appending(id)))
        }
    }

    @Test("a container whose runtime state.json names a pid out of range is removed with its process and cgroups")
    func tamperedRuntimeStatePid() async throws {
        try await EngineFixture.with { f in
            let run = try await f.cli(["run", "-d", "busybox", "sleep", "30"])
            let id = run.standardOutput.trimmed
            #expect(run.exitCode == 0 && !id.isEmpty, "\(run.standardError)")
            let pid = try #require(try await f.engine.container(id).pid)
            let state = f.engine.runtime.stateRoot.appending(id).appending("state.json")
            let text = try FileSystem.readString(state)
            let tampered = text.replacingOccurrences(of: "\"pid\":\(pid),", with: "\"pid\":99999999999,")
            #expect(tampered != text, "the state names the pid as \"pid\":\(pid)")
            try FileSystem.writeAtomically(tampered, to: state)
            let rm = try await f.cli(["rm", "-f", id])
            #expect(rm.exitCode == 0, "\(rm.standardError)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(!Engine.isProcessAlive(pid) || ProcessStat.read(pid)?.state == "Z",
                    "the container's process was killed")
            #expect(Self.cgroups(of: [id]).isEmpty, "cgroups left: \(Self.cgroups(of: [id]))")
            #expect(!FileSystem.exists(f.engine.runtime.stateRoot.appending(id)))
        }
    }

    @Test("a RUN line too long for execve says why it failed")
    func tooLongRunLine() async throws {
        try await EngineFixture.with { f in
            let context = f.root.appending("context")
            try FileSystem.createDirectory(context)
            // One argument of 200 KiB: above the kernel's 128 KiB for a single string.
            try FileSystem.writeAtomically(
                "FROM busybox\nRUN echo \(String(repeating: "x", count: 200 << 10))\n", to: context.appending("Dockerfile"))
            let r = try await f.cli(["build", "-t", "long:1", context.string])
            #expect(r.exitCode != 0)
            #expect((r.standardOutput + r.standardError).contains("Argument list too long"), "\(r.standardError.suffix(400))")
        }
    }

    @Test("system check passes after all this, and names what it found")
    func systemCheck() async throws {
        try await EngineFixture.with { f in
            let findings = await f.engine.check()
            #expect(findings.filter { $0.severity == .damage }.isEmpty, "\(findings)")
            func check(_ extra: String...) async throws -> CommandResult {
                try await HostCommand.run(EngineFixture.intermodal.string, ["system", "check", "--root", f.root.string] + extra)
            }
            let clean = try await check()
            #expect(clean.exitCode == 0 && clean.standardOutput.contains("OK"), "\(clean.standardOutput)\(clean.standardError)")
            // Damage: an index.json deleted. The check says so, --repair rebuilds it without losing the image.
            let image = try f.engine.store.resolve("busybox")
            unlink(f.root.appending("images/index.json").string)
            let damaged = try await check()
            #expect(damaged.exitCode == 1)
            #expect(damaged.standardOutput.contains("index.json is missing") && damaged.standardOutput.contains("--repair"), "\(damaged.standardOutput)")
            let repaired = try await check("--repair")
            #expect(repaired.exitCode == 0, "\(repaired.standardOutput)\(repaired.standardError)")
            #expect(repaired.standardOutput.contains(image.manifestDigest), "the repair names the image it kept")
            #expect(try f.engine.store.resolve(image.manifestDigest).configDigest == image.configDigest)
        }
    }
}
