#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing
@testable import ContainerRuntime

@Suite("Cgroup v2")
struct CgroupV2Tests {
    // MARK: What gets written, against a directory laid out like cgroupfs

    /// A fake cgroup2 root at `root` with the leaf `intermodal/c1` already present (so no mkdir is
    /// needed and every control file exists), and the mountinfo line that mounts it.
    static func fakeTree(_ root: FilePath, leaf: Bool = true) throws -> String {
        let all = "cpuset cpu io memory hugetlb pids"
        try FileSystem.writeAtomically(all + "\n", to: root.appending("cgroup.controllers"))
        try FileSystem.writeAtomically("", to: root.appending("cgroup.subtree_control"))
        let mid = root.appending("intermodal")
        try FileSystem.createDirectory(mid)
        try FileSystem.writeAtomically(all + "\n", to: mid.appending("cgroup.controllers"))
        try FileSystem.writeAtomically("", to: mid.appending("cgroup.subtree_control"))
        if leaf {
            let c1 = mid.appending("c1")
            try FileSystem.createDirectory(c1)
            try FileSystem.writeAtomically(all + "\n", to: c1.appending("cgroup.controllers"))
            for f in [
                "cgroup.procs", "cgroup.subtree_control", "memory.max", "memory.low", "memory.swap.max", "memory.high",
                "cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "io.max", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "hugetlb.2MB.max",
            ] {
                try FileSystem.writeAtomically("", to: c1.appending(f))
            }
        }
        return "26 25 0:24 / \(root) rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate\n"
    }

