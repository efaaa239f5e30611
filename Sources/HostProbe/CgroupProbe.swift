#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// Which cgroup layout this host has and whether our runtime can really use it: the runtime's
/// own `CgroupManager` detects the layout, creates a cgroup in every hierarchy with a memory and
/// a pids limit, reads the limits back, and removes it again.
enum CgroupProbe {
    static let neededControllers = ["memory", "pids", "cpu"]

    static func probe(mountRoot: FilePath = "/sys/fs/cgroup") -> ProbeResult {
        let name = "cgroups"
        let manager: CgroupManager
        do { manager = try CgroupManager.detect(mountRoot: mountRoot) } catch {
            return ProbeResult(name, .missing, error.description, fix: "mount cgroup2 on \(mountRoot)", required: true)
        }
        let controllers = manager.availableControllers.sorted()
        let layout = "\(manager.mode.rawValue); controllers: \(controllers.joined(separator: " "))"
        let missing = neededControllers.filter { !controllers.contains($0) }
        if !missing.isEmpty {
            return ProbeResult(name, .missing, layout + "; missing \(missing.joined(separator: ", "))",
                               fix: "enable the \(missing.joined(separator: ", ")) controllers", required: true)
        }
        var resources = CgroupResources()
        resources.memoryLimit = 64 << 20
        resources.pidsLimit = 32
        do {
            let cgroup = try manager.create(path: "/intermodal-doctor-\(getpid())", resources: resources)
            defer { try? cgroup.destroy() }
            _ = try cgroup.stats()
        } catch {
            return ProbeResult(name, .missing, layout + "; creating a limited cgroup failed: \(error)", required: true)
        }
        let usable = layout + "; a cgroup with memory and pids limits was created and removed"
        if manager.mode == .hybrid {
            return ProbeResult(name, .warning, usable + " (hybrid: v1 controllers are used; crun refuses this layout)", required: true)
        }
        return ProbeResult(name, .ok, usable, required: true)
    }
}
