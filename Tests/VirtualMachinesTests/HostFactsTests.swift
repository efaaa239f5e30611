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
        // On this nested-PVM host KVM hangs; elsewhere it may work. Either way the detail says which.
        if result.kvmUsable { #expect(result.detail.contains("KVM")) } else { #expect(result.detail.contains("KVM") || result.detail.contains("kvm")) }
    }

    /// The probe's positive path, checked where it can be: the same probe guest under TCG
    /// reaches init and prints the marker (so a working KVM would be recognised).
    @Test func probeGuestReachesInitUnderTCG() async throws {
        let r = try await AcceleratorProbe.bootToMarker(
            kernel: GuestKernel.locate(), qemu: QEMUBinary.locate(), acceleratorArguments: ["-accel", "tcg"], seconds: 60)
        #expect(r.standardOutput.contains(AcceleratorProbe.marker), "output: \(r.standardOutput.suffix(300))")
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
