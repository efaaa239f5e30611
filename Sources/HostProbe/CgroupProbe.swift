#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Which cgroup layout this host has, and which controllers we can really use: for each one a
/// child group is created and removed again.
enum CgroupProbe {
    static let cgroup2Magic = "cgroup2"
    static let cgroup1Magic = "cgroup"

    enum Mode: String { case v1, v2, hybrid, none }

    /// Mount point -> file system type, from /proc/self/mountinfo (the last mount at a point wins).
    static func mountTypes(_ mountinfo: String) -> [String: String] {
        var types: [String: String] = [:]
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            types[String(fields[4])] = String(fields[dash + 1])
        }
        return types
    }


    /// The layout as systemd and runc decide it: cgroup2 at the root is v2; v1 hierarchies with a
    /// cgroup2 at `unified` is hybrid; v1 hierarchies alone is v1.
    static func mode(root: FilePath, mounts: [String: String]) -> Mode {
        func fileSystemMagic(_ path: FilePath) -> String? { mounts[path.string] }
        switch fileSystemMagic(root) {
        case cgroup2Magic: return .v2
        case nil: return .none
        default:
            let unified = fileSystemMagic(root.appending("unified")) == cgroup2Magic
            let anyV1 = ((try? FileSystem.list(root)) ?? []).contains { fileSystemMagic(root.appending($0)) == cgroup1Magic }
            if anyV1 { return unified ? .hybrid : .v1 }
            return unified ? .v2 : .none
        }
    }

    /// Creates and removes `intermodal-doctor-<pid>` under `dir`: proof that we can use it.
    static func canCreateChild(in dir: FilePath) -> Bool {
        let child = dir.appending("intermodal-doctor-\(getpid())")
        guard mkdir(child.string, 0o755) == 0 else { return false }
        return rmdir(child.string) == 0
    }

    static func probe(root: FilePath = "/sys/fs/cgroup", mountinfo: FilePath = "/proc/self/mountinfo") -> ProbeResult {
        let name = "cgroups"
        let mounts = mountTypes((try? FileSystem.readString(mountinfo)) ?? "")
        func fileSystemMagic(_ path: FilePath) -> String? { mounts[path.string] }
        let mode = mode(root: root, mounts: mounts)
        var usable: [String] = []
        var unusable: [String] = []
        switch mode {
        case .none:
            return ProbeResult(name, .missing, "no cgroup file system at \(root)", fix: "mount cgroup2 on \(root)", required: true)
        case .v2:
            let controllers = ((try? FileSystem.readString(root.appending("cgroup.controllers"))) ?? "")
                .split(separator: " ").map { $0.trimmed }
            (canCreateChild(in: root) ? { usable = controllers } : { unusable = controllers })()
        case .v1, .hybrid:
            for entry in (try? FileSystem.list(root)) ?? [] {
                let dir = root.appending(entry)
                var st = stat()
                // Co-mounted controllers appear once as a directory and again as symlinks.
                guard lstat(dir.string, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
                let magic = fileSystemMagic(dir)
                if magic == cgroup1Magic {
                    (canCreateChild(in: dir) ? { usable.append(entry) } : { unusable.append(entry) })()
                } else if magic == cgroup2Magic {
                    let controllers = ((try? FileSystem.readString(dir.appending("cgroup.controllers"))) ?? "").trimmed
                    let label = "\(entry)(v2: \(controllers.isEmpty ? "no controllers" : controllers))"
                    (canCreateChild(in: dir) ? { usable.append(label) } : { unusable.append(label) })()
                }
            }
        }
        let detail = "\(mode.rawValue); usable: \(usable.joined(separator: " "))"
            + (unusable.isEmpty ? "" : "; not usable: \(unusable.joined(separator: " "))")
        let needed = ["memory", "pids", "cpu"]
        let missingNeeded = needed.filter { n in !usable.contains { $0 == n || $0.hasPrefix(n + ",") } }
        if !missingNeeded.isEmpty {
            return ProbeResult(name, .missing, detail + "; missing \(missingNeeded.joined(separator: ", "))",
                               fix: "enable the \(missingNeeded.joined(separator: ", ")) controllers", required: true)
        }
        return ProbeResult(name, mode == .hybrid ? .warning : .ok,
                           mode == .hybrid ? detail + " (hybrid: v1 controllers are used; crun refuses this layout)" : detail,
                           required: true)
    }
}
