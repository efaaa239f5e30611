#if canImport(Glibc)
import Glibc
#endif
import ImageStore
import IntermodalCore
import SystemPackage

/// The container's root file system: an overlayfs snapshot of the image's unpacked layers with a
/// private upper dir, or — where overlayfs cannot be used — a flattened copy.
enum RootfsSnapshot {
    /// The kernel caps mount data at one page; longer lowerdir lists fall back to a copy.
    static let maximumMountData = 4000

    /// Makes `dir.rootfs` from `image`. Returns how it was made. `rootfs/`, `upper/` and `work/`
    /// exist and are empty (the registry makes every container directory so).
    static func prepare(
        _ dir: ContainerDirectory, image: Image, store: ImageStore, initLayer: FilePath, allowOverlay: Bool = true
    ) async throws(IntermodalError) -> ContainerRecord.RootfsMode {
        if allowOverlay {
            try ensureInitLayer(initLayer)
            let layers = try await store.unpackedLayers(of: image)
            // overlayfs lists the topmost lower dir first; the store gives the lowest first.
            let lowers = [initLayer] + layers.reversed()
            let data = "lowerdir=\(lowers.map(\.string).joined(separator: ":")),upperdir=\(dir.upper),workdir=\(dir.work)"
            if data.utf8.count <= maximumMountData, !lowers.contains(where: { $0.string.contains(",") || $0.string.contains(":") }) {
                // `volatile` (Linux 5.10+): no syncs of the upper file system. Without it every
                // unmount syncs the whole host file system under the upper dir (tens of ms on a busy
                // host). A container's writable layer does not need to survive a host crash, and
                // `commit` reads it through the page cache.
                if mount("overlay", dir.rootfs.string, "overlay", 0, data + ",volatile") == 0 { return .overlay }
                if mount("overlay", dir.rootfs.string, "overlay", 0, data) == 0 { return .overlay }
                let err = errno
                IntermodalLog.logger("engine").info("overlayfs unusable (\(Errno(rawValue: err))); copying the image instead")
            }
        }
        // A copy has no upper layer (`commit` takes the whole tree); the recycler makes the
        // directories again when the container directory is reused.
        for unused in [dir.upper, dir.work] where rmdir(unused.string) != 0 && errno != ENOENT {
            throw .system("cannot remove \(unused)")
        }
        try await store.flatten(image, into: dir.rootfs)
        // The copy has no separate init layer: put the mount points straight into it.
        for file in initFiles {
            let target = try ScopedPath.resolve(file, in: dir.rootfs)
            if !FileSystem.exists(target) {
                try FileSystem.createDirectory(target.removingLastComponent())
                try VolatileFile.write("", to: target)
            }
        }
        return .copy
    }

    /// Files the engine bind-mounts into every container.
    static let initFiles = ["etc/resolv.conf", "etc/hosts", "etc/hostname"]

    /// Makes the shared init layer once: built beside it and renamed into place, so a concurrent
    /// `run` sees either no layer or a complete one.
    private static func ensureInitLayer(_ path: FilePath) throws(IntermodalError) {
        guard !FileSystem.isDirectory(path) else { return }
        // A unique name: several threads of one process may be creating containers at once.
        let building = try FileSystem.makeTemporaryDirectory(prefix: ".init-layer", in: path.removingLastComponent())
        chmod(building.string, 0o755)
        try FileSystem.createDirectory(building.appending("etc"))
        for file in initFiles { try VolatileFile.write("", to: building.appending(file)) }
        if rename(building.string, path.string) != 0 {
            let e = errno
            try? FileSystem.removeTree(building)
            guard e == EEXIST || e == ENOTEMPTY else { throw .system("cannot create the init layer \(path)", errno: e) }
        }
    }

    /// Unmounts the overlay if it is mounted; lazily when something still holds it. Returns false
    /// when it was detached lazily (the overlay lives on until its last user lets go).
    @discardableResult
    static func unmount(_ dir: ContainerDirectory) throws(IntermodalError) -> Bool {
        // Tried directly rather than looked up in mountinfo first (which costs more than the
        // unmount): EINVAL says "not a mount point", ENOENT "no such directory".
        if umount2(dir.rootfs.string, Int32(UMOUNT_NOFOLLOW)) == 0 { return true }
        if errno == EINVAL || errno == ENOENT { return true }
        if errno == EBUSY, umount2(dir.rootfs.string, Int32(MNT_DETACH | UMOUNT_NOFOLLOW)) == 0 { return false }
        throw .system("cannot unmount \(dir.rootfs)")
    }
}
