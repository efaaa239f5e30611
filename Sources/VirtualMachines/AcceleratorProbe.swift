#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage

/// Whether hardware virtualisation (KVM) really boots a guest here, found by booting one.
public struct AcceleratorProbeResult: Codable, Sendable, Equatable {
    /// True when a guest reached its init under `-accel kvm` within the timeout.
    public var kvmUsable: Bool
    /// What happened, for people: "guest reached init in 0.4 s under KVM", "probe boot timed out after 4 s".
    public var detail: String
    /// When the probe ran (Unix seconds).
    public var probedAtUnix: Int64
    /// How long the probe boot took (or ran until it was stopped).
    public var probeSeconds: Double
    /// The kernel release booted.
    public var kernel: String
}

/// Probes KVM by a real boot, because `/dev/kvm` existing proves nothing (nested PVM hosts have
/// it, and a guest kernel hangs there). The answer is cached: a probe costs seconds.
public enum AcceleratorProbe {
    /// The marker the probe guest prints on its serial console once its init runs.
    static let marker = "INTERMODAL-PROBE-OK"
    /// How long a KVM guest may take to reach init before KVM is declared unusable.
    public static let timeout: Duration = .seconds(4)

    /// The cached result if younger than `maxAge` (and for the same kernel and QEMU), else a new probe.
    public static func cachedOrProbe(maxAge: Duration = .seconds(7 * 86400), force: Bool = false) async throws(IntermodalError) -> AcceleratorProbeResult {
        let kernel = try GuestKernel.locate()
        let qemu = try await QEMUBinary.locate()
        let key = "\(kernel.version)-qemu-\(qemu.version)".filter { $0.isLetter || $0.isNumber || "-._".contains($0) }
        let cacheFile = IntermodalPaths.cacheRoot.appending("vm/kvm-probe-\(key).json")
        if !force, let data = try? FileSystem.readBytes(cacheFile),
           let cached = try? JSON.decode(AcceleratorProbeResult.self, from: data, what: cacheFile.string) {
            let age = Int64(time(nil)) - cached.probedAtUnix
            if age >= 0 && Duration.seconds(age) < maxAge { return cached }
        }
        let result = try await probe(kernel: kernel, qemu: qemu)
        try FileSystem.createDirectory(cacheFile.removingLastComponent())
        if let data = try? JSON.encode(result) {
            try FileSystem.writeAtomically(data, to: cacheFile)
        }
        return result
    }

    /// Boots `kernel` with bare QEMU under `-accel kvm` and a busybox initramfs that prints a
    /// marker; KVM is usable if the marker shows up before ``timeout``.
    public static func probe(kernel: GuestKernel, qemu: QEMUBinary) async throws(IntermodalError) -> AcceleratorProbeResult {
        let started = MonotonicInstant.now
        func result(_ ok: Bool, _ detail: String) -> AcceleratorProbeResult {
            AcceleratorProbeResult(
                kvmUsable: ok, detail: detail, probedAtUnix: Int64(time(nil)),
                probeSeconds: MonotonicInstant.now.duration(since: started).seconds,
                kernel: kernel.version)
        }
        guard access("/dev/kvm", R_OK | W_OK) == 0 else {
            return result(false, "/dev/kvm is missing or not accessible")
        }
        let seconds = timeout.components.seconds
        let r = try await bootToMarker(kernel: kernel, qemu: qemu, acceleratorArguments: ["-accel", "kvm", "-cpu", "host"], seconds: seconds)
        if r.standardOutput.contains(marker) {
            let took = MonotonicInstant.now.duration(since: started)
            return result(true, "guest reached init under KVM in \(took.formattedSeconds)")
        }
        if r.exitCode == 124 || r.signal == SIGKILL || r.exitCode == 137 {
            return result(false, "probe boot timed out after \(seconds) s under KVM (nested or broken KVM: guests must use TCG)")
        }
        let err = r.standardError.trimmingTrailingWhitespace.split(separator: "\n").suffix(2).joined(separator: "; ")
        let how = r.exitCode.map { "exit status \($0)" } ?? "signal \(r.signal ?? 0)"
        return result(false, "QEMU with -accel kvm failed (\(how)): \(err)")
    }

    /// Boots `kernel` with bare QEMU and the probe initramfs; QEMU is killed after `seconds`
    /// (a stock kernel hangs under nested PVM's KVM). The marker in its output means init ran.
    static func bootToMarker(kernel: GuestKernel, qemu: QEMUBinary, acceleratorArguments: [String], seconds: Int64) async throws(IntermodalError) -> CommandResult {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-kvm-probe")
        defer { try? FileSystem.removeTree(dir) }
        let initrd = dir.appending("probe.cpio")
        try FileSystem.writeAtomically(try probeInitramfs(), to: initrd)
        return try await HostCommand.run(
            "timeout", ["-s", "KILL", "\(seconds)", qemu.path.string] + acceleratorArguments + [
                "-m", "128", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                "-serial", "stdio", "-kernel", kernel.path.string, "-initrd", initrd.string,
                "-append", "console=ttyS0 quiet panic=-1 rdinit=/init"])
    }

    /// An initramfs with static busybox as `/init` that prints the marker and powers off.
    static func probeInitramfs() throws(IntermodalError) -> [UInt8] {
        var w = InitramfsWriter()
        for d in ["bin", "dev", "proc"] { w.addDirectory(d) }
        w.addCharacterDevice("dev/console", major: 5, minor: 1)
        w.addFile("bin/busybox", contents: try FileSystem.readBytes(BusyboxRootfs.defaultBinary), mode: 0o755)
        w.addSymlink("bin/sh", target: "busybox")
        w.addFile("init", contents: Array("#!/bin/sh\n/bin/busybox echo \(marker)\n/bin/busybox poweroff -f\n".utf8), mode: 0o755)
        return w.finish()
    }
}

extension Duration {
    /// "1.23 s".
    public var formattedSeconds: String {
        let ms = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return "\(ms / 1000).\(String(ms % 1000 / 10).leftPadded(to: 2)) s"
    }

    /// The duration in seconds as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
