#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ImageStore
import IntermodalCore
import SystemPackage
import Testing
@testable import VirtualMachines

/// The full-OS guest's pieces that need no guest: its MBR, its domain XML, and writing into an
/// image's tree.
@Suite("Full guest disk and domain (no guest)")
struct FullGuestDiskTests {
    @Test func masterBootRecordHoldsGRUBAndOnePartition() async throws {
        let boot = try FileSystem.readBytes(FullGuestImage.grubDirectory.appending("boot.img"))
        let mbr = try MasterBootRecord.sector(bootCode: boot, partitionStart: 2048, partitionSectors: 409_600, coreSector: 1)
        #expect(mbr.count == 512)
        #expect(Array(mbr[0..<0x5c]) == Array(boot[0..<0x5c]))
        #expect(Array(mbr[0x5c..<0x64]) == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(mbr[0x66..<0x68]) == [0x90, 0x90])
        #expect(Array(mbr[0x68..<440]) == Array(boot[0x68..<440]))
        #expect(mbr[510] == 0x55 && mbr[511] == 0xAA)
        // sfdisk reads the table back as fdisk would have written it.
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-mbr")
        defer { try? FileSystem.removeTree(dir) }
        let disk = dir.appending("disk.raw")
        try await HostCommand.check("truncate", ["-s", "\(1 + 200)M", disk.string])
        try FullGuestImage.writeAt(disk, offset: 0, bytes: mbr)
        let dump = try await HostCommand.check("sfdisk", ["--dump", disk.string])
        #expect(dump.contains("label: dos"))
        #expect(dump.contains("start=        2048, size=      409600, type=83, bootable"))
        // A bad boot sector is refused, naming it.
        #expect(throws: IntermodalError.self) {
            _ = try MasterBootRecord.sector(bootCode: [UInt8](repeating: 0, count: 512), partitionStart: 2048, partitionSectors: 8, coreSector: 1)
        }
    }

    @Test func firmwareDomainHasAgentChannelAndNoKernel() {
        var d = DomainDefinition(
            name: "intermodal-x", accelerator: .tcg, memoryMiB: 512, vcpus: 1, kernel: nil, initrd: nil,
            commandLine: "root=UUID=u ro", disk: "/d/disk.qcow2", channelSocket: nil, consoleLog: "/d/console.log")
        d.guestAgent = true
        let xml = d.xml
        #expect(xml.contains("<boot dev='hd'/>"))
        #expect(!xml.contains("<kernel>") && !xml.contains("<cmdline>"))
        #expect(xml.contains("<target type='virtio' name='org.qemu.guest_agent.0'/>"))
        #expect(xml.contains("<source mode='bind'/>"))
        // Direct kernel boot of the guest's own kernel keeps the kernel and its command line.
        d.kernel = "/c/vmlinuz"
        d.initrd = "/c/initrd.img"
        #expect(d.xml.contains("<kernel>/c/vmlinuz</kernel>") && d.xml.contains("<cmdline>root=UUID=u ro</cmdline>"))
        #expect(!d.xml.contains("<boot dev='hd'/>"))
    }

    @Test func uuidFromKeyIsStableAndWellFormed() {
        let u = FullGuestImage.uuid(fromHex: "0123456789abcdef0123456789abcdef0123")
        #expect(u == "01234567-89ab-4def-8123-456789abcdef")
        #expect(FullGuestImage.uuid(fromHex: "ffffffffffffffffffffffffffffffff") == "ffffffff-ffff-4fff-bfff-ffffffffffff")
    }

    /// An image whose /etc is a link to a host directory gets nothing written through it.
    @Test func treeWriterDoesNotFollowTheImagesLinks() throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-tree")
        defer { try? FileSystem.removeTree(dir) }
        let outside = dir.appending("outside")
        let tree = dir.appending("tree")
        try FileSystem.createDirectory(outside)
        try FileSystem.createDirectory(tree)
        #expect(symlink(outside.string, tree.appending("etc").string) == 0)
        #expect(throws: IntermodalError.self) { try TreeWriter.write("x\n", to: "etc/fstab", in: tree) }
        #expect(!FileSystem.exists(outside.appending("fstab")))
        try TreeWriter.write("y\n", to: "boot/grub/grub.cfg", in: tree)
        #expect(try FileSystem.readString(tree.appending("boot/grub/grub.cfg")) == "y\n")
    }

    /// A stand-in installed system (no real kernel: nothing boots it) through the whole build.
    static func fakeInstalledSystem(key: String) -> VirtualMachine.DiskSource {
        VirtualMachine.DiskSource(key: key) { tree throws(IntermodalError) in
            for dir in ["boot", "etc", "lib/systemd", "usr/sbin"] { try FileSystem.createDirectory(tree.appending(dir)) }
            try FileSystem.writeAtomically(Array("kernel".utf8), to: tree.appending("boot/vmlinuz-6.1.0-9-amd64"))
            try FileSystem.writeAtomically(Array("initrd".utf8), to: tree.appending("boot/initrd.img-6.1.0-9-amd64"))
            try FileSystem.writeAtomically(Array("old".utf8), to: tree.appending("boot/vmlinuz-6.1.0-10-amd64.bak"))
            try FileSystem.writeAtomically(Array("systemd".utf8), to: tree.appending("lib/systemd/systemd"))
            try FileSystem.writeAtomically(Array("qemu-ga".utf8), to: tree.appending("usr/sbin/qemu-ga"))
        }
    }

    @Test func builtDiskHasPartitionTableGRUBAndExt4AtItsOffset() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-fulldisk")
        defer { try? FileSystem.removeTree(root) }
        let source = Self.fakeInstalledSystem(key: "test-fake-installed-v1")
        let disk = try await FullGuestImage.disk(source: source, boot: .firmware, cacheRoot: root, freeSpace: 16 << 20)
        #expect(disk.info.bootMethod == .firmware)
        #expect(disk.info.kernelVersion == "6.1.0-9-amd64")
        #expect(disk.info.commandLine == "root=UUID=\(disk.info.rootUUID) ro console=ttyS0,115200 quiet")
        let dump = try await HostCommand.check("sfdisk", ["--dump", disk.image.string])
        #expect(dump.contains("start=        2048,") && dump.contains("type=83, bootable"))
        // The root file system sits at the partition's offset, with the UUID fstab and GRUB name.
        let probe = try await HostCommand.check("blkid", ["-p", "-O", "1048576", "-o", "export", disk.image.string])
        #expect(probe.contains("TYPE=ext4") && probe.contains("UUID=\(disk.info.rootUUID)"))
        // GRUB's core image follows the MBR (its first sector is diskboot.img, loaded by boot.img).
        let head = try FileSystem.readBytes(disk.image).prefix(1024)
        let boot = try FileSystem.readBytes(FullGuestImage.grubDirectory.appending("boot.img"))
        #expect(Array(head[0..<0x5c]) == Array(boot[0..<0x5c]))
        #expect(head[512..<1024].contains { $0 != 0 })
        // Cached by its inputs: asked again, the same disk without a rebuild.
        let again = try await FullGuestImage.disk(source: source, boot: .firmware, cacheRoot: root, freeSpace: 16 << 20)
        #expect(again.directory == disk.directory && again.info == disk.info)
        // Direct kernel boot is another disk, with the guest's own kernel and initramfs beside it.
        let direct = try await FullGuestImage.disk(source: source, boot: .directKernel, cacheRoot: root, freeSpace: 16 << 20)
        #expect(direct.directory != disk.directory)
        #expect(try FileSystem.readString(direct.kernel) == "kernel" && FileSystem.readString(direct.initrd) == "initrd")
        #expect(try FileSystem.readBytes(direct.image).prefix(440).allSatisfy { $0 == 0 })
    }

    @Test func agentRequestsAndAnswersAreQemuGAsJSON() throws {
        let request = GuestAgent.Request(execute: "guest-exec", arguments: .exec(.init(
            path: "/bin/sh", arg: ["-c", "true"], env: nil, inputData: nil, captureOutput: true)))
        let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        #expect(json.contains(#""execute":"guest-exec""#) && json.contains(#""capture-output":true"#))
        #expect(!json.contains("env") && !json.contains("input-data"))
        let answer = #"{"return":{"exitcode":3,"out-data":"aGVsbG8K","err-data":"b29wcwo=","exited":true}}"#
        let status = try JSONDecoder().decode(GuestAgent.Answer<GuestAgent.StatusReturn>.self, from: Data(answer.utf8)).return
        #expect(status.exited && status.exitcode == 3 && status.outData == "aGVsbG8K" && status.signal == nil)
    }

    @Test func imageWithoutAKernelIsRefusedNamingWhatIsMissing() throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-tree")
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.createDirectory(dir.appending("boot"))
        do {
            _ = try FullGuestImage.InstalledSystem.inspect(dir, source: "image-x")
            Issue.record("a tree without a kernel was accepted")
        } catch {
            #expect(error.message.contains("image-x has no kernel in /boot"))
        }
    }
}

