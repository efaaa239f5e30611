#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// Most hosts are pure cgroup v2. This one is hybrid, but its cgroup2 hierarchy is real: in a
/// private mount namespace, `/sys/fs/cgroup` is replaced by a cgroup2 mount and the
/// `intermodal-runtime` binary runs a container there, taking every pure-v2 path (detection,
/// the single unified directory, device rules as an eBPF program, cgroup namespaces).
@Suite("real containers on a pure cgroup v2 view", .enabled(if: CgroupTestSupport.realUnifiedRoot != nil && HostCommand.find("unshare") != nil))
struct CgroupPureV2ContainerTests {
    @Test("device rules are enforced by eBPF and the cgroup is removed afterwards")
    func deviceRulesByEBPF() async throws {
        let script = """
            grep -c cgroup2 /proc/self/mountinfo | sed 's/^/cgroup2-mounts=/'
            cat /proc/self/cgroup
            mknod /tmp/disk b 8 0 && echo mknod-ok
            head -c1 /tmp/disk > /dev/null && echo disk-read || echo disk-denied
            head -c1 /dev/zero > /dev/null && echo zero-read
            """
        let b = try await TestBundle.make(["sh", "-c", script]) { spec in
            spec.mounts?.append(Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"]))
            for keyPath in [\Spec.Capabilities.bounding, \.effective, \.permitted] {
                spec.process?.capabilities?[keyPath: keyPath]?.append("CAP_MKNOD")
            }
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let runtime = RuntimeCLITests.binary.string
        let inner = "umount -R /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && "
            + "exec \(runtime) --root \(b.stateRoot) run --bundle \(b.bundle) \(id)"
        let r = try await HostCommand.run("unshare", ["--mount", "--propagation", "private", "sh", "-c", inner])
        let out = r.standardOutput + r.standardError
        #expect(r.exitCode == 0, "\(out)")
        #expect(out.contains("0::/\n"), "the container sees its own cgroup namespace root: \(out)")
        #expect(out.contains("mknod-ok"), "\(out)")
        #expect(out.contains("disk-denied") && out.contains("Operation not permitted"), "\(out)")
        #expect(out.contains("zero-read"), "\(out)")
        // The container's cgroup was made in the unified hierarchy, and removed by delete.
        let unified = try #require(CgroupTestSupport.realUnifiedRoot)
        #expect(!FileSystem.exists(unified.appending("intermodal-\(id)")))
        #expect(CgroupTestSupport.leftovers(named: "intermodal-\(id)").isEmpty)
    }

    @Test("hugepage limits land in the unified cgroup; kill --all empties it; delete removes it")
    func hugetlbKillAllDelete() async throws {
        let b = try await TestBundle.make(["sh", "-c", "sleep 100 & sleep 100 & wait"]) { spec in
            spec.linux?.resources?.hugepageLimits = [Spec.HugepageLimit(pageSize: "2MB", limit: 4 << 20)]
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let rt = "\(RuntimeCLITests.binary.string) --root \(b.stateRoot)"
        let cg = "/sys/fs/cgroup/intermodal-\(id)"
        let inner = """
            umount -R /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 99
            \(rt) create --bundle \(b.bundle) \(id) && \(rt) start \(id) || exit 98
            for i in $(seq 1 100); do [ $(wc -l < \(cg)/cgroup.procs) -ge 3 ] && break; sleep 0.05; done
            echo hugetlb=$(cat \(cg)/hugetlb.2MB.max)
            echo procs=$(wc -l < \(cg)/cgroup.procs)
            \(rt) kill --all \(id) KILL
            for i in $(seq 1 100); do \(rt) state \(id) | grep -q '"stopped"' && break; sleep 0.05; done
            echo after=$(cat \(cg)/cgroup.procs | wc -l)
            \(rt) delete \(id) && echo deleted
            test -e \(cg) && echo cgroup-left || echo cgroup-gone
            """
        let r = try await HostCommand.run("unshare", ["--mount", "--propagation", "private", "sh", "-c", inner])
        let out = r.standardOutput + r.standardError
        #expect(r.exitCode == 0, "\(out)")
        #expect(out.contains("hugetlb=\(4 << 20)"), "\(out)")
        #expect(out.contains("procs=3"), "\(out)")
        #expect(out.contains("after=0"), "\(out)")
        #expect(out.contains("deleted") && out.contains("cgroup-gone"), "\(out)")
        #expect(CgroupTestSupport.leftovers(named: "intermodal-\(id)").isEmpty)
    }
}
