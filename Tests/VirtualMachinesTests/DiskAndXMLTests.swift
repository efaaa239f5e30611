#if canImport(Glibc)
import Glibc
#endif
import ImageStore
import IntermodalCore
import SystemPackage
import Testing
@testable import VirtualMachines

@Suite("Overlay disks, initramfs and domain XML (no guest)")
struct DiskAndXMLTests {
    @Test func qcow2OverlayIsValidForQEMU() async throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-qcow2")
        defer { try? FileSystem.removeTree(dir) }
        let base = dir.appending("base.ext4")
        try await HostCommand.check("truncate", ["-s", "600M", base.string])
        let overlay = dir.appending("overlay.qcow2")
        try await GuestDisk.createOverlay(base: base, at: overlay)
        try await HostCommand.check("qemu-img", ["check", "-q", "-f", "qcow2", overlay.string])
        let info = try await HostCommand.check("qemu-img", ["info", "-U", "--output=json", overlay.string])
        #expect(info.contains("\"virtual-size\": 629145600"))
        #expect(info.contains("\"backing-filename\": \"\(base.string)\""))
        #expect(info.contains("\"backing-filename-format\": \"raw\""))
        // Writes allocate clusters and keep the refcounts consistent.
        try await HostCommand.check("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 1M 128k", overlay.string])
        try await HostCommand.check("qemu-img", ["check", "-q", "-f", "qcow2", overlay.string])
        let read = try await HostCommand.check("qemu-io", ["-f", "qcow2", "-c", "read -P 0x5a 1M 128k", overlay.string])
        #expect(read.contains("read 131072/131072 bytes"))
    }

    @Test func domainXMLEscapesEverything() {
        let d = DomainDefinition(
            name: "intermodal-x", accelerator: .tcg, memoryMiB: 256, vcpus: 1,
            kernel: "/k/vm<linux>", initrd: "/i/a&b", commandLine: "console=ttyS0 x='1' y=\"2\"",
            disk: "/d/o'verlay.qcow2", channelSocket: "/s/c.sock", consoleLog: "/l/console.log")
        let xml = d.xml
        #expect(xml.contains("<domain type='qemu'>"))
        #expect(xml.contains("<kernel>/k/vm&lt;linux&gt;</kernel>"))
        #expect(xml.contains("<initrd>/i/a&amp;b</initrd>"))
        #expect(xml.contains("x=&apos;1&apos; y=&quot;2&quot;"))
        #expect(xml.contains("file='/d/o&apos;verlay.qcow2'"))
        #expect(xml.contains("<controller type='usb' model='none'/>"))
        #expect(xml.contains("<memballoon model='none'/>"))
        #expect(!xml.contains("<graphics"))
        var kvm = d
        kvm.accelerator = .kvm
        kvm.network = .bridge("br<0>")
        #expect(kvm.xml.contains("<domain type='kvm'>"))
        #expect(kvm.xml.contains("<cpu mode='host-passthrough'/>"))
        #expect(kvm.xml.contains("<source bridge='br&lt;0&gt;'/>"))
    }

    @Test func initramfsIsNewcWithConfigurationRecords() throws {
        var w = InitramfsWriter()
        w.addDirectory("intermodal")
        w.addFile("intermodal/config", contents: Array("aecho\u{0}".utf8))
        let bytes = w.finish()
        #expect(Array(bytes.prefix(6)) == Array("070701".utf8))
        #expect(bytes.count % 4 == 0)
        #expect(String(decoding: bytes, as: UTF8.self).contains("TRAILER!!!"))
        let run = GuestInitramfs.RunConfiguration(arguments: ["sh", "-c", "echo 'a b'"], environment: ["A=1"], workingDirectory: "/w", user: "nobody")
        let config = try GuestInitramfs.configurationArchive(run, modules: ["/lib/modules/x.ko"])
        let text = String(decoding: config, as: UTF8.self)
        #expect(text.contains("m/lib/modules/x.ko\u{0}ash\u{0}a-c\u{0}aecho 'a b'\u{0}eA=1\u{0}w/w\u{0}unobody\u{0}"))
        #expect(throws: IntermodalError.self) {
            _ = try GuestInitramfs.configurationArchive(.init(arguments: ["a\u{0}b"], environment: []), modules: [])
        }
    }

    @Test func modulesResolveWithDependenciesFirst() throws {
        let kernel = try GuestKernel.locate()
        let files = try GuestInitramfs.resolveModules(["ext4"], kernel: kernel).map { $0.lastComponent!.string }
        if let ext4 = files.firstIndex(of: "ext4.ko") {
            #expect(ext4 == files.count - 1)
            #expect(files.contains("jbd2.ko"))
        }
        #expect(throws: IntermodalError.self) { _ = try GuestInitramfs.resolveModules(["no_such_module_intermodal"], kernel: kernel) }
    }
}

@Suite("What an image runs in a guest")
struct ImageRunConfigurationTests {
    func image(_ config: ImageConfiguration.ContainerConfig?) -> Image {
        Image(reference: nil, manifestDigest: "sha256:" + String(repeating: "a", count: 64),
              configDigest: "sha256:" + String(repeating: "b", count: 64),
              configuration: ImageConfiguration(config: config), layers: [])
    }

    @Test func entrypointCmdEnvWorkdirUserLikeDocker() throws {
        let img = image(.init(user: "app:staff", env: ["A=1"], entrypoint: ["/bin/tini", "--"], cmd: ["serve"], workingDir: "/srv"))
        let own = try VirtualMachine.runConfiguration(image: img, overrides: .init())
        #expect(own.arguments == ["/bin/tini", "--", "serve"])
        #expect(own.environment.first == "A=1")
        #expect(own.environment.contains { $0.hasPrefix("PATH=") })   // Docker's default when the image has none
        #expect(own.workingDirectory == "/srv")
        #expect(own.user == "app:staff")
        let given = try VirtualMachine.runConfiguration(image: img, overrides: .init(command: ["echo", "hi"]))
        #expect(given.arguments == ["/bin/tini", "--", "echo", "hi"])
        #expect(try VirtualMachine.runConfiguration(image: image(.init(user: "root", cmd: ["sh"])), overrides: .init()).user == nil)
    }

    @Test func imageWithoutCommandNeedsOne() {
        #expect {
            _ = try VirtualMachine.runConfiguration(image: image(.init()), overrides: .init())
        } throws: { ($0 as? IntermodalError)?.message.contains("no Entrypoint or Cmd") == true }
    }
}
