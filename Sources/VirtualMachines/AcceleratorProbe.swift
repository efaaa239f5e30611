#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage

/// Whether hardware virtualisation (KVM) really boots a guest here, found by booting one.
public struct AcceleratorProbeResult: Codable, Sendable, Equatable {
    /// True when a guest reached its init under `-accel kvm`.
    public var kvmUsable: Bool
    /// What happened, for people: "guest reached init under KVM (host-passthrough) in 0.41 s",
    /// "QEMU cannot set MSR 0x10a with -cpu host; kvm_pvm host: only PVM guest kernels run here".
    public var detail: String
    /// When the probe ran (Unix seconds).
    public var probedAtUnix: Int64
    /// How long the probe boot took (or ran until it was stopped).
    public var probeSeconds: Double
    /// The kernel release booted.
    public var kernel: String
    /// The CPU the probe guest reached init with under KVM, which guests then use:
    /// `host-passthrough`, or a named QEMU model where passthrough failed. Nil when KVM is not usable.
    public var cpuMode: String?

    /// The CPU mode passthrough, as libvirt names it.
    public static let hostPassthrough = "host-passthrough"
}

/// Probes KVM by a real boot, because `/dev/kvm` existing proves nothing (nested PVM hosts have
/// it, and a stock guest kernel hangs there). A slow KVM (nested, or a loaded host) is told from a
/// broken one by progress: the guest kernel's console output, then our init's marker. The answer
/// is cached per guest kernel, QEMU and host: a probe costs seconds.
public enum AcceleratorProbe {
    /// The marker the probe guest prints on its serial console once its init runs.
    static let marker = "INTERMODAL-PROBE-OK"
    /// A named model tried where `-cpu host` fails: the oldest x86-64 QEMU offers, so any host CPU
    /// with KVM can provide it.
    static let fallbackModel = "qemu64"

    /// How long a probe boot may go without progress. A guest kernel prints within a second on
    /// KVM; nested under emulated SVM it takes several, and its whole boot 12-35 s.
    public struct Bounds: Sendable {
        /// Until the first byte on the guest's console.
        public var firstOutput: Duration
        /// Between two console writes once it has started.
        public var stall: Duration
        /// For the whole boot, whatever the progress.
        public var total: Duration
        public static let standard = Bounds(firstOutput: .seconds(60), stall: .seconds(60), total: .seconds(300))
        public init(firstOutput: Duration, stall: Duration, total: Duration) {
            self.firstOutput = firstOutput
            self.stall = stall
            self.total = total
        }
    }

