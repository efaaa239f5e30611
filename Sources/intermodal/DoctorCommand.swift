import ArgumentParser
import HostProbe
import IntermodalCore
import FoundationEssentials

/// `intermodal doctor`: what this host offers for the benchmark, each line checked for real.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this host offers for the benchmark, for real (namespaces, cgroups, KVM, peers).",
        discussion: """
            Every line is a real test: namespaces are created, a cgroup is made and removed, a seccomp \
            filter is loaded, an overlay is mounted in a private mount namespace, and KVM is judged by \
            booting a tiny guest (cached; --refresh-kvm boots it again). Exits non-zero when something \
            the quick benchmark needs is missing, naming the fix.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(name: .customLong("refresh-kvm"), help: "Boot the KVM probe guest again instead of using the cached result.")
    var refreshKVM = false

    @Option(help: "libvirt connection URI.")
    var connect = "qemu:///system"

    func run() async throws {
        var options = HostProbe.Options()
        options.refreshAcceleratorProbe = refreshKVM
        options.libvirtURI = connect
        let report = await HostProbe.run(options)
        if json {
            StandardStreams.writeOutput(String(decoding: try JSON.encode(report, pretty: true), as: UTF8.self) + "\n")
        } else {
            StandardStreams.writeOutput(DoctorTable.render(report))
        }
        let blockers = report.blockers
        if !blockers.isEmpty {
            let names = blockers.map { "\($0.name)" + ($0.fix.map { " (fix: \($0))" } ?? "") }
            throw IntermodalError(.unsupported, "the quick benchmark cannot run here: missing \(names.joined(separator: "; "))")
        }
    }
}

/// The human-readable doctor table: CHECK, STATUS, DETAIL, then the fixes.
enum DoctorTable {
    static func render(_ report: HostReport) -> String {
        let width = max(5, report.results.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var out = pad("CHECK", width) + "  " + pad("STATUS", 7) + "  DETAIL\n"
        for r in report.results {
            let status = r.status == .missing && !r.required ? "absent" : r.status.rawValue
            out += pad(r.name, width) + "  " + pad(status, 7) + "  " + r.detail + "\n"
        }
        let fixes = report.results.filter { $0.status != .ok && $0.fix != nil }
        if !fixes.isEmpty {
            out += "\nfixes:\n"
            for r in fixes { out += "  \(r.name): \(r.fix!)\n" }
        }
        return out
    }
}
