import IntermodalCore
import SystemPackage
import Testing
@testable import VirtualMachines

@Suite("Guest kernel, KVM probe, libvirt connection")
struct HostFactsTests {
    @Test func locatesNewestKernel() throws {
        let k = try GuestKernel.locate()
        #expect(k.path.string.hasPrefix("/boot/vmlinuz-"))
        #expect(!k.version.isEmpty && k.version != "unknown")
        #expect(GuestKernel.versionLess("6.1.0-9-amd64", "6.1.0-56-amd64"))
        #expect(!GuestKernel.versionLess("6.10.0-1-amd64", "6.9.0-1-amd64"))
    }

    @Test func namedMissingKernelIsAClearError() {
        #expect {
            _ = try GuestKernel.locate(preferred: "/nonexistent/vmlinuz-1")
        } throws: { ($0 as? IntermodalError)?.message.contains("/nonexistent/vmlinuz-1") == true }
    }

    @Test func decompressesKernelToELF() async throws {
        let cache = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-cache")
        defer { try? FileSystem.removeTree(cache) }
        let elf = try await GuestKernel.locate().decompressedELF(cacheRoot: cache)
        let head = try FileSystem.readBytes(elf).prefix(4)
        #expect(Array(head) == [0x7F, 0x45, 0x4C, 0x46])
        // Second call hits the cache.
        #expect(try await GuestKernel.locate().decompressedELF(cacheRoot: cache) == elf)
    }

    @Test func probeBootsForReal() async throws {
        let result = try await AcceleratorProbe.probe(kernel: GuestKernel.locate(), qemu: QEMUBinary.locate())
        #expect(!result.detail.isEmpty)
        #expect(result.probeSeconds > 0)
        if result.kvmUsable {
            #expect(result.detail.contains("reached init under KVM"))
            #expect(result.cpuMode != nil)
        } else {
            #expect(result.cpuMode == nil)
            #expect(result.detail.contains("KVM") || result.detail.contains("kvm"), "\(result.detail)")
        }
        // A nested PVM host (this project's reference host) gets a diagnosis a person can act on.
        if HostKVM.module == "kvm_pvm" {
            #expect(!result.kvmUsable)
            #expect(result.detail.contains("kvm_pvm host: only PVM guest kernels run here"), "\(result.detail)")
            #expect(result.detail.contains("MSR 0x10a") || result.detail.contains("no console output"), "\(result.detail)")
        }
    }

    /// The probe's positive path, checked where it can be: the same probe guest under TCG
    /// reaches init and prints the marker (so a working KVM would be recognised).
    @Test func probeGuestReachesInitUnderTCG() async throws {
        // TCG on a loaded host (a cold suite with nested labs beside it) is far slower than any
        // KVM: bounds for it, not the probe's (seen: no console byte within 60 s under that load).
        let tcg = AcceleratorProbe.Bounds(firstOutput: .seconds(240), stall: .seconds(240), total: .seconds(300))
        let outcome = try await AcceleratorProbe.boot(
            kernel: GuestKernel.locate(), qemu: QEMUBinary.locate(), acceleratorArguments: ["-accel", "tcg"], bounds: tcg)
        guard case .reachedInit = outcome else { Issue.record("outcome: \(outcome)"); return }
    }

    /// Progress, not a fixed time, decides: a guest whose CPU never runs (QEMU's -S) prints
    /// nothing and is stopped once the first-output bound passes, with words that say so.
    @Test func aGuestThatPrintsNothingIsStoppedAndSaidSo() async throws {
        let bounds = AcceleratorProbe.Bounds(firstOutput: .seconds(2), stall: .seconds(60), total: .seconds(120))
        let outcome = try await AcceleratorProbe.boot(
            kernel: GuestKernel.locate(), qemu: QEMUBinary.locate(), acceleratorArguments: ["-accel", "tcg", "-S"], bounds: bounds)
        // Stopped by the first-output bound: the total bound would say .timedOut.
        #expect(outcome == .noOutput(.seconds(2)))
        #expect(outcome.diagnosis(cpu: "host").contains("no console output after 2.00 s"))
        let msr = AcceleratorProbe.Outcome.qemuFailed("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69")
        #expect(msr.diagnosis(cpu: "host").hasPrefix("QEMU cannot set MSR 0x10a with -cpu host"))
    }

    /// A figure measured in a guest must say so: this host can see whether it is one.
    @Test func hostSaysWhetherItIsAGuest() throws {
        let cpuinfo = try FileSystem.readString("/proc/cpuinfo")
        let flagged = cpuinfo.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("hypervisor") }
        if flagged { #expect(HostKVM.hostIsGuest?.contains("hypervisor CPUID bit") == true) }
        #expect(HostKVM.fingerprint.contains(HostKVM.module ?? "nokvm"))
    }

    @Test func libvirtVersions() throws {
        let c = try LibvirtConnection()
        #expect(try c.libvirtVersion().split(separator: ".").count == 3)
        #expect(try c.hypervisorVersion().split(separator: ".").count == 3)
    }

    @Test func unreachableLibvirtNamesURIAndHint() {
        #expect {
            _ = try LibvirtConnection(uri: "qemu+unix:///system?socket=/nonexistent/intermodal.sock")
        } throws: { e in
            let m = (e as? IntermodalError)?.description ?? ""
            return m.contains("/nonexistent/intermodal.sock") && m.contains("libvirtd -d")
        }
    }
}
