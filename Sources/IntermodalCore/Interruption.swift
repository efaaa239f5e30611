#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINT/SIGTERM turned into a flag and a readable file descriptor, so long work notices them and
/// rolls back instead of dying half-done: a guest run polls the descriptor beside the guest (and
/// destroys the domain, removes the disk); the image store checks the flag between tar entries and
/// chunks (and removes its temporary trees); a build kills its step container through an action
/// ``register(_:)`` ran (the wait on it ends, and the build rolls the step back). Nothing changes
/// until a command calls ``install()``.
public enum Interruption {
    private struct Actions {
        var next: UInt64 = 0
        var pending: [UInt64: @Sendable () -> Void] = [:]
        var fired = false
    }
    private static let actions = Mutex(Actions())

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
        // The registered actions run here, off the signal handler (where only the flag and the
        // byte are safe). The byte is left unread: pollers of ``fileDescriptor`` see it too.
        let readFD = fds[0]
        DedicatedThread.start {
            var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
            while poll(&p, 1, -1) < 0 && errno == EINTR {}
            let due = actions.withLock { (a: inout Actions) -> [@Sendable () -> Void] in
                a.fired = true
                defer { a.pending = [:] }
                return a.pending.keys.sorted().compactMap { a.pending[$0] }
            }
            for action in due { action() }
        }
    }

    /// Runs `action` once, on a thread of its own, when SIGINT or SIGTERM arrives (after
    /// ``install()``) before ``unregister(_:)``: for work no flag check reaches, such as a process
    /// another wait is blocked on. Nil, registering nothing, when a signal came already: the caller
    /// must not start what the action would stop. An action registered before the signal runs.
    public static func register(_ action: @escaping @Sendable () -> Void) -> UInt64? {
        actions.withLock { (a: inout Actions) -> UInt64? in
            guard !a.fired, received == 0 else { return nil }
            a.next += 1
            a.pending[a.next] = action
            return a.next
        }
    }

    /// Forgets an action ``register(_:)`` gave this token for.
    public static func unregister(_ token: UInt64) {
        actions.withLock { (a: inout Actions) -> Void in a.pending[token] = nil }
    }

    /// True once SIGINT or SIGTERM arrived.
    public static var isInterrupted: Bool { received != 0 }

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
