#if canImport(Glibc)
import Glibc
#endif
import CIntermodalOS

/// A pidfd (pidfd_open(2)): a handle on one process that a reused pid cannot redirect.
public enum ProcessDescriptor {
    /// A pidfd for `pid`, or -errno.
    public static func open(_ pid: Int32) -> Int32 { ios_pidfd_open(pid) }

    /// pidfd_send_signal(2): 0 or -errno.
    public static func signal(_ pidfd: Int32, _ signal: Int32) -> Int32 { ios_pidfd_send_signal(pidfd, signal) }

    /// Waits up to `milliseconds` for the process to exit: 1 exited, 0 not yet, -errno.
    public static func wait(_ pidfd: Int32, milliseconds: Int32) -> Int32 { ios_pidfd_wait(pidfd, milliseconds) }
}

/// The kernel interfaces glibc does not wrap, for the runtime's device filter and the probes.
public enum KernelInterfaces {
    /// bpf(2): the result, or -1 with errno.
    public static func bpf(_ command: Int32, _ attr: UnsafeMutableRawPointer?, _ size: UInt32) -> Int {
        Int(ios_bpf(command, attr, size))
    }

    /// Whether `path` is a cgroup2 file system (nil when it cannot be examined).
    public static func isCgroup2(_ path: String) -> Bool? {
        switch ios_is_cgroup2(path) {
        case 1: return true
        case 0: return false
        default: return nil
        }
    }
}

/// Mount namespaces for one thread (what it spawns starts there), for running a peer runtime
/// under another view of the mounts without changing the process's.
public enum ThreadMountNamespace {
    /// A private copy of the calling thread's mount namespace with `hide` unmounted, as an open
    /// descriptor; -1 with errno. The thread must not need its old view afterwards.
    public static func makePrivate(hiding hide: String) -> Int32 { ios_thread_private_mount_namespace(hide) }

    /// Enters the namespace `descriptor` for the calling thread: 0 or -1 with errno.
    public static func enter(_ descriptor: Int32) -> Int32 { ios_thread_enter_mount_namespace(descriptor) }
}
