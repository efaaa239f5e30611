#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import VirtualMachines

/// libvirtd, the guest kernel and the accelerator, through the VM module's own code paths.
enum VirtualizationProbe {
    static func probeAll(_ options: HostProbe.Options) async -> [ProbeResult] {
        var results: [ProbeResult] = []
        do {
            let connection = try LibvirtConnection(uri: options.libvirtURI)
            let lib = try connection.libvirtVersion()
            let hv = try connection.hypervisorVersion()
            results.append(ProbeResult("libvirtd", .ok, "reachable at \(options.libvirtURI): libvirt \(lib), hypervisor \(hv)", required: true))
        } catch {
            // libvirt is loaded at first use: a host without the library gets told to install it,
            // one without a running daemon to start it.
            let fix = error.code == .unsupported
                ? "install libvirt: scripts/setup (apt-get install libvirt-daemon-system)"
                : "start the daemons: virtlogd -d && libvirtd -d (scripts/setup does)"
            results.append(ProbeResult("libvirtd", .missing, error.description, fix: fix, required: true))
        }
        do {
            let kernel = try GuestKernel.locate()
            results.append(ProbeResult("guest kernel", .ok, "\(kernel.path) (\(kernel.version))", required: true))
        } catch {
            results.append(ProbeResult("guest kernel", .missing, error.description,
                                       fix: "apt-get install linux-image-amd64", required: true))
        }
        do {
            let probe = try await AcceleratorProbe.cachedOrProbe(force: options.refreshAcceleratorProbe)
            let age = max(0, Int64(time(nil)) - probe.probedAtUnix)
            let when = "probe boot of \(String(format1: probe.probeSeconds)) s, \(age < 120 ? "\(age) s" : "\(age / 60) min") ago"
                + (options.refreshAcceleratorProbe ? "" : "; --refresh-kvm probes again")
            if probe.kvmUsable {
                results.append(ProbeResult("KVM", .ok, "usable: \(probe.detail) (\(when))"))
            } else {
                results.append(ProbeResult("KVM", .warning, "not usable (\(probe.detail)), using TCG (\(when))"))
            }
        } catch {
            results.append(ProbeResult("KVM", .warning, "not usable (probe failed: \(error)), using TCG"))
        }
        return results
    }
}

extension String {
    /// A number with one decimal, without Foundation's formatter.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
