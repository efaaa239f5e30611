#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing
@testable import ContainerRuntime

/// Real cgroup v1 hierarchies on this host (hybrid or v1): limits written and read back, a real
/// process moved in, stats, kill and removal.
@Suite("Cgroup v1 on this host", .enabled(if: CgroupTestSupport.hostHasV1))
struct CgroupV1Tests {
    @Test func limitsAreWrittenAProcessIsAccountedAndEverythingIsRemoved() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let resources = CgroupResources(
            memoryLimit: 64 << 20, memoryReservation: 32 << 20, memorySwap: 96 << 20,
            cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, cpus: "0", mems: "0", pidsLimit: 20,
            devices: CgroupDeviceRule.defaultRules)
        let cgroup = try manager.create(path: "/\(name)/inner", resources: resources)
        defer { try? cgroup.destroy() }
        #expect(cgroup.createdPaths.count == 2 * cgroup.paths.count)

        func dir(_ c: String) throws -> FilePath {
            FilePath(try #require(cgroup.directories.first { !$0.unified && $0.controllers.contains(c) }).path)
        }
        let memory = try dir("memory")
        #expect(memory == FilePath("/sys/fs/cgroup/memory/\(name)/inner"))
        #expect(CgroupTestSupport.read(memory.appending("memory.limit_in_bytes")) == "\(64 << 20)")
        #expect(CgroupTestSupport.read(memory.appending("memory.soft_limit_in_bytes")) == "\(32 << 20)")
        if FileSystem.exists(memory.appending("memory.memsw.limit_in_bytes")) {
            #expect(CgroupTestSupport.read(memory.appending("memory.memsw.limit_in_bytes")) == "\(96 << 20)")
        }
        let cpu = try dir("cpu")
        #expect(CgroupTestSupport.read(cpu.appending("cpu.shares")) == "512")
        #expect(CgroupTestSupport.read(cpu.appending("cpu.cfs_quota_us")) == "50000")
        #expect(CgroupTestSupport.read(cpu.appending("cpu.cfs_period_us")) == "100000")
        let cpuset = try dir("cpuset")
        #expect(CgroupTestSupport.read(cpuset.appending("cpuset.cpus")) == "0")
        #expect(CgroupTestSupport.read(cpuset.appending("cpuset.mems")) == "0")
        // The intermediate level got the parent's cpus copied down (else nothing could run there).
        #expect(CgroupTestSupport.read(cpuset.removingLastComponent().appending("cpuset.cpus"))
            == CgroupTestSupport.read("/sys/fs/cgroup/cpuset/cpuset.cpus"))
        #expect(CgroupTestSupport.read(try dir("pids").appending("pids.max")) == "20")
        let devices = CgroupTestSupport.read(try dir("devices").appending("devices.list"))
        #expect(devices.contains("c 1:3 rwm") && devices.contains("c 136:* rwm") && !devices.contains("a *:*"))

        // A real process, moved in, is listed and accounted: it waits (on its stdin) to be moved,
        // then allocates a 4 MiB buffer (dd bs=4M) that must be charged to this cgroup.
        var go: [Int32] = [0, 0]
        try #require(pipe(&go) == 0)
        let pid = try CgroupTestSupport.spawn([
            "/bin/sh", "-c", "read go; dd if=/dev/zero of=/dev/null bs=4M count=4 2>/dev/null; exec sleep 600",
        ], stdin: go[0])
        close(go[0])
        var reaped = false
        defer { if !reaped { kill(pid, SIGKILL); CgroupTestSupport.reap(pid) } }
        try cgroup.add(pid: pid)
        _ = write(go[1], "go\n", 3)
        close(go[1])
        #expect(try cgroup.processes().contains(pid))
        #expect(CgroupTestSupport.read(memory.appending("tasks")).split(separator: "\n").contains("\(pid)"))
        var stats = try cgroup.stats()
        // Until dd has run and the shell has become `sleep` again.
        for _ in 0..<1000 where (stats.memoryMaxUsage ?? 0) < 4 << 20 || stats.pidsCurrent != 1 {
            usleep(10_000)
            stats = try cgroup.stats()
        }
        #expect((stats.memoryMaxUsage ?? 0) >= 4 << 20)
        #expect(stats.memoryUsage != nil)
        #expect(stats.pidsCurrent == 1)
        #expect(stats.cpuUsageNanoseconds != nil)
        #expect(stats.oomKills == 0)