    @Test func limitsAreConvertedAndWrittenAsRuncWrites() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgv2")
        defer { try? FileSystem.removeTree(root) }
        let manager = try CgroupManager.detect(mountRoot: root, mountInfo: try Self.fakeTree(root))
        #expect(manager.mode == .v2)
        let cgroup = try manager.create(path: "/intermodal/c1", resources: CgroupResources(
            memoryLimit: 256 << 20, memoryReservation: 128 << 20, memorySwap: 512 << 20,
            cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: 200_000, cpus: "0-1", mems: "0",
            pidsLimit: 0, blkioWeight: 500, hugepageLimits: [HugepageLimit(pageSize: "2MB", limit: 4 << 20)],
            unified: ["memory.high": "200M"]))
        let c1 = root.appending("intermodal/c1")
        #expect(cgroup.paths == [c1])
        #expect(cgroup.createdPaths.isEmpty, "every level existed; none is ours to remove")
        let expected: [String: String] = [
            "memory.max": "\(256 << 20)", "memory.low": "\(128 << 20)", "memory.swap.max": "\(256 << 20)",
            "cpu.weight": "39", "cpu.max": "50000 200000", "cpuset.cpus": "0-1", "cpuset.mems": "0",
            "pids.max": "max", "io.weight": "4950", "hugetlb.2MB.max": "\(4 << 20)", "memory.high": "200M",
        ]
        for (file, value) in expected {
            #expect(CgroupTestSupport.read(c1.appending(file)) == value, "\(file)")
        }
        // Controllers were switched on for the children of each level above the leaf, not in the leaf.
        #expect(CgroupTestSupport.read(root.appending("cgroup.subtree_control")) == "+cpuset +cpu +io +memory +hugetlb +pids")
        #expect(CgroupTestSupport.read(root.appending("intermodal/cgroup.subtree_control")) == "+cpuset +cpu +io +memory +hugetlb +pids")
        #expect(CgroupTestSupport.read(c1.appending("cgroup.subtree_control")) == "")
        try cgroup.add(pid: 4242)
        #expect(CgroupTestSupport.read(c1.appending("cgroup.procs")) == "4242")
        // Empty the fake cgroup.procs again: destroy would otherwise signal that (unrelated) pid.
        try FileSystem.writeAtomically("", to: c1.appending("cgroup.procs"))
        try cgroup.destroy()    // leaves what it did not create
        #expect(FileSystem.exists(c1))
    }

    @Test func throttlesBurstAndV1OnlySettings() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgv2")
        defer { try? FileSystem.removeTree(root) }
        let manager = try CgroupManager.detect(mountRoot: root, mountInfo: try Self.fakeTree(root))
        var r = CgroupResources()
        r.cpuBurst = 5000
        r.cpuIdle = 1
        r.blkioThrottleReadBps = [BlockIODeviceRate(major: 8, minor: 0, rate: 1000)]
        r.blkioThrottleWriteIOPS = [BlockIODeviceRate(major: 8, minor: 0, rate: 10)]
        _ = try manager.create(path: "/intermodal/c1", resources: r)
        let c1 = root.appending("intermodal/c1")
        #expect(CgroupTestSupport.read(c1.appending("cpu.max.burst")) == "5000")
        #expect(CgroupTestSupport.read(c1.appending("cpu.idle")) == "1")
        #expect(CgroupTestSupport.read(c1.appending("io.max")) == "8:0 rbps=1000 wiops=10")
        for bad in [
            CgroupResources(memorySwappiness: 10), CgroupResources(disableOOMKiller: true),
            CgroupResources(cpuRealtimeRuntime: 1000),
        ] {
            #expect(throws: IntermodalError.self) { _ = try manager.create(path: "/intermodal/c1", resources: bad) }
        }
    }

    @Test func statsAreReadFromTheV2Files() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgv2")
        defer { try? FileSystem.removeTree(root) }
        let manager = try CgroupManager.detect(mountRoot: root, mountInfo: try Self.fakeTree(root))
        let cgroup = try manager.create(path: "/intermodal/c1", resources: CgroupResources())
        let c1 = root.appending("intermodal/c1")
        // The formats as the kernel writes them (Documentation/admin-guide/cgroup-v2.rst).
        let files = [
            "memory.current": "1048576\n", "memory.peak": "2097152\n",
            "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
            "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n",
            "pids.current": "3\n",
            "io.stat": "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n",
        ]
        for (name, text) in files { try FileSystem.writeAtomically(text, to: c1.appending(name)) }
        #expect(try cgroup.stats() == CgroupStats(
            memoryUsage: 1 << 20, memoryMaxUsage: 2 << 20, cpuUsageNanoseconds: 1_500_000, pidsCurrent: 3, oomKills: 1,
            cpuUserNanoseconds: 1_000_000, cpuSystemNanoseconds: 500_000, ioReadBytes: 4097, ioWriteBytes: 8194))
    }

    @Test func aMissingControllerFileIsNamedAndTheNewDirectoryRemoved() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgv2")
        defer { try? FileSystem.removeTree(root) }
        let manager = try CgroupManager.detect(mountRoot: root, mountInfo: try Self.fakeTree(root, leaf: false))
        // mkdir in a plain directory makes no control files: the write fails and names the file;
        // the leaf it made is removed again, the existing parent is not.
        do {
            let c = try manager.create(path: "/intermodal/c2", resources: CgroupResources(pidsLimit: 5))
            try? c.destroy()
            Issue.record("created without pids.max")
        } catch {
            #expect(error.message.contains("pids"))
        }
        #expect(!FileSystem.exists(root.appending("intermodal/c2")))
        #expect(FileSystem.exists(root.appending("intermodal")))
    }

    @Test func conversions() throws {
        #expect(V2Limits.cpuWeight(shares: 2) == 1)
        #expect(V2Limits.cpuWeight(shares: 1024) == 39)
        #expect(V2Limits.cpuWeight(shares: 262144) == 10000)
        #expect(V2Limits.ioWeight(blkio: 10) == 1)
        #expect(V2Limits.ioWeight(blkio: 1000) == 10000)
        #expect(V2Limits.cpuMax(quota: nil, period: nil) == nil)
        #expect(V2Limits.cpuMax(quota: -1, period: nil) == "max 100000")
        #expect(V2Limits.cpuMax(quota: 20_000, period: nil) == "20000 100000")
        #expect(try V2Limits.swapMax(memorySwap: nil, memory: 100) == nil)
        #expect(try V2Limits.swapMax(memorySwap: -1, memory: 100) == "max")
        #expect(try V2Limits.swapMax(memorySwap: 300, memory: 100) == "200")
        #expect(try V2Limits.swapMax(memorySwap: nil, memory: -1) == "max")
        #expect(throws: IntermodalError.self) { try V2Limits.swapMax(memorySwap: 50, memory: 100) }
        #expect(throws: IntermodalError.self) { try V2Limits.swapMax(memorySwap: 50, memory: nil) }
        #expect(V2Limits.controllersNeeded(CgroupResources(memoryLimit: 1, pidsLimit: 3, unified: ["cgroup.max.depth": "2", "io.max": "x"]))
            == ["memory", "pids", "io"])
    }

    @Test func badHugePageSizeAndUnifiedKeysAreErrors() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgv2")
        defer { try? FileSystem.removeTree(root) }
        let manager = try CgroupManager.detect(mountRoot: root, mountInfo: try Self.fakeTree(root))
        #expect {
            _ = try manager.create(path: "/intermodal/c1", resources: CgroupResources(hugepageLimits: [HugepageLimit(pageSize: "3MB", limit: 1)]))
        } throws: { ($0 as! IntermodalError).message.contains("\"3MB\"") }
        #expect {
            _ = try manager.create(path: "/intermodal/c1", resources: CgroupResources(unified: ["../x": "1"]))
        } throws: { ($0 as! IntermodalError).message.contains("\"../x\"") }
    }

    // MARK: A real cgroup2 hierarchy

    @Test(.enabled(if: CgroupTestSupport.realUnifiedRoot != nil))
    func realUnifiedHierarchy() throws {
        let root = try #require(CgroupTestSupport.realUnifiedRoot)
        let manager = try CgroupManager.detect(mountRoot: root)
        #expect(manager.mode == .v2)
        let name = CgroupTestSupport.uniqueName()
        var resources = CgroupResources()
        if manager.availableControllers.contains("hugetlb") {
            resources.hugepageLimits = [HugepageLimit(pageSize: "2MB", limit: 8 << 20)]
        }
        let cgroup = try manager.create(path: "/\(name)/leaf", resources: resources)
        defer { try? cgroup.destroy() }
        let leaf = root.appending("\(name)/leaf")
        #expect(cgroup.paths == [leaf])
        #expect(cgroup.unifiedPath == leaf)
        #expect(cgroup.createdPaths == [leaf, root.appending(name)])
        if !resources.hugepageLimits.isEmpty {
            #expect(CgroupTestSupport.read(leaf.appending("hugetlb.2MB.max")) == "\(8 << 20)")
        }

        let pid = try CgroupTestSupport.spawnSleep()
        var reaped = false
        defer { if !reaped { kill(pid, SIGKILL); CgroupTestSupport.reap(pid) } }
        try cgroup.add(pid: pid)
        #expect(try cgroup.processes() == [pid])
        #expect(try cgroup.stats().cpuUsageNanoseconds != nil)

        // Any signal but SIGKILL: cgroup.freeze, signal each pid, thaw (the signal lands on thaw).
        try cgroup.killAll(signal: SIGTERM)
        #expect(CgroupTestSupport.reap(pid) == SIGTERM)
        reaped = true
        #expect(CgroupTestSupport.read(leaf.appending("cgroup.freeze")) == "0", "left frozen")

        // SIGKILL: one write to cgroup.kill (Linux 5.14+), else freeze+kill.
        let second = try CgroupTestSupport.spawnSleep()
        var secondReaped = false
        defer { if !secondReaped { kill(second, SIGKILL); CgroupTestSupport.reap(second) } }
        try cgroup.add(pid: second)
        try cgroup.killAll(signal: SIGKILL)
        #expect(CgroupTestSupport.reap(second) == SIGKILL)
        secondReaped = true
        try cgroup.destroy()
        #expect(!FileSystem.exists(root.appending(name)))
    }
}