/// One real full-OS guest through libvirt (TCG here): firmware, GRUB, Debian's kernel and
/// systemd, commands through the guest agent; nothing left behind.
@Suite("Full guest booted through libvirt", .serialized)
struct FullGuestBootTests {
    @Test(.timeLimit(.minutes(20)))
    func bootsRunsThroughTheAgentAndLeavesNothing() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-full")
        defer { try? FileSystem.removeTree(root) }
        let store = try ImageStore(root: root.appending("store"))
        // debootstrap's layer is cached by its inputs under the shared cache root (minutes to
        // make once); the disk is built under this test's own root and goes with it.
        let image = try await FullGuestImage.bootstrap(store: store, name: try ImageReference.parse("debian-full:test"))
        var cfg = FullGuestConfiguration()
        cfg.accelerator = .tcg
        cfg.stateRoot = root.appending("vms")
        cfg.cacheRoot = root.appending("cache")
        cfg.bootTimeout = .seconds(600)
        cfg.commandTimeout = .seconds(300)
        let disk = try await FullGuestImage.disk(
            source: VirtualMachine.diskSource(image: image, store: store), boot: .auto, cacheRoot: cfg.cacheRoot)
        #expect(disk.info.bootMethod == .firmware)
        #expect(FileSystem.exists(disk.image))

