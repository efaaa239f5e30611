#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// How the host mounts its cgroups.
public enum CgroupMode: String, Sendable, Equatable {
    /// One hierarchy per controller (or group of controllers) under the mount root.
    case v1
    /// The single unified hierarchy mounted at the mount root.
    case v2
    /// v1 controller hierarchies plus a cgroup2 mount (usually `unified/`) that holds whatever
    /// controllers no v1 hierarchy took (often only hugetlb, or none).
    case hybrid
}

/// Finds the host's cgroup hierarchies and creates container cgroups in them.
public struct CgroupManager: Sendable {
    /// The host's layout.
    public var mode: CgroupMode
    /// Controllers that limits can be written for: the v1 hierarchies' controllers, plus (v2,
    /// hybrid) those the unified root offers in `cgroup.controllers`.
    public var availableControllers: [String]
    /// Where the cgroup file systems are mounted (`/sys/fs/cgroup`).
    public var mountRoot: FilePath

    /// v1 hierarchies that carry at least one controller, one per mount point.
    var v1Hierarchies: [CgroupMount]
    /// The cgroup2 mount (v2: the mount root itself; hybrid: e.g. `/sys/fs/cgroup/unified`).
    var unifiedMount: String?
    /// Controllers the unified root offers.
    var unifiedControllers: [String]

    /// Detects the layout from `/proc/self/mountinfo`.
    public static func detect(mountRoot: FilePath = "/sys/fs/cgroup") throws(IntermodalError) -> CgroupManager {
        let text: String
        do { text = try CgroupFiles.read(file: "/proc/self/mountinfo") } catch {
            throw IntermodalError(.unsupported, "cannot detect cgroups: /proc/self/mountinfo unreadable", cause: error)
        }
        return try detect(mountRoot: mountRoot, mountInfo: text)
    }

    /// Detects the layout from the text of a mountinfo file (tests give fake ones). The unified
    /// root's controllers are read from its `cgroup.controllers`, if that file exists.
    public static func detect(mountRoot: FilePath, mountInfo: String) throws(IntermodalError) -> CgroupManager {
        let root = mountRoot.string
        let mounts = MountInfo.cgroupMounts(in: mountInfo, under: root)
        let v1 = mounts.filter { !$0.unified && !$0.controllers.isEmpty }
        let unified = mounts.first { $0.unified }?.mountPoint
        var unifiedControllers: [String] = []
        if let unified { unifiedControllers = CgroupFiles.words(unified, "cgroup.controllers") }
        let mode: CgroupMode
        if let unified, unified == root || unified + "/" == root {
            mode = .v2
        } else if !v1.isEmpty {
            mode = unified == nil ? .v1 : .hybrid
        } else if unified != nil {
            // Only a cgroup2 mount below the root and no v1 controller: treat it as pure v2 there.
            mode = .v2
        } else {
            throw IntermodalError(
                .unsupported, "no cgroup file system is mounted at or below \(mountRoot) (see /proc/self/mountinfo)")
        }
        var available: [String] = []
        if mode != .v2 {
            for m in v1 { available += m.controllers }
        }
        if mode != .v1 {
            // On hybrid hosts a controller is in v2 only if no v1 hierarchy took it (the kernel
            // lists it in the unified root then anyway), so de-duplicate.
            for c in unifiedControllers where !available.contains(c) { available.append(c) }
        }
        return CgroupManager(
            mode: mode, availableControllers: available, mountRoot: mountRoot,
            v1Hierarchies: mode == .v2 ? [] : v1, unifiedMount: unified,
            unifiedControllers: unifiedControllers)
    }

    /// True when device rules in ``CgroupResources/devices`` are enforced: by the v1 devices
    /// controller, or on pure v2 by an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup.
    public var enforcesDeviceRules: Bool {
        mode == .v2 || v1Hierarchies.contains { $0.controllers.contains("devices") }
    }

    /// Creates the cgroup `path` (the spec's `cgroupsPath`: "/a/b", taken relative to each
    /// hierarchy's root; a relative path is taken the same way) in every hierarchy and writes
    /// `resources`. On failure everything made so far is removed again.
    ///
    /// The systemd form "slice:prefix:name" is refused: this runtime drives cgroupfs directly.
    public func create(path: String, resources: CgroupResources) throws(IntermodalError) -> Cgroup {
        let components = try Self.components(of: path)
        var cgroup = Cgroup(directories: [], created: [])
        do {
            if mode != .v2 {
                for h in v1Hierarchies {
                    let dir = try makeV1Directory(h, components, &cgroup)
                    cgroup.directories.append(Cgroup.Directory(path: dir, unified: false, controllers: h.controllers))
                }
            }
            if mode != .v1, let unifiedMount {
                // On hybrid hosts only the controllers the limits need are switched on in the
                // unified tree (it is mostly empty, and the switch is host-wide at the root).
                let wanted: [String]? = mode == .v2 ? nil : V2Limits.controllersNeeded(resources)
                let dir = try makeV2Directory(unifiedMount, components, enabling: wanted, &cgroup)
                let controllers = CgroupFiles.words(dir, "cgroup.controllers")
                cgroup.directories.append(Cgroup.Directory(path: dir, unified: true, controllers: controllers))
            }
            try apply(resources, to: cgroup)
        } catch {
            try? cgroup.destroy()
            throw error
        }
        return cgroup
    }

