#if canImport(Glibc)
import Glibc
#endif
import Crypto
import FoundationEssentials
import ImageStore
import IntermodalCore
import Logging
import SystemPackage

/// The disk of a full-OS guest: a Debian image that carries what an installed system has (its
/// own kernel and initramfs, systemd, the QEMU guest agent), laid out as an installer would:
/// an MBR partition table, GRUB's i386-pc boot code in the MBR and the gap after it, and one
/// ext4 root partition.
///
/// Built entirely on image files, as an unprivileged tool could: `mkfs.ext4 -d` writes the
/// partition straight into the disk file at its offset, the MBR (boot code, partition entry)
/// and GRUB's core image (`grub-mkimage`) are written by us the way `grub-bios-setup` does.
/// No loop device, no mount, nothing of the host's touched. Where GRUB's i386-pc files are
/// missing, the disk is made for direct kernel boot of the guest's own kernel and initramfs
/// instead, and every result says so.
public enum FullGuestImage {
    /// What `--include` adds to debootstrap's minbase for a full guest.
    public static let packages = ["linux-image-amd64", "initramfs-tools", "zstd", "systemd-sysv", "udev", "qemu-guest-agent"]

    /// Bumped whenever the disk layout or the files written into the tree change: part of the cache key.
    static let recipeVersion = "full-disk-v1"

    /// The GRUB files for BIOS boot (Debian's grub-pc-bin).
    public static let grubDirectory: FilePath = "/usr/lib/grub/i386-pc"

    /// The root partition starts at 1 MiB (sector 2048), as every installer does: sectors 1-2047
    /// hold GRUB's core image.
    static let partitionStartSector = 2048
    static let sectorSize = 512

    /// The Debian image of a full guest, made by debootstrap (minbase plus ``packages`` and
    /// `extraPackages`) and cached by those inputs, then stored as `name`.
    public static func bootstrap(
        store: ImageStore, name: ImageReference, suite: String = "bookworm", mirror: String? = nil,
        extraPackages: [String] = [], cacheRoot: FilePath = IntermodalPaths.cacheRoot
    ) async throws(IntermodalError) -> Image {
        let bootstrap = try DebianBootstrap(suite: suite, variant: "minbase", mirror: mirror,
                                            include: packages + extraPackages, cacheRoot: cacheRoot)
        let log = IntermodalLog.logger("vm.full")
        log.info("full guest image \(name): debootstrap \(suite) minbase --include=\((packages + extraPackages).joined(separator: ",")) (cached in \(bootstrap.cacheDirectory))")
        let started = MonotonicInstant.now
        let image = try await store.bootstrapDebian(name: name, bootstrap: bootstrap)
        log.info("full guest image \(name): ready in \(MonotonicInstant.now.duration(since: started).formattedSeconds) (\(image.manifestDigest))")
        return image
    }

    /// How the guest's kernel is started.
    public enum BootMethod: String, Sendable, Codable {
        /// SeaBIOS loads GRUB from the disk's MBR, GRUB loads the kernel and initramfs from /boot.
        case firmware
        /// QEMU loads the guest's own /boot kernel and initramfs (no boot loader runs).
        case directKernel
    }

    /// Which boot method to build for.
    public enum BootChoice: String, Sendable, Codable {
        /// ``BootMethod/firmware`` when GRUB's i386-pc files are installed, else direct kernel boot.
        case auto, firmware, directKernel
    }

    /// ``BootMethod/firmware`` when this host can build a GRUB disk.
    public static func resolve(_ choice: BootChoice) throws(IntermodalError) -> BootMethod {
        let canFirmware = grubAvailable
        switch choice {
        case .directKernel: return .directKernel
        case .auto: return canFirmware ? .firmware : .directKernel
        case .firmware:
            guard canFirmware else {
                throw IntermodalError(
                    .unsupported, "cannot build a GRUB disk: \(grubDirectory)/boot.img or grub-mkimage is missing (apt-get install grub-pc-bin, or run scripts/setup)")
            }
            return .firmware
        }
    }

