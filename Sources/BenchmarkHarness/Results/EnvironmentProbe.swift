#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import IntermodalCore
import SystemPackage
import VirtualMachines

/// Reads the ``Environment`` a results file records, from the host itself.
enum EnvironmentProbe {
    static func read(accelerator: String, acceleratorDetail: String?, versions extra: [String: String]) async -> Environment {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let release = HostKVM.kernelRelease
        let model = HostKVM.cpuInfo(["model name"])["model name"] ?? "unknown"
        let osRelease = (try? FileSystem.readString("/etc/os-release")) ?? ""
        let distribution = osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: "\"") } ?? "unknown"
        var versions = extra
        versions["intermodal"] = IntermodalVersion.string
        if let v = await HostFacts.version("libvirtd") { versions["libvirt"] = v }
        if let q = try? await QEMUBinary.locate() { versions["qemu"] = q.version }
        var commit: String?
        if let r = try? await HostCommand.run("git", ["rev-parse", "HEAD"]), r.succeeded { commit = r.standardOutput.trimmed }
        return Environment(
            hostName: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            cpuModel: model, cpuCount: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            memoryBytes: (HostFacts.memTotalKiB() ?? 0) * 1024, kernel: release, distribution: distribution,
            cgroupMode: cgroupMode(), accelerator: accelerator, acceleratorDetail: acceleratorDetail,
            versions: versions, gitCommit: commit, hostVirtualization: HostKVM.hostIsGuest)
    }

    static func cgroupMode() -> String {
        if KernelInterfaces.isCgroup2("/sys/fs/cgroup") == true { return "v2" }
        return FileSystem.exists("/sys/fs/cgroup/unified") ? "hybrid" : "v1"
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
