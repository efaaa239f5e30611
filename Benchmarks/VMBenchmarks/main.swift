// vm-boot-benchmark: create call -> first byte of the command's output, our libvirt path against
// bare qemu-system-x86_64 booting the same kernel ELF, initramfs, disk and devices, interleaved
// in the same run so both see the same host load.
//
//   swift run -c release vm-boot-benchmark [RUNS [RESULT.json]]     (root; libvirtd running)
//
// RESULT.json gets every sample (seconds), so a report can show the spread, not just medians.
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage
import VirtualMachines

@main
enum VMBootBenchmark {
    static func main() async {
        let args = Array(CommandLine.arguments.dropFirst())
        let runs = args.first.flatMap { Int($0) } ?? 5
        do {
            try await measure(runs: runs, json: args.count > 1 ? FilePath(args[1]) : nil)
        } catch {
            StandardStreams.writeError("vm-boot-benchmark: error: \(error)\n")
            exit(1)
        }
    }

    /// Every sample of one benchmark run, for reports.
    struct Samples: Codable {
        var benchmark = "vm-boot: create call -> first byte of output"
        var accelerator: String
        var runs: Int
        var kernelCommandLine: String
        var libvirtCreateToFirstOutputSeconds: [Double]
        var libvirtDomainCreateToFirstOutputSeconds: [Double]
        var bareQEMUCreateToFirstOutputSeconds: [Double]
        var bareQEMUSpawnToFirstOutputSeconds: [Double]
        var ratioOfMedians: Double
    }

    static func measure(runs: Int, json: FilePath?) async throws(IntermodalError) {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vm-bench")
        defer { try? FileSystem.removeTree(root) }
        var cfg = VirtualMachineConfiguration()
        cfg.accelerator = .auto
        cfg.stateRoot = root.appending("vms")
        // For experiments with the guest kernel's command line (applies to both paths alike).
        if let extra = getenvString("INTERMODAL_BENCH_KERNEL_ARGS") {
            cfg.kernelArguments = extra.split(separator: " ").map(String.init)
        }
        // The cache is shared with real use: the base disk and kernel ELF are made once, as in practice.
        let disk = VirtualMachine.DiskSource(key: "benchmark-busybox-v1") { dir throws(IntermodalError) in
            try await BusyboxRootfs.populate(at: dir)
        }
        let command = GuestInitramfs.RunConfiguration(arguments: ["echo", "ready"], environment: ["PATH=/bin:/usr/bin"])
        let vm = VirtualMachine(configuration: cfg)
        // Warm-up: builds the cached kernel ELF, base disk and initramfs base; not counted.
        _ = try await vm.run(disk: disk, command: command)
        var ours: [Double] = [], oursFromDefine: [Double] = [], bare: [Double] = [], bareFromSpawn: [Double] = []
        var accel = ""
        for i in 1...runs {
            let r = try await vm.run(disk: disk, command: command)
            accel = r.accelerator.rawValue
            let b = try await BareQEMU.run(configuration: cfg, disk: disk, command: command, accelerator: r.accelerator)
            ours.append(r.timestamps.duration(from: .create, to: .firstOutput)!.seconds)
            oursFromDefine.append(r.timestamps.duration(from: .domainCreate, to: .firstOutput)!.seconds)
            bare.append(b.timestamps.duration(from: .create, to: .firstOutput)!.seconds)
            bareFromSpawn.append(b.timestamps.duration(from: .domainCreate, to: .firstOutput)!.seconds)
            StandardStreams.writeOutput(
                "run \(i): libvirt create->first output \(ms(ours.last!)) (virDomainCreateXML->first output \(ms(oursFromDefine.last!))); "
                    + "bare QEMU create->first output \(ms(bare.last!)) (spawn->first output \(ms(bareFromSpawn.last!)))\n")
        }
        let ratio = median(ours) / median(bare)
        // Each pair ran back to back, so its ratio is less disturbed by the host's load drifting.
        let paired = zip(ours, bare).map { $0 / $1 }
        if let json {
            let samples = Samples(
                accelerator: accel, runs: runs, kernelCommandLine: VirtualMachine.commandLine(cfg),
                libvirtCreateToFirstOutputSeconds: ours, libvirtDomainCreateToFirstOutputSeconds: oursFromDefine,
                bareQEMUCreateToFirstOutputSeconds: bare, bareQEMUSpawnToFirstOutputSeconds: bareFromSpawn,
                ratioOfMedians: ratio)
            try FileSystem.writeAtomically(try JSON.encode(samples, pretty: true) + [10], to: json)
        }
        StandardStreams.writeOutput("""
            accelerator: \(accel == "tcg" ? "tcg (software emulation)" : accel); n=\(runs) each, interleaved
            libvirt (ours)   create->first output: median \(ms(median(ours))) mean \(ms(mean(ours))) sd \(ms(sd(ours))) min \(ms(ours.min()!)) max \(ms(ours.max()!))
            bare QEMU        create->first output: median \(ms(median(bare))) mean \(ms(mean(bare))) sd \(ms(sd(bare))) min \(ms(bare.min()!)) max \(ms(bare.max()!))
            libvirt virDomainCreateXML->first output median \(ms(median(oursFromDefine))); bare spawn->first output median \(ms(median(bareFromSpawn)))
            ratio of medians (ours / bare): \(String(format2(ratio))) (target <= 1.15); per-pair ratios: median \(format2(median(paired))) min \(format2(paired.min()!)) max \(format2(paired.max()!))

            """)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    static func sd(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = mean(xs)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
    }

    static func ms(_ s: Double) -> String { "\(Int((s * 1000).rounded())) ms" }
    static func format2(_ x: Double) -> String {
        let v = Int((x * 100).rounded())
        return "\(v / 100).\(String(v % 100).count == 1 ? "0" : "")\(v % 100)"
    }
}
