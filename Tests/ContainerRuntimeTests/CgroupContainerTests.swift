#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// Resource limits seen from real busybox containers started by our runtime.
// A bound for a hang, not a speed target: alone these take seconds, in a cold suite on 2 cores
// they waited 90-124 s for their turn (a run with a CPU hog beside it), past the 2 minutes they had.
@Suite("real containers: cgroup limits", .timeLimit(.minutes(10)))
struct CgroupContainerTests {
    /// create, start, wait; then the cgroup's stats (before delete removes it) and the output.
    static func runKeepingStats(_ b: TestBundle, id: String) async throws -> (IntermodalCore.ExitStatus, CgroupStats, [FilePath], String) {
        var status = IntermodalCore.ExitStatus(code: -1)
        var stats = CgroupStats()
        var dirs: [FilePath] = []
        let out = try await TestBundle.capture { io in
            let c = try await b.runtime.create(id: id, bundle: b.bundle, io: io)
            try await b.runtime.start(id: id)
            status = try await c.wait()
            dirs = try b.runtime.cgroupDirectories(id: id)
            stats = try Cgroup.reopen(paths: dirs).stats()
        }
        try await b.runtime.delete(id: id, force: true)
        return (status, stats, dirs, out)
    }

    @Test("a memory limit OOM-kills the process (SIGKILL, counted by the cgroup)")
    func memoryLimitOOMKills() async throws {
        // dd touches a 128 MiB buffer; the limit is 32 MiB of memory and no swap.
        let b = try await TestBundle.make(["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"]) { spec in
            var memory = Spec.Memory(limit: 32 << 20)
            memory.swap = 32 << 20
            spec.linux?.resources?.memory = memory
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let (status, stats, dirs, out) = try await Self.runKeepingStats(b, id: id)
        #expect(status.signal == SIGKILL, "status \(status), output: \(out)")
        #expect(status.code == 128 + SIGKILL)
        #expect((stats.oomKills ?? 0) >= 1, "\(stats)")
        #expect((stats.memoryMaxUsage ?? 0) <= 32 << 20)
        #expect((stats.memoryMaxUsage ?? 0) > 16 << 20, "\(stats)")
        for d in dirs { #expect(!FileSystem.exists(d), "\(d) left after delete") }
    }

    @Test("the same program runs to completion without the limit")
    func withoutTheLimitDdSucceeds() async throws {
        let b = try await TestBundle.make(["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"])
        defer { b.cleanup() }
        let (status, stats, _, out) = try await Self.runKeepingStats(b, id: TestBundle.uniqueID)
        #expect(status == IntermodalCore.ExitStatus(code: 0), "\(out)")
        #expect(stats.oomKills == 0 || stats.oomKills == nil)
    }

    @Test("a pids limit stops a fork bomb")
    func pidsLimitStopsForkBomb() async throws {
        let script = "i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); echo n=$i; done; echo escaped"
        let b = try await TestBundle.make(["sh", "-c", script]) { spec in
            spec.linux?.resources?.pids = Spec.Pids(limit: 8)
        }
        defer { b.cleanup() }
        let (status, stats, _, out) = try await Self.runKeepingStats(b, id: TestBundle.uniqueID)
        // ash gives up at the first failed fork: exit status 2, "can't fork".
        #expect(status.code == 2, "\(status): \(out)")
        #expect(out.contains("can't fork: Resource temporarily unavailable"), "\(out)")
        #expect(!out.contains("escaped"))
        // The shell is one of the 8 tasks; at most 7 sleeps were started.
        let started = out.split(separator: "\n").filter { $0.hasPrefix("n=") }.count
        #expect(started == 7, "\(out)")
        // When init exits the kernel kills the rest of the pid namespace.
        #expect((stats.pidsCurrent ?? 99) == 0, "\(stats)")
    }

    @Test("a cpu quota caps the CPU time a busy loop gets")
    func cpuQuotaIsEnforced() async throws {
        // 20 ms per 100 ms: two seconds of spinning may use at most ~0.4 s of CPU. The loop is a
        // child of init (init itself ignores SIGTERM inside its pid namespace).
        let script = "sh -c 'while :; do :; done' & p=$!; sleep 2; kill $p; wait $p; echo done"
        let b = try await TestBundle.make(["sh", "-c", script]) { spec in
            var cpu = Spec.CPU()
            cpu.quota = 20_000
            cpu.period = 100_000
            cpu.shares = 512
            spec.linux?.resources?.cpu = cpu
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        var quotaFile = ""
        var status = IntermodalCore.ExitStatus(code: -1)
        var stats = CgroupStats()
        _ = try await TestBundle.capture { io in
            let c = try await b.runtime.create(id: id, bundle: b.bundle, io: io)
            let dirs = try b.runtime.cgroupDirectories(id: id)
            if let cpu = dirs.first(where: { $0.string.hasPrefix("/sys/fs/cgroup/cpu/") }) {
                quotaFile = (try? FileSystem.readString(cpu.appending("cpu.cfs_quota_us"))) ?? ""
            } else if let v2 = dirs.first, FileSystem.exists(v2.appending("cpu.max")) {
                quotaFile = (try? FileSystem.readString(v2.appending("cpu.max"))) ?? ""
            }
            try await b.runtime.start(id: id)
            status = try await c.wait()
            stats = try Cgroup.reopen(paths: dirs).stats()
        }
        try await b.runtime.delete(id: id, force: true)
        #expect(quotaFile.hasPrefix("20000"), "\(quotaFile)")
        #expect(status.code == 0, "\(status)")
        let used = try #require(stats.cpuUsageNanoseconds)
        #expect(used > 50_000_000, "the loop ran: \(used) ns")
        #expect(used < 650_000_000, "20% of 2 s plus slack, got \(used) ns")
    }

    @Test("device rules: mknod works, opening a device outside the allowed set does not")
    func deviceRulesAreEnforced() async throws {
        let script = """
            mknod /tmp/disk b 8 0 && echo mknod-ok
            head -c1 /tmp/disk > /dev/null && echo disk-read || echo disk-denied
            head -c1 /dev/zero > /dev/null && echo zero-read
            """
        let b = try await TestBundle.make(["sh", "-c", script]) { spec in
            spec.root?.readonly = false
            spec.mounts?.append(Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"]))
            spec.process?.capabilities?.bounding?.append("CAP_MKNOD")
            spec.process?.capabilities?.effective?.append("CAP_MKNOD")
            spec.process?.capabilities?.permitted?.append("CAP_MKNOD")
        }
        defer { b.cleanup() }
        let (status, _, _, out) = try await Self.runKeepingStats(b, id: TestBundle.uniqueID)
        #expect(status.code == 0, "\(out)")
        #expect(out.contains("mknod-ok"), "\(out)")
        #expect(out.contains("Operation not permitted"), "\(out)")
        #expect(out.contains("disk-denied"), "\(out)")
        #expect(out.contains("zero-read"), "\(out)")
    }

    @Test("the freezer stops every process of the container and thawing lets them run again")
    func freezerStopsAndThaws() async throws {
        let b = try await TestBundle.make(["sh", "-c", "sh -c 'while :; do :; done' & sleep 120"])
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        _ = try await TestBundle.capture { io in
            let c = try await b.runtime.create(id: id, bundle: b.bundle, io: io)
            try await b.runtime.start(id: id)
            let cgroup = Cgroup.reopen(paths: try b.runtime.cgroupDirectories(id: id))
            func cpu() throws -> UInt64 { try #require(try cgroup.stats().cpuUsageNanoseconds) }
            // The busy loop runs: its CPU time grows.
            let start = try cpu()
            try await Task.sleep(for: .milliseconds(500))
            #expect(try cpu() > start, "the loop never ran")
            #expect(cgroup.freeze(true), "no freezer, or it did not settle")
            let frozen = try cpu()
            try await Task.sleep(for: .milliseconds(500))
            #expect(try cpu() - frozen < 5_000_000, "frozen processes used CPU")
            #expect(cgroup.freeze(false))
            let thawed = try cpu()
            try await Task.sleep(for: .seconds(1))
            #expect(try cpu() - thawed > 10_000_000, "the loop did not run again after thawing")
            try b.runtime.kill(id: id, signal: SIGKILL, all: true)
            _ = try await c.wait()
        }
        try await b.runtime.delete(id: id, force: true)
        #expect(CgroupTestSupport.leftovers(named: "intermodal-\(id)").isEmpty)
    }

    /// A block I/O weight lands where this kernel takes one (v2 `io.weight`, converted as runc
    /// does, or BFQ's `io.bfq.weight`; v1 `blkio.bfq.weight` or `blkio.weight`), or is refused
    /// naming what is missing where it has no proportional scheduler.
    @Test("an io weight is written where the kernel takes one")
    func ioWeightLandsOrIsNamed() async throws {
        let b = try await TestBundle.make(["true"]) { spec in
            spec.linux?.resources?.blockIO = Spec.BlockIO(weight: 500)
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        var written: [String: String] = [:]
        do {
            _ = try await TestBundle.capture { io in
                let c = try await b.runtime.create(id: id, bundle: b.bundle, io: io)
                for dir in try b.runtime.cgroupDirectories(id: id) {
                    for file in ["io.weight", "io.bfq.weight", "blkio.weight", "blkio.bfq.weight"] {
                        if let text = try? FileSystem.readString(dir.appending(file)) { written[file] = text.trimmed }
                    }
                }
                try await b.runtime.start(id: id)
                _ = try await c.wait()
            }
            #expect(!written.isEmpty, "create succeeded but no weight file exists")
            if let v2 = written["io.bfq.weight"] ?? written["io.weight"] {
                // "default 500" (BFQ keeps the v1 range) or "default 4950": io.weight's 1..10000,
                // 1 + (500 - 10) * 9999 / 990, as runc converts.
                #expect(v2 == "default 500" || v2 == "default 4950", "\(written)")
            } else {
                #expect(written["blkio.bfq.weight"] == "500" || written["blkio.weight"] == "500", "\(written)")
            }
        } catch {
            #expect("\(error)".contains("proportional I/O scheduler"), "\(error)")
        }
        try? await b.runtime.delete(id: id, force: true)
        #expect(CgroupTestSupport.leftovers(named: "intermodal-\(id)").isEmpty)
    }

    @Test("a bad limit fails create with the file and value named, leaving nothing behind")
    func badLimitFailsClearly() async throws {
        let b = try await TestBundle.make(["true"]) { spec in
            var cpu = Spec.CPU()
            cpu.cpus = "0-63"
            spec.linux?.resources?.cpu = cpu
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        do {
            _ = try await b.runtime.run(id: id, bundle: b.bundle, io: .inherit)
            Issue.record("cpus 0-63 accepted")
        } catch {
            // v1: /sys/fs/cgroup/cpuset/...; pure v2: /sys/fs/cgroup/intermodal-ID/cpuset.cpus.
            #expect("\(error)".contains("write 0-63 to /sys/fs/cgroup/"), "\(error)")
            #expect("\(error)".contains("cpuset.cpus"), "\(error)")
        }
        #expect(CgroupTestSupport.leftovers(named: "intermodal-\(id)").isEmpty)
        #expect(try b.runtime.list().isEmpty)
    }
}
