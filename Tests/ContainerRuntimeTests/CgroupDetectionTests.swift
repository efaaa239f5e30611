import IntermodalCore
import SystemPackage
import Testing
@testable import ContainerRuntime

@Suite("Cgroup detection from mountinfo")
struct CgroupDetectionTests {
    static let v1 = """
        25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
        """
    static let v2 = """
        25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """

    @Test func pureV1() throws {
        let m = try CgroupManager.detect(mountRoot: "/sys/fs/cgroup", mountInfo: Self.v1)
        #expect(m.mode == .v1)
        #expect(m.availableControllers == ["cpu", "cpuacct", "cpuset", "memory", "pids"])
        // name=systemd carries no controller and is not a hierarchy to limit in.
        #expect(m.v1Hierarchies.map(\.mountPoint) == [
            "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
        ])
        #expect(m.unifiedMount == nil)
    }

    @Test func pureV2ReadsControllersFromTheRoot() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgdetect")
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.writeAtomically("cpuset cpu io memory hugetlb pids rdma misc\n", to: root.appending("cgroup.controllers"))
        let info = Self.v2.replacing("/sys/fs/cgroup", with: root.string)
        let m = try CgroupManager.detect(mountRoot: root, mountInfo: info)
        #expect(m.mode == .v2)
        #expect(m.unifiedMount == root.string)
        #expect(m.availableControllers == ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"])
        #expect(m.v1Hierarchies.isEmpty)
    }

    @Test func hybridTakesV1ControllersAndTheRestFromUnified() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-cgdetect")
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.createDirectory(root.appending("unified"))
        try FileSystem.writeAtomically("hugetlb\n", to: root.appending("unified/cgroup.controllers"))
        let info = (Self.v1 + "\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")
            .replacing("/sys/fs/cgroup", with: root.string)
        let m = try CgroupManager.detect(mountRoot: root, mountInfo: info)
        #expect(m.mode == .hybrid)
        #expect(m.unifiedMount == root.appending("unified").string)
        #expect(m.availableControllers == ["cpu", "cpuacct", "cpuset", "memory", "pids", "hugetlb"])
    }

    @Test func escapedMountPointsAndOtherRootsAreHandled() throws {
        let info = """
            35 31 0:32 / /sys/fs/cgroup/my\\040memory rw,relatime - cgroup cgroup rw,memory
            36 31 0:33 / /elsewhere/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            """
        let m = try CgroupManager.detect(mountRoot: "/sys/fs/cgroup", mountInfo: info)
        #expect(m.v1Hierarchies.map(\.mountPoint) == ["/sys/fs/cgroup/my memory"])
        #expect(m.availableControllers == ["memory"])
    }

    @Test func noCgroupsIsAClearError() {
        #expect {
            _ = try CgroupManager.detect(mountRoot: "/sys/fs/cgroup", mountInfo: "25 30 0:23 / /sys rw - sysfs sysfs rw\n")
        } throws: { error in
            let e = error as! IntermodalError
            return e.code == .unsupported && e.message.contains("/sys/fs/cgroup")
        }
    }

    @Test func thisHostIsDetected() throws {
        let m = try CgroupManager.detect()
        // This machine is hybrid; most hosts are pure v2. Either way memory control must be found.
        #expect(m.mode == .hybrid || m.mode == .v2 || m.mode == .v1)
        #expect(m.availableControllers.contains("memory"))
        if m.mode == .hybrid { #expect(m.unifiedMount != nil && !m.v1Hierarchies.isEmpty) }
    }

    @Test func cgroupsPathsAreChecked() throws {
        #expect(try CgroupManager.components(of: "/intermodal/abc") == ["intermodal", "abc"])
        #expect(try CgroupManager.components(of: "intermodal//abc/") == ["intermodal", "abc"])
        for bad in ["/", "", "/a/../b", "system.slice:docker:abc"] {
            #expect(throws: IntermodalError.self) { try CgroupManager.components(of: bad) }
        }
        do {
            _ = try CgroupManager.components(of: "system.slice:docker:abc")
        } catch {
            #expect(error.code == .unsupported)
            #expect(error.message.contains("systemd"))
        }
    }
}
