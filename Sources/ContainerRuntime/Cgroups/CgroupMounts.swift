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
        let root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        var mounts: [CgroupMount] = []
        for line in text.split(separator: "\n") {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 7, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count
            else { continue }
            let fsType = fields[dash + 1]
            guard fsType == "cgroup" || fsType == "cgroup2" else { continue }
            let mountPoint = unescape(String(fields[4]))
            guard mountPoint == root || mountPoint.hasPrefix(root == "/" ? "/" : root + "/") else { continue }
            var controllers: [String] = []
            if fsType == "cgroup", dash + 3 < fields.count {
                controllers = fields[dash + 3].split(separator: ",").map(String.init)
                    .filter { v1ControllerNames.contains($0) }
            }
            mounts.removeAll { $0.mountPoint == mountPoint }
            mounts.append(CgroupMount(mountPoint: mountPoint, unified: fsType == "cgroup2", controllers: controllers))
        }
        return mounts
    }

    /// mountinfo writes space, tab, newline and backslash in paths as `\040`-style octal escapes.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out: [UInt8] = []
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
