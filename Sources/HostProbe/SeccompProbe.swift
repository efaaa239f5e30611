#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import IntermodalCore

/// Checks seccomp for real through libseccomp: a filter that makes `getpriority` fail with EPERM is
/// loaded on a throw-away thread (filters without TSYNC bind only the calling thread), and the
/// thread checks that the call now fails that way.
enum SeccompProbe {
    /// What the probe thread saw; the thread writes it before it ends, the caller reads after join.
    private final class Outcome {
        var stage = "start"
        var errnoSeen: Int32 = 0
        var loaded = false
    }

    static func probe() -> ProbeResult {
        let name = "seccomp (libseccomp)"
        guard let v = seccomp_version() else {
            return ProbeResult(name, .missing, "libseccomp did not report a version", fix: "apt-get install libseccomp2", required: true)
        }
        let version = "libseccomp \(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
        // The kernel shows a "Seccomp:" line in /proc/self/status only when built with CONFIG_SECCOMP.
        let status = (try? FileSystem.readString("/proc/self/status")) ?? ""
        guard status.contains("\nSeccomp:") else {
            return ProbeResult(name, .missing, "\(version), but the kernel has no seccomp support", required: true)
        }
        let outcome = Outcome()
        let context = Unmanaged.passRetained(outcome).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let outcome = Unmanaged<Outcome>.fromOpaque(argument!).takeRetainedValue()
            SeccompProbe.filterThisThread(outcome)
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<Outcome>.fromOpaque(context).release()
            return ProbeResult(name, .warning, "\(version); could not start the probe thread")
        }
        pthread_join(thread, nil)
        if outcome.loaded && outcome.errnoSeen == EPERM {
            return ProbeResult(name, .ok, "\(version); a loaded filter made getpriority fail with EPERM", required: true)
        }
        return ProbeResult(
            name, .missing, "\(version); filter test failed at \(outcome.stage) (errno \(outcome.errnoSeen))", required: true)
    }

    private static func filterThisThread(_ outcome: Outcome) {
        let allow: UInt32 = 0x7fff_0000  // SCMP_ACT_ALLOW
        let errnoEPERM: UInt32 = 0x0005_0000 | UInt32(EPERM)  // SCMP_ACT_ERRNO(EPERM)
        guard let ctx = seccomp_init(allow) else { outcome.stage = "seccomp_init"; return }
        defer { seccomp_release(ctx) }
        // We are root with CAP_SYS_ADMIN: no need to set no_new_privs on this thread.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        let nr = seccomp_syscall_resolve_name("getpriority")
        guard nr >= 0 else { outcome.stage = "resolve getpriority"; return }
        var rc = seccomp_rule_add_array(ctx, errnoEPERM, nr, 0, nil)
        guard rc == 0 else { outcome.stage = "seccomp_rule_add"; outcome.errnoSeen = -rc; return }
        rc = seccomp_load(ctx)
        guard rc == 0 else { outcome.stage = "seccomp_load"; outcome.errnoSeen = -rc; return }
        outcome.loaded = true
        errno = 0
        let r = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        outcome.stage = "getpriority returned \(r)"
        outcome.errnoSeen = errno
    }
}