    /// Writes `resources` into an existing cgroup (also used by `create`): like `runc update`.
    public func apply(_ resources: CgroupResources, to cgroup: Cgroup) throws(IntermodalError) {
        switch mode {
        case .v2:
            guard let dir = cgroup.directories.first(where: { $0.unified }) else { return }
            try V2Limits.apply(resources, to: dir)
        case .v1:
            if let unified = resources.unified, !unified.isEmpty {
                throw IntermodalError(
                    .unsupported,
                    "linux.resources.unified (\(unified.keys.sorted().joined(separator: ", "))) needs cgroup v2; this host has cgroup v1 only")
            }
            try V1Limits.apply(resources, to: cgroup.directories.filter { !$0.unified }, hugetlbInUnified: nil)
        case .hybrid:
            let unifiedDir = cgroup.directories.first(where: { $0.unified })
            try V1Limits.apply(resources, to: cgroup.directories.filter { !$0.unified }, hugetlbInUnified: unifiedDir)
            if let unified = resources.unified, !unified.isEmpty {
                guard let unifiedDir else {
                    throw IntermodalError(.unsupported, "linux.resources.unified needs the cgroup2 hierarchy, which this cgroup lacks")
                }
                try V2Limits.writeUnified(unified, to: unifiedDir.path)
            }
        }
    }

    // MARK: - Paths

    /// Splits and checks a cgroupsPath.
    static func components(of path: String) throws(IntermodalError) -> [String] {
        if path.split(separator: ":", omittingEmptySubsequences: false).count == 3 && !path.hasPrefix("/") {
            throw IntermodalError(
                .unsupported,
                "cgroupsPath \"\(path)\" is in the systemd form slice:prefix:name; this runtime manages cgroupfs directly (no systemd here): give a path such as /intermodal/ID")
        }
        let parts = path.split(separator: "/").map(String.init)
        guard !parts.isEmpty else {
            throw IntermodalError(.invalidArgument, "cgroupsPath \"\(path)\" names no cgroup below the root")
        }
        for part in parts where part == "." || part == ".." {
            throw IntermodalError(.invalidArgument, "cgroupsPath \"\(path)\" may not contain \"\(part)\"")
        }
        return parts
    }

    /// mkdir of each missing level, remembering what it made (deepest last in the walk, kept
    /// deepest first in `createdPaths`). Levels that existed are left alone and never removed.
    private static func makeLevel(_ dir: String, _ cgroup: inout Cgroup) throws(IntermodalError) -> Bool {
        if mkdir(dir, 0o755) == 0 {
            cgroup.created.insert(dir, at: 0)
            return true
        }
        let e = errno
        if e == EEXIST { return false }
        throw IntermodalError(.systemError, "mkdir \(dir)", cause: Errno(rawValue: e))
    }

    private func makeV1Directory(_ h: CgroupMount, _ components: [String], _ cgroup: inout Cgroup) throws(IntermodalError) -> String {
        var dir = h.mountPoint
        for c in components {
            let parent = dir
            dir += "/" + c
            _ = try Self.makeLevel(dir, &cgroup)
            // A new v1 cpuset starts with empty cpus and mems and then refuses every task:
            // copy the parent's down, as runc does (also into an existing level left empty).
            if h.controllers.contains("cpuset") {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    if try CgroupFiles.read(dir, file).isEmpty {
                        try CgroupFiles.write(try CgroupFiles.read(parent, file), to: dir, file)
                    }
                }
            }
        }
        return dir
    }

    private func makeV2Directory(
        _ root: String, _ components: [String], enabling wanted: [String]?, _ cgroup: inout Cgroup
    ) throws(IntermodalError) -> String {
        var dir = root
        for c in components {
            // Switch the controllers on for the children of `dir` before descending. The last
            // level holds the processes, so it gets no subtree controllers ("no internal processes").
            let offered = CgroupFiles.words(dir, "cgroup.controllers")
            let enable = wanted.map { w in offered.filter { w.contains($0) } } ?? offered
            if !enable.isEmpty {
                let enabled = CgroupFiles.words(dir, "cgroup.subtree_control")
                let missing = enable.filter { !enabled.contains($0) }
                if !missing.isEmpty {
                    do {
                        try CgroupFiles.write(missing.map { "+" + $0 }.joined(separator: " "), to: dir, "cgroup.subtree_control")
                    } catch {
                        // One by one: a controller that cannot be enabled here (busy, threaded)
                        // must not stop the others; a limit that needs it fails later, by name.
                        for m in missing { try? CgroupFiles.write("+" + m, to: dir, "cgroup.subtree_control") }
                    }
                }
            }
            dir += "/" + c
            _ = try Self.makeLevel(dir, &cgroup)
        }
        return dir
    }
}
