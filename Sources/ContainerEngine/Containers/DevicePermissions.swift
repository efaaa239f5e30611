#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// Makes the standard device nodes of a created (not yet started) container world-writable, as
/// the OCI spec and every runtime give them (`/dev/null` is 0666).
///
/// Why: our runtime currently creates them with the caller's umask applied (0644), so a non-root
/// process cannot write `/dev/null` — which breaks `apt-get update` (it checks for gpgv with
/// `command -v gpgv >/dev/null` as the `_apt` user). Reported to the runtime; once it sets the
/// modes itself this is a no-op. Runs between `create` and `start`, before any user code, through
/// `/proc/<pid>/root`, never following a symlink.
enum DevicePermissions {
    /// O_PATH (Linux), hidden by Glibc's module map.
    static let oPath: Int32 = 0o10000000
    static let standardDevices = ["null", "zero", "full", "random", "urandom", "tty"]

    static func fix(pid: Int32) {
        for name in standardDevices {
            let path = "/proc/\(pid)/root/dev/\(name)"
            let fd = open(path, oPath | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR, st.st_mode & 0o666 != 0o666 else { continue }
            // chmod through the O_PATH descriptor's magic link: the node we checked, not a path lookup.
            chmod("/proc/self/fd/\(fd)", 0o666)
        }
    }
}