        let guest = try await FullGuest(configuration: cfg).boot(disk: disk)
        let r = try await guest.exec(.init(
            arguments: ["sh", "-c", "echo hello from $GREETING in $(pwd) on $(cat /etc/hostname); echo oops >&2; exit 3"],
            environment: ["PATH=/usr/bin:/bin", "GREETING=the full guest"], workingDirectory: "/tmp"))
        #expect(String(decoding: r.standardOutput, as: UTF8.self) == "hello from the full guest in /tmp on debian-full\n")
        #expect(String(decoding: r.standardError, as: UTF8.self) == "oops\n")
        #expect(r.status.code == 3)
        #expect(r.timestamps[.commandStart]! <= r.timestamps[.commandEnd]!)
        let asNobody = try await guest.exec(.init(arguments: ["id", "-u"], environment: ["PATH=/usr/bin:/bin"], user: "nobody"))
        #expect(String(decoding: asNobody.standardOutput, as: UTF8.self) == "65534\n")
        let missing = try await guest.exec(.init(arguments: ["no-such-program"], environment: ["PATH=/usr/bin:/bin"]))
        #expect(missing.status.code == 127)

        let memory = try await guest.memory()
        #expect((memory.qemu?.pssKiB ?? 0) > 50_000)
        #expect((memory.guestMemTotalKiB ?? 0) > 300_000)
        #expect((memory.guestMemAvailableKiB ?? 0) > 0)
        let phases = try await guest.bootPhases()
        #expect(phases.kernelMicroseconds > 0 && phases.userspaceMicroseconds > 0)
        #expect(phases.systemdAnalyze.hasPrefix("Startup finished in"))
        #expect((phases.hostFirmwareMicroseconds ?? 0) > 0)
        #expect((phases.hostLoaderMicroseconds ?? 0) > 0)
        let marks = await guest.timestamps
        for p in [Phase.create, .domainCreate, .domainStarted, .consoleFirstByte, .kernelStart, .userspaceStart, .agentReady, .bootFinished] {
            #expect(marks[p] != nil, "missing phase \(p)")
        }
        #expect(marks[.domainStarted]! < marks[.consoleFirstByte]!)
        #expect(marks[.consoleFirstByte]! < marks[.kernelStart]!)
        #expect(marks[.kernelStart]! < marks[.userspaceStart]!)
        #expect(marks[.userspaceStart]! < marks[.agentReady]!)
        #expect((GuestDisk.sizes(of: guest.overlay)?.allocatedBytes ?? 0) > 0)
        print("full guest boot (TCG, \(disk.info.bootMethod.rawValue)): firmware \(phases.hostFirmwareMicroseconds! / 1000) ms, loader \(phases.hostLoaderMicroseconds! / 1000) ms, "
            + "kernel+initramfs \(phases.kernelMicroseconds / 1000) ms, userspace \(phases.userspaceMicroseconds / 1000) ms, "
            + "domain started to agent \(Int(marks.duration(from: .domainStarted, to: .agentReady)!.seconds * 1000)) ms; \(phases.systemdAnalyze)")

        try await guest.destroy()
        let after = await guest.timestamps
        #expect(after[.domainDestroyed] != nil && after[.cleanup] != nil)
        let c = try LibvirtConnection()
        #expect(c.domain(named: guest.name) == nil)
        #expect(!FileSystem.exists(cfg.stateRoot.appending(guest.name)))
        // Commands to a destroyed guest are refused, saying so.
        await #expect(throws: IntermodalError.self) { _ = try await guest.exec(.init(arguments: ["true"], environment: [])) }
    }
}
