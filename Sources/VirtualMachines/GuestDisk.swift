#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Guest disks: one ext4 base disk per image (made once, shared read-only by every guest of that
/// image) and a qcow2 overlay per guest for its writes.
public enum GuestDisk {
    /// Free space left in a base disk beyond the image's files (sparse: it costs no host blocks).
    public static let defaultFreeSpace: Int64 = 512 << 20

    /// The base disk for `key` (an image's manifest digest), made from `directory` by `populate`
    /// when not cached yet. `populate` fills the directory (e.g. ImageStore.flatten).
    public static func base(
        key: String, cacheRoot: FilePath = IntermodalPaths.cacheRoot, freeSpace: Int64 = defaultFreeSpace,
        populate: (FilePath) async throws(IntermodalError) -> Void
    ) async throws(IntermodalError) -> FilePath {
        let safeKey = String(key.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        let dir = cacheRoot.appending("vm/disks")
        let target = dir.appending("\(safeKey).ext4")
        if FileSystem.exists(target) { return target }
        try FileSystem.createDirectory(dir)
        // Concurrent boots of one image (threads or processes) wait for one build.
        return try await FileLock(FilePath(target.string + ".lock")).withLock { () async throws(IntermodalError) -> FilePath in
            if FileSystem.exists(target) { return target }
            let tree = FilePath(target.string + ".tree"), tmp = FilePath(target.string + ".tmp")
            // The lock holder is the only builder: what is here was left by a killed build.
            try? FileSystem.removeTree(tree)
            unlink(tmp.string)
            try FileSystem.createDirectory(tree)
            defer { try? FileSystem.removeTree(tree) }
            try await populate(tree)
            defer { unlink(tmp.string) }
            try await makeExt4(from: tree, at: tmp, freeSpace: freeSpace)
            guard rename(tmp.string, target.string) == 0 else { throw .system("cannot move the guest disk to \(target)") }
            return target
        }
    }

    /// `mkfs.ext4 -d`: an ext4 image holding `tree`, sized to its contents plus `freeSpace`.
    /// No journal: the disk is a per-guest throwaway overlay and mounting is faster without one.
    public static func makeExt4(from tree: FilePath, at image: FilePath, freeSpace: Int64) async throws(IntermodalError) {
        let du = try await HostCommand.check("du", ["-sb", "--", tree.string])
        let used = Int64(du.split(separator: "\t").first ?? "0") ?? 0
        let sizeMiB = (used + used / 4 + freeSpace + (16 << 20)) >> 20
        try await HostCommand.check(
            "mkfs.ext4", ["-q", "-F", "-O", "^has_journal", "-L", "intermodal", "-d", tree.string, image.string, "\(sizeMiB)M"])
    }

    /// A qcow2 overlay over `base` (raw), for one guest's writes (written directly; equivalent to
    /// `qemu-img create -f qcow2 -F raw -b BASE OVERLAY`).
    public static func createOverlay(base: FilePath, at overlay: FilePath) async throws(IntermodalError) {
        guard let size = sizes(of: base)?.apparentBytes else {
            throw IntermodalError(.notFound, "base disk \(base) does not exist")
        }
        try QCOW2Overlay.create(backing: base, backingSize: size, at: overlay)
    }

    /// Apparent (file length) and allocated (blocks on the host) sizes of a disk file, in bytes.
    public static func sizes(of path: FilePath) -> DiskSizes? {
        var st = stat()
        guard stat(path.string, &st) == 0 else { return nil }
        return DiskSizes(apparentBytes: Int64(st.st_size), allocatedBytes: Int64(st.st_blocks) * 512)
    }
}

/// Sizes of one disk file.
public struct DiskSizes: Sendable, Codable, Equatable {
    public var apparentBytes: Int64
    public var allocatedBytes: Int64
}
