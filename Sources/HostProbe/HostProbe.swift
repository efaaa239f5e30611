#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// What this host offers for the benchmark, each item checked for real, never inferred:
/// the engine of `intermodal doctor`.
public enum HostProbe {
    public struct Options: Sendable {
        /// Boot the KVM probe guest again even when a cached result is fresh.
        public var refreshAcceleratorProbe = false
        /// The libvirt URI whose daemon is checked.
        public var libvirtURI = "qemu:///system"
        public init() {}
    }

    /// Runs every check in order. Never throws: a failed check is a row of the report.
    public static func run(_ options: Options = Options()) async -> HostReport {
        var results: [ProbeResult] = [
            SystemProbe.kernel(),
            SystemProbe.distribution(),
            SystemProbe.capabilities(),
            SystemProbe.ipForwarding(),
            CgroupProbe.probe(),
        ]
        results += await NamespaceProbe.probeAll()
        results.append(SeccompProbe.probe())
        results.append(await OverlayProbe.probe())
        results += await VirtualizationProbe.probeAll(options)
        results += await ToolProbe.probeAll()
        return HostReport(results: results, generatedAtUnix: Int64(time(nil)))
    }
}
