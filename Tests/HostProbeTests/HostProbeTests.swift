#if canImport(Glibc)
import Glibc
#endif
@testable import HostProbe
import IntermodalCore
import SystemPackage
import Testing

/// The probes run for real on this host (root, Linux with namespaces, cgroups, seccomp, overlay).
@Suite struct HostProbeTests {
    @Test func everyNamespaceKindTheRuntimeNeedsIsUsable() async {
        for result in await NamespaceProbe.probeAll() where result.required {
            #expect(result.status == .ok, "\(result.name): \(result.detail)")
        }
    }

    @Test func networkNamespaceProbeSeesOnlyLoopback() async {
        let kind = NamespaceProbe.kinds.first { $0.name == "network" }!
        let result = await NamespaceProbe.probe(kind)
        #expect(result.status == .ok, "\(result.detail)")
    }

    @Test func aNamespaceProbeThatCannotWorkIsReportedMissing() async {
        // An unknown unshare flag makes unshare itself fail: the probe must say so, not pass.
        let bogus = NamespaceProbe.Kind(name: "bogus", flags: ["--no-such-namespace"], command: ["true"], expect: nil, required: true)
        let result = await NamespaceProbe.probe(bogus)
        #expect(result.status == .missing)
        #expect(result.required)
    }

    @Test func seccompFilterIsEnforcedOnTheProbeThreadOnly() {
        let result = SeccompProbe.probe()
        #expect(result.status == .ok, "\(result.detail)")
        // The filter bound only the probe thread: here getpriority still works.
        errno = 0
        _ = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #expect(errno == 0)
    }

    @Test func overlayProbeMountsAndLeavesNoMount() async throws {
        let result = await OverlayProbe.probe()
        #expect(result.status == .ok, "\(result.detail)")
        let mounts = try FileSystem.readString("/proc/self/mountinfo")
        #expect(!mounts.contains("intermodal-doctor-overlay"))
    }

    @Test func cgroupProbeOnThisHostFindsTheControllersAndLeavesNothing() throws {
        let result = CgroupProbe.probe()
        #expect(result.status != .missing, "\(result.detail)")
        #expect(result.detail.contains("memory") && result.detail.contains("pids"))
        // Only this process's probe cgroup: `intermodal doctor` runs of other tests make their own
        // (`intermodal-doctor-<their pid>`) at the same time.
        let mine = "intermodal-doctor-\(getpid())"
        let leftovers = try FileSystem.list("/sys/fs/cgroup").flatMap { controller in
            ((try? FileSystem.list(FilePath("/sys/fs/cgroup").appending(controller))) ?? []).filter { $0 == mine }
        }
        #expect(leftovers.isEmpty)
    }

    @Test func osReleaseParsingHandlesQuotes() {
        let fields = SystemProbe.parseOSRelease("NAME=\"Debian GNU/Linux\"\nID=debian\n# comment\n")
        #expect(fields["NAME"] == "Debian GNU/Linux")
        #expect(fields["ID"] == "debian")
    }

    @Test func missingCapSysResourceIsAWarningNotAPass() throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-test-doctor")
        defer { try? FileSystem.removeTree(dir) }
        // Full set but bit 24 (CAP_SYS_RESOURCE) cleared.
        let mask = String(((UInt64(1) << 41) - 1) & ~(UInt64(1) << 24), radix: 16)
        try FileSystem.writeAtomically("Name:\tx\nCapBnd:\t\(mask)\n", to: dir.appending("status"))
        let result = SystemProbe.capabilities(status: dir.appending("status"))
        #expect(result.status == .warning)
        #expect(result.detail.contains("CAP_SYS_RESOURCE"))
    }

    @Test func aMissingRequiredToolBlocksWithAFix() async {
        let tool = ToolProbe.Tool(label: "nothing", program: "intermodal-no-such-tool", versionArguments: [], package: "no-such-package", required: true)
        let result = await ToolProbe.probe(tool)
        #expect(result.status == .missing)
        #expect(result.fix?.contains("no-such-package") == true)
        let report = HostReport(results: [result], generatedAtUnix: 0)
        #expect(report.blockers.count == 1)
    }
}