    static var grubAvailable: Bool {
        FileSystem.exists(grubDirectory.appending("boot.img")) && FileSystem.exists(grubDirectory.appending("kernel.img"))
            && HostCommand.find("grub-mkimage") != nil
    }

    /// The cached bootable disk for `source` (an image's tree), built when missing.
    public static func disk(
        source: VirtualMachine.DiskSource, boot: BootChoice = .auto, cacheRoot: FilePath = IntermodalPaths.cacheRoot,
        freeSpace: Int64 = GuestDisk.defaultFreeSpace
    ) async throws(IntermodalError) -> FullGuestDisk {
        let method = try resolve(boot)
        let key = Digest.hex(Digest.sha256(Array("\(recipeVersion)|\(method.rawValue)|\(freeSpace)|\(source.key)".utf8)))
        let dir = cacheRoot.appending("vm/full-disks").appending(String(key.prefix(24)))
        let infoPath = dir.appending("disk.json")
        if let bytes = try? FileSystem.readBytes(infoPath), let info = try? JSON.decode(FullGuestDisk.Info.self, from: bytes, what: infoPath.string) {
            return FullGuestDisk(directory: dir, info: info)
        }
        try FileSystem.createDirectory(dir.removingLastComponent())
        // Concurrent boots of one image (threads or processes) wait for one build.
        return try await FileLock(FilePath(dir.string + ".lock")).withLock { () async throws(IntermodalError) -> FullGuestDisk in
            if let bytes = try? FileSystem.readBytes(infoPath), let info = try? JSON.decode(FullGuestDisk.Info.self, from: bytes, what: infoPath.string) {
                return FullGuestDisk(directory: dir, info: info)
            }
            return try await build(source: source, method: method, key: key, into: dir, freeSpace: freeSpace)
        }
    }

    /// Builds the disk in `<dir>.build` (what a killed build left there is cleared first: the
    /// lock holder is the only builder) and renames it to `dir` when complete.
    private static func build(
        source: VirtualMachine.DiskSource, method: BootMethod, key: String, into dir: FilePath, freeSpace: Int64
    ) async throws(IntermodalError) -> FullGuestDisk {
        let log = IntermodalLog.logger("vm.full")
        let work = FilePath(dir.string + ".build")
        try? FileSystem.removeTree(work)
        try FileSystem.createDirectory(work, mode: 0o700)
        defer { try? FileSystem.removeTree(work) }
        var steps = BuildSteps(log: log, what: "full guest disk \(dir.lastComponent?.string ?? "") (\(method.rawValue) boot, from \(source.key))")

        let tree = work.appending("tree")
        try FileSystem.createDirectory(tree)
        try await source.populate(tree)
        steps.done("tree from \(source.key)")
        try Interruption.check("while building the full guest's disk")

        let installed = try InstalledSystem.inspect(tree, source: source.key)
        steps.done("found kernel \(installed.kernelVersion), its initramfs, systemd, qemu-ga")
        let uuid = uuid(fromHex: key)
        let commandLine = "root=UUID=\(uuid) ro console=ttyS0,115200 quiet"
        try configure(tree, installed: installed, uuid: uuid, commandLine: commandLine, method: method)
        steps.done("configured fstab, hostname" + (method == .firmware ? ", GRUB (grub.cfg, i386-pc modules)" : ""))

        if method == .directKernel {
            try await HostCommand.check("/bin/cp", ["--", tree.appending("boot/vmlinuz-\(installed.kernelVersion)").string, work.appending("vmlinuz").string])
            try await HostCommand.check("/bin/cp", ["--", tree.appending("boot/initrd.img-\(installed.kernelVersion)").string, work.appending("initrd.img").string])
            steps.done("copied the guest's kernel and initramfs out for direct boot")
        }

        let image = work.appending("disk.raw")
        let partitionBytes = try await partitionSize(tree, freeSpace: freeSpace)
        let offset = Int64(partitionStartSector * sectorSize)
        // -E offset: the file system goes straight to its place in the disk file (no loop
        // device, no copy); the file grows to offset + size.
        try await HostCommand.check("mkfs.ext4", [
            "-q", "-F", "-L", "root", "-U", uuid, "-E", "offset=\(offset)", "-d", tree.string, image.string,
            "\(partitionBytes >> 10)k",
        ])
        steps.done("mkfs.ext4 -d: root partition of \(partitionBytes >> 20) MiB at sector \(partitionStartSector)")
        try FileSystem.removeTree(tree)

        let sectors = UInt32(partitionBytes / Int64(sectorSize))
        var core: [UInt8] = []
        if method == .firmware {
            let corePath = work.appending("core.img")
            // The core image: enough of GRUB to read the MBR partition and ext4; the rest
            // (normal mode, linux loader) loads as modules from /boot/grub/i386-pc.
            try await HostCommand.check("grub-mkimage", [
                "-O", "i386-pc", "-d", grubDirectory.string, "-o", corePath.string, "-p", "(hd0,msdos1)/boot/grub",
                "biosdisk", "part_msdos", "ext2",
            ])
            core = try FileSystem.readBytes(corePath)
            guard core.count <= (partitionStartSector - 1) * sectorSize else {
                throw IntermodalError(.internalError, "GRUB's core image (\(core.count) bytes) does not fit before the partition")
            }
            steps.done("grub-mkimage: core image of \(core.count) bytes")
        }
        let bootCode = method == .firmware ? try FileSystem.readBytes(grubDirectory.appending("boot.img")) : nil
        let mbr = try MasterBootRecord.sector(
            bootCode: bootCode, partitionStart: UInt32(partitionStartSector), partitionSectors: sectors,
            coreSector: method == .firmware ? 1 : nil)
        try writeAt(image, offset: 0, bytes: mbr + core)
        steps.done(method == .firmware ? "MBR: GRUB boot code, partition 1 (Linux, active); core image at sector 1" : "MBR: partition 1 (Linux, active)")

        let info = FullGuestDisk.Info(
            bootMethod: method, kernelVersion: installed.kernelVersion, rootUUID: uuid, commandLine: commandLine,
            source: source.key, partitionStartSector: partitionStartSector)
        try FileSystem.writeAtomically(try JSON.encode(info, pretty: true) + [10], to: work.appending("disk.json"))
        // The finished directory appears in one rename.
        guard rename(work.string, dir.string) == 0 else { throw .system("cannot move the full guest disk to \(dir)") }
        steps.done("disk ready: \(dir.appending("disk.raw"))")
        return FullGuestDisk(directory: dir, info: info)
    }