@Suite("Cgroup v2 device control by eBPF")
struct CgroupDeviceFilterTests {
    @Test func programShape() throws {
        let insns = try DeviceFilter.program(for: [
            CgroupDeviceRule(allow: false, type: "a", access: "rwm"),
            CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
            CgroupDeviceRule(allow: true, type: "c", major: 136, access: "rw"),
        ])
        // Prologue 6; "c 136:* rw": type, mov, and, jne, major, mov r0, exit = 7;
        // "c 1:3 rwm": type, major, minor, mov, exit = 5; "a *:* rwm" deny: mov, exit = 2 and the
        // end (the verifier refuses unreachable code after a match-all rule).
        #expect(insns.count == 6 + 7 + 5 + 2)
        #expect(insns.last == DeviceFilter.Instruction(code: DeviceFilter.exit))
        // Every jump lands inside the program, on a block boundary or later.
        for (i, insn) in insns.enumerated() where insn.code == DeviceFilter.jneK || insn.code == DeviceFilter.jeqK {
            #expect(i + 1 + Int(insn.off) < insns.count)
            #expect(insn.off > 0)
        }
        #expect(throws: IntermodalError.self) { try DeviceFilter.program(for: [CgroupDeviceRule(allow: true, type: "x")]) }
        #expect(throws: IntermodalError.self) { try DeviceFilter.program(for: [CgroupDeviceRule(allow: true, access: "rwx")]) }
    }

