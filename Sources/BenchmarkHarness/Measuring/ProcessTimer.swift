#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Times a program from outside, the same way for every backend: from just before `posix_spawn`
/// to the first byte on its standard output, and to its exit as its parent sees it (the pidfd
/// turns readable). Everything blocking happens on a dedicated thread.
public enum ProcessTimer {
    /// What one timed process did.
    public struct Timed: Sendable {
        public var status: ExitStatus
        public var output: [UInt8]
        public var spawnToExit: Duration
        public var spawnToFirstOutput: Duration?
        public var spawnedAt: MonotonicInstant
    }

    /// Runs `arguments` (`arguments[0]` a path) with exactly `environment`; standard output and
    /// error are captured together (up to `outputLimit`), standard input is /dev/null. With
    /// `mountNamespace` the program starts in that mount namespace (crun on hybrid hosts). On
    /// `timeout` the process is killed and a `.timeout` error names the command.
    public static func run(
        _ arguments: [String], environment: [String], mountNamespace: CInt? = nil,
        timeout: Duration = .seconds(120), outputLimit: Int = 1 << 20
    ) async throws(IntermodalError) -> Timed {
        try await DedicatedThread.run { () throws(IntermodalError) -> Timed in
            if let ns = mountNamespace {
                // This thread alone enters the namespace; the process it spawns inherits it.
                guard ThreadMountNamespace.enter(ns) == 0 else {
                    throw .system("cannot enter the mount namespace for \(arguments[0])")
                }
            }
            return try spawnAndWait(arguments, environment: environment, timeout: timeout, outputLimit: outputLimit)
        }
    }

    private static func spawnAndWait(_ arguments: [String], environment: [String], timeout: Duration, outputLimit: Int) throws(IntermodalError) -> Timed {
        var pipeFDs: [CInt] = [0, 0]
        guard makePipe(&pipeFDs) else { throw .system("cannot create a pipe") }
        let spawnedAt = MonotonicInstant.now
        let pid: Int32
        do {
            pid = try Spawn.start(arguments, environment: environment) { actions in
                posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
                posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
            }
        } catch {
            close(pipeFDs[1])
            close(pipeFDs[0])
            throw error
        }
        close(pipeFDs[1])
        let pidfd = ProcessDescriptor.open(pid)
        defer { close(pipeFDs[0]); if pidfd >= 0 { close(pidfd) } }
        var output: [UInt8] = []
        var firstOutput: MonotonicInstant?
        var exitedAt: MonotonicInstant?
        var pipeOpen = true
        let deadline = spawnedAt.nanoseconds + UInt64(max(0, timeout.milliseconds)) * 1_000_000
        var buffer = [UInt8](repeating: 0, count: 65536)
        while exitedAt == nil || pipeOpen {
            let now = MonotonicInstant.now.nanoseconds
            if now >= deadline {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                var s: Int32 = 0
                waitpid(pid, &s, 0)
                throw IntermodalError(.timeout, "\(arguments.joined(separator: " ")) did not finish within \(timeout)")
            }
            var fds: [pollfd] = []
            if pipeOpen { fds.append(pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)) }
            if exitedAt == nil && pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            // Without a pidfd (old kernels) the exit is seen when the pipe closes.
            if fds.isEmpty { break }
            let wait = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
            let r = poll(&fds, nfds_t(fds.count), wait)
            if r < 0 && errno != EINTR { throw .system("poll while timing \(arguments[0])") }
            let readable = MonotonicInstant.now
            for f in fds where f.revents != 0 {
                if f.fd == pidfd {
                    exitedAt = readable
                } else {
                    let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
                    if n > 0 {
                        if firstOutput == nil { firstOutput = readable }
                        if output.count < outputLimit { output += buffer[0..<min(n, outputLimit - output.count)] }
                    } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                        pipeOpen = false
                    }
                }
            }
            // A daemonised grandchild may hold the pipe open: once the process exited, what is
            // still unread is drained without waiting for it.
            if exitedAt != nil && pipeOpen {
                _ = fcntl(pipeFDs[0], F_SETFL, fcntl(pipeFDs[0], F_GETFL) | O_NONBLOCK)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
                    if n > 0 {
                        if firstOutput == nil { firstOutput = .now }
                        if output.count < outputLimit { output += buffer[0..<min(n, outputLimit - output.count)] }
                        continue
                    }
                    break
                }
                pipeOpen = false
            }
        }
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &status, 0) } while r < 0 && errno == EINTR
        let end = exitedAt ?? .now
        return Timed(
            status: r == pid ? ExitStatus(waitStatus: status) : ExitStatus(code: 255), output: output,
            spawnToExit: end.duration(since: spawnedAt), spawnToFirstOutput: firstOutput.map { $0.duration(since: spawnedAt) },
            spawnedAt: spawnedAt)
    }
}