    /// The cached result if younger than `maxAge` (and for the same guest kernel, QEMU and host), else a new probe.
    public static func cachedOrProbe(maxAge: Duration = .seconds(7 * 86400), force: Bool = false) async throws(IntermodalError) -> AcceleratorProbeResult {
        let kernel = try GuestKernel.locate()
        let qemu = try await QEMUBinary.locate()
        let key = "\(kernel.version)-qemu-\(qemu.version)-host-\(HostKVM.fingerprint)"
            .filter { $0.isLetter || $0.isNumber || "-._".contains($0) }
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

    /// Boots `kernel` with bare QEMU under `-accel kvm`, first with `-cpu host`, then (where QEMU
    /// itself refused the host CPU) with ``fallbackModel``; KVM is usable if the probe's init runs.
    public static func probe(kernel: GuestKernel, qemu: QEMUBinary, bounds: Bounds = .standard) async throws(IntermodalError) -> AcceleratorProbeResult {
        let started = MonotonicInstant.now
        func result(_ cpuMode: String?, _ detail: String) -> AcceleratorProbeResult {
            AcceleratorProbeResult(
                kvmUsable: cpuMode != nil, detail: detail, probedAtUnix: Int64(time(nil)),
                probeSeconds: MonotonicInstant.now.duration(since: started).seconds,
                kernel: kernel.version, cpuMode: cpuMode)
        }
        guard access("/dev/kvm", R_OK | W_OK) == 0 else {
            return result(nil, "/dev/kvm is missing or not accessible")
        }
        let pvm = HostKVM.module == "kvm_pvm" ? "; kvm_pvm host: only PVM guest kernels run here" : ""
        let host = try await boot(kernel: kernel, qemu: qemu, acceleratorArguments: ["-accel", "kvm", "-cpu", "host"], bounds: bounds)
        switch host {
        case .reachedInit(let took):
            return result(AcceleratorProbeResult.hostPassthrough, "guest reached init under KVM (host-passthrough) in \(took.formattedSeconds)")
        case .qemuFailed where pvm.isEmpty:
            // QEMU refused the host's CPU (an MSR or feature KVM cannot give): a named model may still run.
            let named = try await boot(
                kernel: kernel, qemu: qemu, acceleratorArguments: ["-accel", "kvm", "-cpu", fallbackModel], bounds: bounds)
            if case .reachedInit(let took) = named {
                return result(fallbackModel, "guest reached init under KVM (-cpu \(fallbackModel); \(host.diagnosis(cpu: "host"))) in \(took.formattedSeconds)")
            }
            return result(nil, "\(host.diagnosis(cpu: "host")); \(named.diagnosis(cpu: fallbackModel))")
        default:
            return result(nil, host.diagnosis(cpu: "host") + pvm)
        }
    }

    /// How one probe boot ended.
    enum Outcome: Equatable {
        case reachedInit(Duration)
        /// QEMU exited before the guest ran (it could not start the CPU or KVM).
        case qemuFailed(String)
        /// Started, but the console stayed empty for the whole first-output bound.
        case noOutput(Duration)
        /// The console stopped changing for the stall bound; the last line it showed.
        case stalled(after: Duration, lastLine: String)
        /// Output kept coming, but init was not reached within the total bound.
        case timedOut(Duration)
        /// The guest stopped (QEMU exited) without the marker: a panic, or a reboot.
        case ended(String)

        /// Words a person can act on.
        func diagnosis(cpu: String) -> String {
            switch self {
            case .reachedInit(let d): return "guest reached init under KVM with -cpu \(cpu) in \(d.formattedSeconds)"
            case .qemuFailed(let err):
                if let msr = err.firstMatch(of: /(?i)msr[ (]*0x[0-9a-f]+/) {
                    let number = msr.output.split(whereSeparator: { $0 == " " || $0 == "(" }).last ?? ""
                    return "QEMU cannot set MSR \(number) with -cpu \(cpu) (\(err))"
                }
                return "QEMU with -accel kvm -cpu \(cpu) failed: \(err)"
            case .noOutput(let d):
                return "no console output after \(d.formattedSeconds) under KVM with -cpu \(cpu) (the guest kernel does not run)"
            case .stalled(let d, let line):
                return "the guest's console stopped after \(d.formattedSeconds) under KVM with -cpu \(cpu); its last line: \(line)"
            case .timedOut(let d): return "the guest did not reach init within \(d.formattedSeconds) under KVM with -cpu \(cpu)"
            case .ended(let line): return "the guest stopped before its init under KVM with -cpu \(cpu); its last line: \(line)"
            }
        }
    }

    /// Boots `kernel` with bare QEMU and the probe initramfs, watching its console: QEMU is killed
    /// when the console stays empty or stops changing for longer than `bounds` allow.
    static func boot(kernel: GuestKernel, qemu: QEMUBinary, acceleratorArguments: [String], bounds: Bounds) async throws(IntermodalError) -> Outcome {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-kvm-probe")
        defer { try? FileSystem.removeTree(dir) }
        let initrd = dir.appending("probe.cpio")
        let console = dir.appending("console.log")
        let pidFile = dir.appending("qemu.pid")
        try FileSystem.writeAtomically(try probeInitramfs(), to: initrd)
        try FileSystem.writeAtomically([], to: console)
        let started = MonotonicInstant.now
        let watcher = Task { await watch(console: console, pidFile: pidFile, bounds: bounds, started: started) }
        // The kernel is not quiet: its messages are the progress the watcher judges, from its
        // first instructions on (earlycon) rather than once the serial driver has registered.
        let r = try await HostCommand.run(
            "timeout", ["-s", "KILL", "\(bounds.total.components.seconds)", qemu.path.string] + acceleratorArguments + [
                "-m", "128", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "file:\(console.string)", "-pidfile", pidFile.string,
                "-kernel", kernel.path.string, "-initrd", initrd.string,
                "-append", "earlycon=uart8250,io,0x3f8,115200 console=ttyS0 panic=-1 rdinit=/init"])
        watcher.cancel()
        let stopped = await watcher.value
        let text = (try? FileSystem.readString(console)) ?? ""
        let took = MonotonicInstant.now.duration(since: started)
        if text.contains(marker) { return .reachedInit(took) }
        if let stopped { return stopped }
        if r.exitCode == 124 || r.signal == SIGKILL || r.exitCode == 137 { return .timedOut(bounds.total) }
        let lastLine = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        if text.isEmpty && r.exitCode != 0 {
            let err = r.standardError.trimmingTrailingWhitespace.split(separator: "\n").suffix(2).joined(separator: "; ")
            let how = r.exitCode.map { "exit status \($0)" } ?? "signal \(r.signal ?? 0)"
            return .qemuFailed(err.isEmpty ? how : err)
        }
        return .ended(lastLine)
    }

    /// Polls the console file until the marker shows (nil: QEMU ends by itself) or progress
    /// stops, in which case it kills QEMU and says how.
    private static func watch(console: FilePath, pidFile: FilePath, bounds: Bounds, started: MonotonicInstant) async -> Outcome? {
        var lastSize = 0
        var lastChange = started
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            let now = MonotonicInstant.now
            let bytes = (try? FileSystem.readBytes(console)) ?? []
            if bytes.count != lastSize { lastSize = bytes.count; lastChange = now }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains(marker) { return nil }
            var verdict: Outcome?
            if bytes.isEmpty, now.duration(since: started) >= bounds.firstOutput {
                verdict = .noOutput(bounds.firstOutput)
            } else if !bytes.isEmpty, now.duration(since: lastChange) >= bounds.stall {
                let line = text.split(whereSeparator: \.isNewline).last.map { String($0.prefix(160)) } ?? ""
                verdict = .stalled(after: now.duration(since: started), lastLine: line)
            }
            if let verdict {
                if let pid = (try? FileSystem.readString(pidFile)).flatMap({ Int32($0.trimmingTrailingWhitespace) }), pid > 0 {
                    kill(pid, SIGKILL)
                }
                return verdict
            }
        }
        return nil
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

/// What provides /dev/kvm on this host, as far as the host says: which the probe's diagnosis and
/// its cache key need (a kvm_pvm host runs only PVM guest kernels; L1 of the nested lab has kvm_amd).
public enum HostKVM {
    /// `kvm_intel`, `kvm_amd`, `kvm_pvm`, or nil when none is loaded or built in.
    public static var module: String? {
        ["kvm_pvm", "kvm_intel", "kvm_amd"].first { FileSystem.exists(FilePath("/sys/module/\($0)")) }
    }

    /// What this host can see of running inside a virtual machine itself (the CPU's hypervisor
    /// bit, DMI, an emulated CPU, Xen's sysfs), or nil when it sees nothing: a figure measured in a
    /// guest, KVM or not, must never pass for bare metal.
    public static var hostIsGuest: String? {
        var signs: [String] = []
        let cpu = cpuInfo(["flags", "model name"])
        if let flags = cpu["flags"], flags.split(separator: " ").contains("hypervisor") { signs.append("hypervisor CPUID bit") }
        if let model = cpu["model name"], model.contains("QEMU") || model.contains("TCG") {
            signs.append("CPU \(model)\(model.contains("TCG") ? " (emulated by QEMU TCG)" : "")")
        }
        let dmi = ["sys_vendor", "product_name"].compactMap { (try? FileSystem.readString(FilePath("/sys/class/dmi/id/\($0)")))?.trimmed }
            .filter { !$0.isEmpty }
        let virtualVendors = ["QEMU", "KVM", "VMware", "VirtualBox", "innotek", "Xen", "Microsoft Corporation", "Amazon EC2",
                              "Google", "Bochs", "Parallels", "OpenStack", "DigitalOcean", "Hetzner", "Firecracker"]
        if dmi.contains(where: { d in virtualVendors.contains { d.contains($0) } }) { signs.append("DMI \(dmi.joined(separator: " "))") }
        if let xen = (try? FileSystem.readString("/sys/hypervisor/type"))?.trimmed, !xen.isEmpty { signs.append("/sys/hypervisor: \(xen)") }
        return signs.isEmpty ? nil : "this host is itself a virtual machine: " + signs.joined(separator: "; ")
    }

    /// The host kernel, its KVM module and its CPU model: a probe's answer holds for these.
    public static var fingerprint: String {
        let model = cpuInfo(["model name"])["model name"] ?? ""
        var hash: UInt32 = 2166136261  // FNV-1a: a short, stable name for the CPU model string
        for b in model.utf8 { hash = (hash ^ UInt32(b)) &* 16777619 }
        return "\(kernelRelease)-\(module ?? "nokvm")-\(String(hash, radix: 16))"
    }

    /// The running kernel's release (`uname -r`).
    public static var kernelRelease: String {
        var uts = utsname()
        uname(&uts)
        return withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The first CPU's `fields` from one read of /proc/cpuinfo, trimmed ("model name", "flags").
    public static func cpuInfo(_ fields: Set<String>) -> [String: String] {
        var found: [String: String] = [:]
        for line in ((try? FileSystem.readString("/proc/cpuinfo")) ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmed
            if fields.contains(key), found[key] == nil { found[key] = parts[1].trimmed }
            if found.count == fields.count { break }
        }
        return found
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