    /// A long rule list (the runtime's defaults plus many devices) loads: the verifier's log is
    /// only requested after a failure, so it cannot overflow on success.
    @Test(.enabled(if: CgroupTestSupport.realUnifiedRoot != nil))
    func aLongRuleListLoads() throws {
        let manager = try CgroupManager.detect(mountRoot: try #require(CgroupTestSupport.realUnifiedRoot))
        let name = CgroupTestSupport.uniqueName()
        let rules = CgroupDeviceRule.defaultRules + (0..<100).map {
            CgroupDeviceRule(allow: true, type: "b", major: 7, minor: Int64($0), access: "rw")
        }
        let cgroup = try manager.create(path: "/\(name)", resources: CgroupResources(devices: rules))
        try cgroup.destroy()
    }

    /// The kernel verifies and runs the program: a process in the cgroup may open /dev/null but
    /// not /dev/zero. Runs in this host's real cgroup2 hierarchy.
    @Test(.enabled(if: CgroupTestSupport.realUnifiedRoot != nil))
    func theKernelEnforcesDeviceRules() throws {
        let root = try #require(CgroupTestSupport.realUnifiedRoot)
        let manager = try CgroupManager.detect(mountRoot: root)
        #expect(manager.enforcesDeviceRules)
        let name = CgroupTestSupport.uniqueName()
        let cgroup = try manager.create(path: "/\(name)", resources: CgroupResources(devices: [
            CgroupDeviceRule(allow: false, type: "a", access: "rwm"),
            CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),   // /dev/null
            CgroupDeviceRule(allow: true, type: "c", major: 1, minor: 9, access: "r"),     // /dev/urandom, read only
        ]))
        defer { try? cgroup.destroy() }

        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-devfilter")
        defer { try? FileSystem.removeTree(dir) }
        let out = dir.appending("out").string
        // The shell waits on its stdin (a pipe) until it has been moved into the cgroup.
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let script = """
            read go
            if echo x > /dev/null; then echo null-ok; else echo null-denied; fi
            if head -c1 /dev/zero > /dev/null 2>&1; then echo zero-ok; else echo zero-denied; fi
            if head -c1 /dev/urandom > /dev/null 2>&1; then echo urandom-read-ok; else echo urandom-read-denied; fi
            if (echo x > /dev/urandom) 2>/dev/null; then echo urandom-write-ok; else echo urandom-write-denied; fi
            """
        let pid = try CgroupTestSupport.spawn(["/bin/sh", "-c", "exec > \(out); " + script], stdin: fds[0])
        close(fds[0])
        var reaped = false
        defer { close(fds[1]); if !reaped { kill(pid, SIGKILL); CgroupTestSupport.reap(pid) } }
        try cgroup.add(pid: pid)
        _ = write(fds[1], "go\n", 3)
        #expect(CgroupTestSupport.reap(pid) == nil)
        reaped = true
        #expect(CgroupTestSupport.read(FilePath(out)).split(separator: "\n")
            == ["null-ok", "zero-denied", "urandom-read-ok", "urandom-write-denied"])
        try cgroup.destroy()
        #expect(!FileSystem.exists(root.appending(name)))
    }
}
