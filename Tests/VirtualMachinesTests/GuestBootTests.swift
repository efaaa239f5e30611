#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing
@testable import VirtualMachines

/// Real guests booted through libvirt (TCG here): few, bounded, and nothing left behind.
@Suite("Guests booted through libvirt", .serialized)
struct GuestBootTests {
    static func busyboxDisk() -> VirtualMachine.DiskSource {
        VirtualMachine.DiskSource(key: "test-busybox-v1") { dir throws(IntermodalError) in
            try await BusyboxRootfs.populate(at: dir)
            try FileSystem.createDirectory(dir.appending("work"))
        }
    }

    static func configuration(_ root: FilePath) -> VirtualMachineConfiguration {
        var c = VirtualMachineConfiguration()
        c.accelerator = .tcg
        c.stateRoot = root.appending("vms")
        c.cacheRoot = root.appending("cache")
        // These tests check what a guest does, not how fast it boots (the harness measures that).
        // A boot of 3 s alone took over 60 s in a cold CI run, where the workload image's apt
        // install, debootstrap and two other TCG guests shared the 2 cores: bounds far above that.
        c.initTimeout = .seconds(300)
        c.commandTimeout = .seconds(300)
        return c
    }

    @Test func runsCommandWithEnvWorkdirAndExitCode() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        var cfg = Self.configuration(root)
        cfg.network = .user   // QEMU user-mode: eth0 10.0.2.15/24, DNS 10.0.2.3
        let vm = VirtualMachine(configuration: cfg)
        let command = GuestInitramfs.RunConfiguration(
            arguments: ["sh", "-c", "echo hello from $GREETING in $(pwd); echo oops >&2; grep -c ext4 /proc/mounts; ip -4 addr show eth0; cat /etc/resolv.conf; exit 3"],
            environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=guest <&'\">"],
            workingDirectory: "/work")
        let r = try await vm.run(disk: Self.busyboxDisk(), command: command)
        let out = String(decoding: r.standardOutput, as: UTF8.self)
        #expect(out.contains("hello from guest <&'\"> in /work"))
        #expect(out.contains("1\n"))
        #expect(out.contains("inet 10.0.2.15/24"))
        #expect(out.contains("nameserver 10.0.2.3"))
        #expect(String(decoding: r.standardError, as: UTF8.self) == "oops\n")
        #expect(r.status.code == 3)
        #expect(r.accelerator == .tcg)
        for p in [Phase.create, .domainCreate, .domainStarted, .kernelStart, .initStart, .start, .commandStart, .firstOutput, .commandEnd, .exit, .domainDestroyed, .cleanup] {
            #expect(r.timestamps[p] != nil, "missing phase \(p)")
        }
        #expect(r.timestamps[.domainStarted]! < r.timestamps[.firstOutput]!)
        #expect(r.timestamps[.firstOutput]! <= r.timestamps[.commandEnd]!)
        #expect(r.timestamps[.exit]! < r.timestamps[.domainDestroyed]!)
        #expect(r.timestamps[.domainDestroyed]! <= r.timestamps[.cleanup]!)
        #expect((r.qemuMemory?.rssKiB ?? 0) > 10_000)
        #expect((r.qemuMemory?.pssKiB ?? 0) > 0)
        #expect((r.guestMemTotalKiB ?? 0) > 100_000)
        #expect((r.guestMemAvailableKiB ?? 0) > 0)
        #expect((r.baseDisk?.apparentBytes ?? 0) > (r.baseDisk?.allocatedBytes ?? 0))
        #expect((r.overlayDisk?.allocatedBytes ?? 0) > 0)
        // Nothing of this guest is left: no domain, no state directory.
        let c = try LibvirtConnection()
        #expect(c.domain(named: r.domainName) == nil)
        #expect(!FileSystem.exists(root.appending("vms/\(r.domainName)")))
    }

    /// No virtio-serial port: the init reports over the serial console instead. Also: a user name.
    @Test func reportsOverTheConsoleWithoutAPort() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        var cfg = Self.configuration(root)
        cfg.reportChannel = .console
        let r = try await VirtualMachine(configuration: cfg).run(
            disk: Self.busyboxDisk(),
            command: .init(arguments: ["sh", "-c", "echo over the console; ls /sys/class/virtio-ports 2>/dev/null | wc -l; id -u; id -g; exit 5"],
                           environment: ["PATH=/bin"], user: "nobody"))   // a name, resolved in the guest's /etc/passwd
        #expect(String(decoding: r.standardOutput, as: UTF8.self) == "over the console\n0\n65534\n65534\n")
        #expect(r.status.code == 5)
        #expect(r.timestamps[.firstOutput] != nil)
    }
}
