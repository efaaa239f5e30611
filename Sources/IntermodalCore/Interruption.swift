#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM turned into a flag and a readable file descriptor, so long work notices them and
/// rolls back instead of dying half-done: a guest run polls the descriptor beside the guest (and
/// destroys the domain, removes the disk); the image store checks the flag between tar entries and
/// chunks (and removes its temporary trees). Nothing changes until a command calls ``install()``.
public enum Interruption {
    nonisolated(unsafe) private static var pipeFDs: (read: Int32, write: Int32) = (-1, -1)
    nonisolated(unsafe) private static var received: Int32 = 0

    /// Installs handlers for SIGINT and SIGTERM (the CLI does this once, before running a guest).
    public static func install() {
        guard pipeFDs.read < 0 else { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        pipeFDs = (fds[0], fds[1])
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                Interruption.received = signo
                var b = UInt8(truncatingIfNeeded: signo)
                _ = write(Interruption.pipeFDs.write, &b, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
    }

    /// The descriptor that becomes readable on a signal, or -1 when handlers are not installed.
    public static var fileDescriptor: Int32 { pipeFDs.read }

    /// The signal received, if any (0 otherwise).
    public static var signal: Int32 { received }

    /// Throws `.interrupted` if a signal arrived.
    public static func check(_ during: String) throws(IntermodalError) {
        let s = received
        if s != 0 {
            throw IntermodalError(.interrupted, "interrupted by \(s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "signal \(s)") \(during)")
        }
    }
}