        // destroy kills what is left and removes both levels in every hierarchy.
        try cgroup.destroy()
        #expect(CgroupTestSupport.reap(pid) == SIGKILL)
        reaped = true
        for path in cgroup.createdPaths { #expect(!FileSystem.exists(path), "\(path) left behind") }
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
        // A second destroy (delete after a failed delete) is harmless.
        try cgroup.destroy()
    }

    @Test func killAllSignalsEveryProcessAndReopenFindsTheCgroup() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let cgroup = try manager.create(path: "/\(name)", resources: CgroupResources(pidsLimit: 10))
        defer { try? cgroup.destroy() }
        let pids = [try CgroupTestSupport.spawnSleep(), try CgroupTestSupport.spawnSleep()]
        var reaped = false
        defer { if !reaped { for p in pids { kill(p, SIGKILL); CgroupTestSupport.reap(p) } } }
        for p in pids { try cgroup.add(pid: p) }

        // Another process would only have the recorded paths.
        let reopened = Cgroup.reopen(paths: cgroup.paths, created: cgroup.createdPaths)
        #expect(reopened.paths == cgroup.paths)
        #expect(try reopened.processes() == pids.sorted())
        #expect(reopened.directories.first { $0.path.hasPrefix("/sys/fs/cgroup/pids/") }?.controllers == ["pids"])
        #expect(try reopened.stats().pidsCurrent == 2)

        try reopened.killAll(signal: SIGTERM)
        for p in pids { #expect(CgroupTestSupport.reap(p) == SIGTERM) }
        reaped = true
        try reopened.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    /// `delete`'s path: removal from the recorded paths alone. An empty cgroup goes with one rmdir
    /// per directory; one that still holds a process (rmdir says EBUSY) is killed, then removed.
    @Test func removeFromRecordedPathsKillsWhatIsLeftAndRemovesEverything() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let busy = try manager.create(path: "/\(name)/busy", resources: CgroupResources())
        defer { try? busy.destroy() }
        let pid = try CgroupTestSupport.spawnSleep()
        var reaped = false
        defer { if !reaped { kill(pid, SIGKILL); CgroupTestSupport.reap(pid) } }
        try busy.add(pid: pid)

        try Cgroup.remove(paths: busy.paths, created: busy.createdPaths)
        #expect(CgroupTestSupport.reap(pid) == SIGKILL)
        reaped = true
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)

