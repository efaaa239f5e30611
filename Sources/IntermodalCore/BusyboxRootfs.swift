#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A minimal root file system made from the host's statically linked busybox (Debian's
/// `busybox-static`): the base image that needs no network, the rootfs of runtime tests, and the
/// userland of a guest's initramfs.
public enum BusyboxRootfs {
    /// Where Debian's busybox-static installs the binary.
    public static let defaultBinary: FilePath = "/bin/busybox"

    /// Fills `root` (created if missing) with busybox, one symlink per applet under `/bin`,
    /// and the few files and directories a container expects (`/etc/passwd`, `/proc`, `/tmp`, ...).
    public static func populate(at root: FilePath, busybox: FilePath = defaultBinary) async throws(IntermodalError) {
        guard access(busybox.string, X_OK) == 0 else {
            throw IntermodalError(
                .notFound, "busybox not found at \(busybox) (install Debian's busybox-static)")
        }
        let listing = try await HostCommand.check(busybox.string, ["--list-full"])
        // Hundreds of links and a 2 MB copy: synchronous work, done on a thread of its own so
        // that tests making many bundles at once do not hold both of the pool's threads.
        try await DedicatedThread.run { () throws(IntermodalError) in try fill(root, busybox: busybox, listing: listing) }
    }

    private static func fill(_ root: FilePath, busybox: FilePath, listing: String) throws(IntermodalError) {
        for dir in ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home", "var", "run"] {
            try FileSystem.createDirectory(root.appending(dir))
        }
        chmod(root.appending("tmp").string, 0o1777)
        let target = root.appending("bin/busybox")
        try copyFile(busybox, to: target, mode: 0o755)
        let base = root.string.hasSuffix("/") ? root.string : root.string + "/"
        for line in listing.split(separator: "\n") {
            // "usr/bin/wc" -> a link to /bin/busybox at that place.
            let applet = line.trimmed.drop { $0 == "/" }
            guard applet.contains("/"), !applet.hasSuffix("/busybox") else { continue }
            let link = base + applet
            if faccessat(AT_FDCWD, link, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT { continue }
            guard symlink("/bin/busybox", link) == 0 else {
                throw .system("cannot link \(link) to busybox")
            }
        }
        try FileSystem.writeAtomically(
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            to: root.appending("etc/passwd"))
        try FileSystem.writeAtomically("root:x:0:\nnogroup:x:65534:\n", to: root.appending("etc/group"))
        try FileSystem.writeAtomically("127.0.0.1 localhost\n::1 localhost\n", to: root.appending("etc/hosts"))
    }

    /// Copies a regular file byte for byte and sets its mode.
    public static func copyFile(_ source: FilePath, to destination: FilePath, mode: mode_t) throws(IntermodalError) {
        let bytes = try FileSystem.readBytes(source)
        try FileSystem.writeAtomically(bytes, to: destination, mode: FilePermissions(rawValue: mode))
        chmod(destination.string, mode)
    }
}