    /// The root partition's size: the tree plus a quarter, the free space asked for, and room
    /// for ext4's journal and metadata; rounded to whole MiB.
    static func partitionSize(_ tree: FilePath, freeSpace: Int64) async throws(IntermodalError) -> Int64 {
        let du = try await HostCommand.check("du", ["-sb", "--", tree.string])
        let used = Int64(du.split(separator: "\t").first ?? "0") ?? 0
        let bytes = used + used / 4 + freeSpace + (96 << 20)
        return ((bytes + (1 << 20) - 1) >> 20) << 20
    }

    /// A UUID (version 4 form) taken from the cache key, so a rebuilt disk gets the same one.
    static func uuid(fromHex hex: String) -> String {
        var h = Array(hex.prefix(32))
        h[12] = "4"
        h[16] = ["8", "9", "a", "b"][Int(String(h[16]), radix: 16)! & 3]
        let s = String(h)
        func part(_ a: Int, _ b: Int) -> Substring { s.dropFirst(a).prefix(b - a) }
        return "\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }

    /// What the tree must hold to boot as an installed system.
    struct InstalledSystem {
        var kernelVersion: String

        static func inspect(_ tree: FilePath, source: String) throws(IntermodalError) -> InstalledSystem {
            let hint = "; make the image with `intermodal vm image` (debootstrap --include=\(packages.joined(separator: ",")))"
            let boot = (try? FileSystem.list(tree.appending("boot"))) ?? []
            let versions = boot.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            guard let newest = versions.max(by: { GuestKernel.versionLess($0, $1) }) else {
                throw IntermodalError(.invalidArgument, "\(source) has no kernel in /boot (vmlinuz-*)" + hint)
            }
            // The newest kernel that has its initramfs (what update-grub would boot first).
            guard let version = versions.filter({ boot.contains("initrd.img-\($0)") }).max(by: { GuestKernel.versionLess($0, $1) }) else {
                throw IntermodalError(.invalidArgument, "\(source) has kernel \(newest) but no /boot/initrd.img-\(newest)" + hint)
            }
            for (path, what) in [("lib/systemd/systemd", "systemd"), ("usr/sbin/qemu-ga", "the QEMU guest agent (qemu-ga)")] {
                guard FileSystem.exists(tree.appending(path)) || FileSystem.exists(tree.appending("usr/" + path)) else {
                    throw IntermodalError(.invalidArgument, "\(source) lacks \(what) (/\(path))" + hint)
                }
            }
            return InstalledSystem(kernelVersion: version)
        }
    }

    /// The files an installer writes: fstab, hostname, and for firmware boot GRUB's modules and
    /// configuration (what grub-install and grub-mkconfig would leave; written directly, the
    /// host's devices are never probed).
    static func configure(_ tree: FilePath, installed: InstalledSystem, uuid: String, commandLine: String, method: BootMethod) throws(IntermodalError) {
        try TreeWriter.write("UUID=\(uuid) / ext4 errors=remount-ro 0 1\n", to: "etc/fstab", in: tree)
        try TreeWriter.write("debian-full\n", to: "etc/hostname", in: tree)
        try TreeWriter.write("127.0.0.1\tlocalhost\n127.0.1.1\tdebian-full\n::1\tlocalhost ip6-localhost ip6-loopback\n", to: "etc/hosts", in: tree)
        guard method == .firmware else { return }
        let modules = try TreeWriter.directory("boot/grub/i386-pc", in: tree)
        for name in try FileSystem.list(grubDirectory) where name.hasSuffix(".mod") || name.hasSuffix(".lst") {
            try TreeWriter.copy(grubDirectory.appending(name), to: modules.appending(name))
        }
        let v = installed.kernelVersion
        let cfg = """
            # Written by intermodal (what grub-mkconfig makes for a serial console, without probing).
            serial --unit=0 --speed=115200
            terminal_input serial
            terminal_output serial
            set default=0
            set timeout=0
            menuentry 'Debian GNU/Linux, with Linux \(v)' {
            \tinsmod part_msdos
            \tinsmod ext2
            \tsearch --no-floppy --fs-uuid --set=root \(uuid)
            \techo 'Loading Linux \(v) ...'
            \tlinux /boot/vmlinuz-\(v) \(commandLine)
            \techo 'Loading initial ramdisk ...'
            \tinitrd /boot/initrd.img-\(v)
            }

            """
        try TreeWriter.write(cfg, to: "boot/grub/grub.cfg", in: tree)
    }

    /// Writes `bytes` into `file` at `offset` (the file is not truncated).
    static func writeAt(_ file: FilePath, offset: Int64, bytes: [UInt8]) throws(IntermodalError) {
        do {
            let fd = try FileDescriptor.open(file, .writeOnly, options: [.closeOnExec])
            defer { try? fd.close() }
            _ = try fd.writeAll(toAbsoluteOffset: offset, bytes)
        } catch {
            throw IntermodalError(.systemError, "cannot write to \(file) at offset \(offset)", cause: error)
        }
    }

    /// Logs every build step with its duration.
    struct BuildSteps {
        let log: Logger
        let what: String
        var last = MonotonicInstant.now
        mutating func done(_ step: String) {
            let now = MonotonicInstant.now
            log.info("\(what): \(step) (\(Int(now.duration(since: last).seconds * 1000)) ms)")
            last = now
        }
    }
}

/// A built full-guest disk in the cache: `disk.raw` (MBR + root partition; shared read-only by
/// every guest, each writing to its own qcow2 overlay), for direct kernel boot also `vmlinuz` and
/// `initrd.img`, and `disk.json` describing it.
public struct FullGuestDisk: Sendable {
    public var directory: FilePath
    public var info: Info

