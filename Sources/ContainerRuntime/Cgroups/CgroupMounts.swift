import IntermodalCore
import SystemPackage

/// A cgroup file system mounted on this host, as `/proc/self/mountinfo` lists it.
struct CgroupMount: Sendable, Equatable {
    var mountPoint: String
    /// true for `cgroup2`, false for a v1 `cgroup` hierarchy.
    var unified: Bool
    /// The v1 controllers bound to this hierarchy (from the super options); empty for cgroup2
    /// and for named hierarchies such as `name=systemd`.
    var controllers: [String]
}

/// Parses `/proc/self/mountinfo` for cgroup mounts.
enum MountInfo {
    /// The controllers a v1 hierarchy can carry; other super options (rw, xattr,
    /// release_agent=, name=systemd, clone_children) are not controllers.
    static let v1ControllerNames: Set<String> = [
        "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
        "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc",
    ]

    /// Every cgroup/cgroup2 mount at or below `root`, in mountinfo order. A later mount on the
    /// same mount point hides an earlier one, so only the last one per mount point is kept.
    static func cgroupMounts(in text: String, under root: String) -> [CgroupMount] {
        var mounts: [CgroupMount] = []
        for entry in MountTable(text: text).entries(under: root) {
            let fsType = entry.fileSystemType
            guard fsType == "cgroup" || fsType == "cgroup2" else { continue }
            let controllers = fsType == "cgroup" ? entry.superOptions.filter { v1ControllerNames.contains($0) } : []
            mounts.removeAll { $0.mountPoint == entry.mountPoint }
            mounts.append(CgroupMount(mountPoint: entry.mountPoint, unified: fsType == "cgroup2", controllers: controllers))
        }
        return mounts
    }
}