        let empty = try manager.create(path: "/\(name)", resources: CgroupResources())
        defer { try? empty.destroy() }
        try Cgroup.remove(paths: empty.paths, created: empty.createdPaths)
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
        // Removing what is already gone is fine (a delete after a failed delete).
        try Cgroup.remove(paths: empty.paths, created: empty.createdPaths)
    }

    @Test func reopenWithoutCreatedListRemovesOnlyTheLeaves() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let cgroup = try manager.create(path: "/\(name)/leaf", resources: CgroupResources())
        defer { try? cgroup.destroy() }
        try Cgroup.reopen(paths: cgroup.paths).destroy()
        for p in cgroup.paths {
            #expect(!FileSystem.exists(p))
            #expect(FileSystem.exists(p.removingLastComponent()), "the parent was not the leaf's to remove")
        }
        try cgroup.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func aRefusedValueNamesFileAndValueAndRollsBack() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        // A quota below the kernel's 1 ms minimum is EINVAL.
        do {
            let c = try manager.create(path: "/\(name)", resources: CgroupResources(cpuQuota: 10))
            try? c.destroy()
            Issue.record("a 10 µs quota was accepted")
        } catch {
            #expect(error.code == .systemError)
            #expect("\(error)" == "write 10 to /sys/fs/cgroup/cpu/\(name)/cpu.cfs_quota_us: Invalid argument")
        }
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)

        do {
            let c = try manager.create(path: "/\(name)", resources: CgroupResources(cpus: "0-63"))
            try? c.destroy()
            Issue.record("cpus 0-63 accepted on this host")
        } catch {
            #expect("\(error)".hasPrefix("write 0-63 to /sys/fs/cgroup/cpuset/\(name)/cpuset.cpus: "))
        }
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)

        #expect {
            let c = try manager.create(path: "/\(name)", resources: CgroupResources(unified: ["memory.high": "1M"]))
            try? c.destroy()
        } throws: { error in
            (error as! IntermodalError).message.contains("memory.high")
        }
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)

        #expect(throws: IntermodalError.self) {
            let c = try manager.create(path: "/\(name)", resources: CgroupResources(memoryLimit: 64 << 20, memorySwap: 32 << 20))
            try? c.destroy()
        }
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func lessCommonSettings() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        // A real block device of this host for the throttles.
        let vda = CgroupTestSupport.read("/sys/block/vda/dev")
        let parts = vda.split(separator: ":").compactMap { Int64($0) }
        try #require(parts.count == 2, "no /sys/block/vda here")
        var r = CgroupResources(memoryLimit: 32 << 20)
        r.memorySwappiness = 10
        r.cpuBurst = 1000
        r.cpuIdle = 1
        r.blkioThrottleReadBps = [BlockIODeviceRate(major: parts[0], minor: parts[1], rate: 1 << 20)]
        r.blkioThrottleWriteIOPS = [BlockIODeviceRate(major: parts[0], minor: parts[1], rate: 100)]
        let cgroup = try manager.create(path: "/\(name)", resources: r)
        defer { try? cgroup.destroy() }
        let memory = FilePath("/sys/fs/cgroup/memory/\(name)")
        let cpu = FilePath("/sys/fs/cgroup/cpu/\(name)")
        let blkio = FilePath("/sys/fs/cgroup/blkio/\(name)")
        #expect(CgroupTestSupport.read(memory.appending("memory.swappiness")) == "10")
        #expect(CgroupTestSupport.read(cpu.appending("cpu.cfs_burst_us")) == "1000")
        #expect(CgroupTestSupport.read(cpu.appending("cpu.idle")) == "1")
        #expect(CgroupTestSupport.read(blkio.appending("blkio.throttle.read_bps_device")) == "\(vda) \(1 << 20)")
        #expect(CgroupTestSupport.read(blkio.appending("blkio.throttle.write_iops_device")) == "\(vda) 100")
        try cgroup.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func hugepageLimitsGoWhereHugetlbLives() throws {
        let manager = try CgroupManager.detect()
        try #require(manager.availableControllers.contains("hugetlb"), "no hugetlb controller on this host")
        let name = CgroupTestSupport.uniqueName()
        let cgroup = try manager.create(path: "/\(name)", resources: CgroupResources(
            hugepageLimits: [HugepageLimit(pageSize: "2MB", limit: 4 << 20), HugepageLimit(pageSize: "1GB", limit: 0)]))
        defer { try? cgroup.destroy() }
        if manager.mode == .hybrid && !manager.v1Hierarchies.contains(where: { $0.controllers.contains("hugetlb") }) {
            // This host: hugetlb is only in the unified hierarchy.
            let dir = FilePath(try #require(manager.unifiedMount)).appending(name)
            #expect(CgroupTestSupport.read(dir.appending("hugetlb.2MB.max")) == "\(4 << 20)")
            #expect(CgroupTestSupport.read(dir.appending("hugetlb.1GB.max")) == "0")
        } else {
            let dir = FilePath("/sys/fs/cgroup/hugetlb").appending(name)
            #expect(CgroupTestSupport.read(dir.appending("hugetlb.2MB.limit_in_bytes")) == "\(4 << 20)")
        }
        try cgroup.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func blkioWeightGoesToBfqOrFailsSayingWhy() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let dir = FilePath("/sys/fs/cgroup/blkio").appending(name)
        do {
            let c = try manager.create(path: "/\(name)", resources: CgroupResources(blkioWeight: 300))
            defer { try? c.destroy() }
            // BFQ is available here (the weight file exists only in non-root cgroups).
            let file = FileSystem.exists(dir.appending("blkio.bfq.weight")) ? "blkio.bfq.weight" : "blkio.weight"
            #expect(CgroupTestSupport.read(dir.appending(file)).hasSuffix("300"))
        } catch {
            // Without BFQ or CFQ the error must say why, not just "No such file".
            #expect(error.code == .unsupported)
            #expect(error.message.contains("blkio.bfq.weight") && error.message.contains("BFQ"), "\(error)")
        }
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func applyChangesLimitsOfALiveCgroup() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let cgroup = try manager.create(path: "/\(name)", resources: CgroupResources(memoryLimit: 64 << 20, pidsLimit: 10))
        defer { try? cgroup.destroy() }
        let memory = FilePath("/sys/fs/cgroup/memory/\(name)")
        // Like `runc update`: drop the pids cap, then raise memory and memory+swap together (the
        // memory+swap limit must go first then), then lower both (memory first).
        try manager.apply(CgroupResources(pidsLimit: 0), to: cgroup)
        #expect(CgroupTestSupport.read(FilePath("/sys/fs/cgroup/pids/\(name)/pids.max")) == "max")
        if FileSystem.exists(memory.appending("memory.memsw.limit_in_bytes")) {
            try manager.apply(CgroupResources(memoryLimit: 64 << 20, memorySwap: 64 << 20), to: cgroup)
            try manager.apply(CgroupResources(memoryLimit: 128 << 20, memorySwap: 128 << 20), to: cgroup)
            #expect(CgroupTestSupport.read(memory.appending("memory.limit_in_bytes")) == "\(128 << 20)")
            #expect(CgroupTestSupport.read(memory.appending("memory.memsw.limit_in_bytes")) == "\(128 << 20)")
            try manager.apply(CgroupResources(memoryLimit: 32 << 20, memorySwap: 48 << 20), to: cgroup)
            #expect(CgroupTestSupport.read(memory.appending("memory.limit_in_bytes")) == "\(32 << 20)")
            #expect(CgroupTestSupport.read(memory.appending("memory.memsw.limit_in_bytes")) == "\(48 << 20)")
        } else {
            try manager.apply(CgroupResources(memoryLimit: 128 << 20), to: cgroup)
            #expect(CgroupTestSupport.read(memory.appending("memory.limit_in_bytes")) == "\(128 << 20)")
        }
        try cgroup.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func statsCountCpuAndDirectBlockIO() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let cgroup = try manager.create(path: "/\(name)", resources: CgroupResources())
        defer { try? cgroup.destroy() }
        // A file on disk (not tmpfs), written and read back around the page cache.
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-io", in: "/var/tmp")
        defer { try? FileSystem.removeTree(dir) }
        let file = dir.appending("data").string
        // Once moved in: 8 MiB direct I/O each way, then some CPU in user mode.
        var go: [Int32] = [0, 0]
        try #require(pipe(&go) == 0)
        let script = """
            read go
            dd if=/dev/zero of=\(file) bs=1M count=8 oflag=direct 2>/dev/null
            dd if=\(file) of=/dev/null bs=1M iflag=direct 2>/dev/null
            i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
            """
        let pid = try CgroupTestSupport.spawn(["/bin/sh", "-c", script], stdin: go[0])
        close(go[0])
        var reaped = false
        defer { if !reaped { kill(pid, SIGKILL); CgroupTestSupport.reap(pid) } }
        try cgroup.add(pid: pid)
        _ = write(go[1], "go\n", 3)
        close(go[1])
        #expect(CgroupTestSupport.reap(pid) == nil)
        reaped = true
        let s = try cgroup.stats()
        #expect((s.ioReadBytes ?? 0) >= 8 << 20, "\(s)")
        #expect((s.ioWriteBytes ?? 0) >= 8 << 20, "\(s)")
        #expect((s.cpuUserNanoseconds ?? 0) > 0, "\(s)")
        #expect(s.cpuSystemNanoseconds != nil)
        #expect((s.cpuUsageNanoseconds ?? 0) >= (s.cpuUserNanoseconds ?? 0) / 2)
        try cgroup.destroy()
    }

    @Test func aSharedParentStaysWhileAnotherCgroupUsesIt() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let a = try manager.create(path: "/\(name)/a", resources: CgroupResources())
        defer { try? a.destroy() }
        let b = try manager.create(path: "/\(name)/b", resources: CgroupResources())
        defer { try? b.destroy() }
        #expect(a.createdPaths.count == 2 * a.paths.count)   // a made the parent in each hierarchy
        #expect(b.createdPaths.count == b.paths.count)       // b only its leaves
        let start = MonotonicInstant.now
        try a.destroy()                                       // parent busy with b: kept, no error, no wait
        // The wait it must not do is 5 s a directory: 4 s leaves a loaded host room.
        #expect(MonotonicInstant.now.duration(since: start) < .seconds(4))
        for p in b.paths { #expect(FileSystem.exists(p)) }
        try b.destroy()
        // The parent made by `a` is now empty; `a` removes it when asked again (its delete retried).
        try a.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }

    @Test func existingLevelsAreNeverRemoved() throws {
        let manager = try CgroupManager.detect()
        let name = CgroupTestSupport.uniqueName()
        let outer = try manager.create(path: "/\(name)", resources: CgroupResources())
        defer { try? outer.destroy() }
        let inner = try manager.create(path: "/\(name)/inner", resources: CgroupResources(memoryLimit: 32 << 20))
        #expect(inner.createdPaths.allSatisfy { $0.lastComponent?.string == "inner" })
        try inner.destroy()
        for p in outer.paths { #expect(FileSystem.exists(p)) }
        try outer.destroy()
        #expect(CgroupTestSupport.leftovers(named: name).isEmpty)
    }
}