    public struct Info: Sendable, Codable, Equatable {
        public var bootMethod: FullGuestImage.BootMethod
        public var kernelVersion: String
        public var rootUUID: String
        /// The kernel command line GRUB passes (and direct kernel boot uses).
        public var commandLine: String
        /// The key of the tree the disk was made from (e.g. `image-sha256:...`).
        public var source: String
        public var partitionStartSector: Int
    }

    public var image: FilePath { directory.appending("disk.raw") }
    public var kernel: FilePath { directory.appending("vmlinuz") }
    public var initrd: FilePath { directory.appending("initrd.img") }
}

/// Writes into an image's tree without following the image's own symbolic links out of it
/// (an image could point /etc at a host directory).
enum TreeWriter {
    /// `relative` under `tree` as a real directory (created where missing).
    static func directory(_ relative: String, in tree: FilePath) throws(IntermodalError) -> FilePath {
        var path = tree
        for component in relative.split(separator: "/") {
            path = path.appending(String(component))
            var st = stat()
            if lstat(path.string, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw IntermodalError(.invalidArgument, "/\(relative) in the image is not a plain directory (\(path) is a link or file)")
                }
            } else {
                try FileSystem.createDirectory(path)
            }
        }
        return path
    }

    static func write(_ text: String, to relative: String, in tree: FilePath) throws(IntermodalError) {
        let file = FilePath(relative)
        let parent = try directory(file.removingLastComponent().string, in: tree)
        let target = parent.appending(file.lastComponent!.string)
        var st = stat()
        if lstat(target.string, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK { unlink(target.string) }
        try FileSystem.writeAtomically(Array(text.utf8), to: target)
    }

    static func copy(_ source: FilePath, to target: FilePath) throws(IntermodalError) {
        try FileSystem.writeAtomically(try FileSystem.readBytes(source), to: target)
    }
}

/// The first sector of a disk with one MBR partition, as fdisk and grub-bios-setup leave it.
enum MasterBootRecord {
    /// `bootCode` (GRUB's boot.img) fills bytes 0-439; with `coreSector`, the boot code is told
    /// where the core image starts (boot.S's kernel_sector at 0x5c) and its buggy-BIOS boot-drive
    /// check is turned off for a hard disk (the two jumps at 0x66), as grub-bios-setup does.
    static func sector(bootCode: [UInt8]?, partitionStart: UInt32, partitionSectors: UInt32, coreSector: UInt64?) throws(IntermodalError) -> [UInt8] {
        var mbr = [UInt8](repeating: 0, count: 512)
        if let bootCode {
            guard bootCode.count == 512, bootCode[510] == 0x55, bootCode[511] == 0xAA else {
                throw IntermodalError(.corrupted, "GRUB's boot.img is not a 512-byte boot sector")
            }
            mbr.replaceSubrange(0..<440, with: bootCode[0..<440])
            if let coreSector {
                for i in 0..<8 { mbr[0x5c + i] = UInt8(truncatingIfNeeded: coreSector >> (8 * UInt64(i))) }
                mbr[0x66] = 0x90
                mbr[0x67] = 0x90
            }
        }
        // Partition entry 1: active, type 0x83 (Linux); CHS fields say "use LBA" (as fdisk does
        // for partitions past what CHS can address).
        let entry = 446
        mbr[entry] = 0x80
        mbr[entry + 1] = 0xFE; mbr[entry + 2] = 0xFF; mbr[entry + 3] = 0xFF
        mbr[entry + 4] = 0x83
        mbr[entry + 5] = 0xFE; mbr[entry + 6] = 0xFF; mbr[entry + 7] = 0xFF
        for i in 0..<4 {
            mbr[entry + 8 + i] = UInt8(truncatingIfNeeded: partitionStart >> (8 * UInt32(i)))
            mbr[entry + 12 + i] = UInt8(truncatingIfNeeded: partitionSectors >> (8 * UInt32(i)))
        }
        // A disk signature, so Linux names the partition the same way every boot.
        for (i, b) in [0x49, 0x4d, 0x44, 0x4c].enumerated() { mbr[440 + i] = UInt8(b) }
        mbr[510] = 0x55
        mbr[511] = 0xAA
        return mbr
    }
}
