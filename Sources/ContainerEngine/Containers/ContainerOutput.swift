#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import Synchronization
import SystemPackage

/// Where a container's standard streams go.
public enum OutputMode: Sendable {
    /// Straight to this process's standard streams (no copy; `logs` stays empty; no firstOutput mark).
    case inherit
    /// Through pipes (or a pseudo-terminal with `-t`): copied to this process's stdout/stderr and
    /// to the container's log, marking `firstOutput` when the first byte arrives.
    case stream
    /// Only to the container's log (detached containers), through a pipe that marks `firstOutput`.
    case log
}

/// Connects a container's streams for one run and copies its output until the container closes them.
final class ContainerOutput: Sendable {
    private struct State {
        var firstOutput: MonotonicInstant?
        var done = false
        var waiter: CheckedContinuation<Void, Never>?
        var stopPipe: (read: CInt, write: CInt)?
        /// Descriptors this object still has to close (each exactly once).
        var owned: Set<CInt> = []
    }

    let mode: OutputMode
    let tty: Bool
    let interactive: Bool
    /// With ``OutputMode/log``: `started` does not copy; the log pipe waits for ``handOverLog()``
    /// (the small monitor copies it) or ``copyLog()``.
    let defersLogCopy: Bool
    private let logFD: CInt
    private let state = Mutex(State())
    private let pipes: (outRead: CInt, outWrite: CInt, errRead: CInt, errWrite: CInt)?
    private let savedTerminal = Mutex<termios?>(nil)

    init(mode: OutputMode, logPath: FilePath?, tty: Bool, interactive: Bool, defersLogCopy: Bool = false) throws(IntermodalError) {
        self.mode = mode
        self.defersLogCopy = defersLogCopy && mode == .log
        self.tty = tty && mode == .stream
        self.interactive = interactive
        // A reader that went away (`intermodal logs | head`, a closed stop pipe) must not kill us.
        signal(SIGPIPE, SIG_IGN)
        var log: CInt = -1
        if let logPath, mode != .inherit {
            log = open(logPath.string, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard log >= 0 else { throw .system("cannot open the container log \(logPath)") }
        }
        logFD = log
        if mode == .log && log >= 0 {
            // One pipe for both streams keeps their order in the log exactly; copying it (instead of
            // handing the container the file) lets us mark the first byte for detached runs too.
            var out: [CInt] = [0, 0]
            guard makePipe(&out) else { close(log); throw .system("cannot create a pipe") }
            pipes = (out[0], out[1], -1, -1)
            state.withLock { $0.owned = [out[0], out[1]] }
        } else if mode == .stream && !(tty && mode == .stream) {
            var out: [CInt] = [0, 0]
            var err: [CInt] = [0, 0]
            guard makePipe(&out) else { if log >= 0 { close(log) }; throw .system("cannot create a pipe") }
            guard makePipe(&err) else {
                close(out[0]); close(out[1]); if log >= 0 { close(log) }
                throw .system("cannot create a pipe")
            }
            pipes = (out[0], out[1], err[0], err[1])
            state.withLock { $0.owned = [out[0], out[1], err[0], err[1]] }
        } else {
            pipes = nil
        }
    }

    deinit {
        if logFD >= 0 { close(logFD) }
        for fd in state.withLock({ $0.owned }) { close(fd) }
    }

    private func closeOnce(_ fd: CInt) {
        if state.withLock({ $0.owned.remove(fd) }) != nil { close(fd) }
    }

    /// `create` failed: nothing will be copied.
    func abandon() {
        if let pipes { for fd in [pipes.outRead, pipes.outWrite, pipes.errRead, pipes.errWrite] { closeOnce(fd) } }
        finishNow()
    }

    /// The streams to give the runtime's `create`.
    var processIO: ProcessIO {
        let stdin: FileDescriptor? = interactive ? FileDescriptor(rawValue: 0) : nil
        switch mode {
        case .inherit:
            return .fileDescriptors(stdin: stdin, stdout: FileDescriptor(rawValue: 1), stderr: FileDescriptor(rawValue: 2))
        case .log:
            let out: FileDescriptor? = pipes.map { FileDescriptor(rawValue: $0.outWrite) }
            return .fileDescriptors(stdin: nil, stdout: out, stderr: out)
        case .stream:
            if tty { return .terminal }
            return .fileDescriptors(
                stdin: stdin, stdout: FileDescriptor(rawValue: pipes!.outWrite), stderr: FileDescriptor(rawValue: pipes!.errWrite))
        }
    }

    /// After `create`: drop our copies of the write ends and start copying.
    func started(_ container: Container) {
        if mode == .log, let pipes {
            closeOnce(pipes.outWrite)
            if !defersLogCopy { copyLog() }
            return
        }
        guard mode == .stream else { finishNow(); return }
        startStreams(container)
    }

    /// The log pipe's read end and the log, duplicated without close-on-exec for a program this
    /// process is about to execve (the small monitor). The pipe keeps what the container wrote
    /// meanwhile; nothing is copied here. Nil without a deferred log copy.
    func handOverLog() -> (output: CInt, log: CInt)? {
        guard defersLogCopy, let pipes, logFD >= 0 else { return nil }
        let output = dup(pipes.outRead)
        let log = dup(logFD)
        guard output >= 0, log >= 0 else {
            if output >= 0 { close(output) }
            if log >= 0 { close(log) }
            return nil
        }
        return (output, log)
    }

    /// Copies the log pipe to the log on a thread of its own until the container closes it.
    func copyLog() {
        guard mode == .log, let pipes else { finishNow(); return }
        let log = logFD
        DedicatedThread.start { [self] in
            copy(from: [pipes.outRead], to: [-1], log: log)
            closeOnce(pipes.outRead)
            finishNow()
        }
    }

    private func startStreams(_ container: Container) {
        if tty, let master = container.terminal {
            startTerminal(master: master.rawValue)
        } else if let pipes {
            closeOnce(pipes.outWrite)
            closeOnce(pipes.errWrite)
            let log = logFD
            DedicatedThread.start { [self] in
                copy(from: [pipes.outRead, pipes.errRead], to: [1, 2], log: log)
                closeOnce(pipes.outRead)
                closeOnce(pipes.errRead)
                finishNow()
            }
        } else {
            finishNow()
        }
    }

    /// Waits until the container's output is fully copied; returns when the first byte arrived.
    func finished() async -> MonotonicInstant? {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.done { return true }
                s.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
        restoreTerminal()
        return state.withLock { $0.firstOutput }
    }

    private func finishNow() {
        let (waiter, stop) = state.withLock { s -> (CheckedContinuation<Void, Never>?, (read: CInt, write: CInt)?) in
            s.done = true
            defer { s.waiter = nil }
            return (s.waiter, s.stopPipe)
        }
        if let stop {
            var b: UInt8 = 1
            _ = write(stop.write, &b, 1)
            close(stop.write)   // the stdin thread owns and closes the read end
        }
        waiter?.resume()
    }

    /// Copies until every source reports end of file. Index i of `sources` goes to `targets[i]`
    /// (-1: only to the log).
    private func copy(from sources: [CInt], to targets: [CInt], log: CInt) {
        var fds = sources.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var open = fds.count
        while open > 0 {
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 { if errno == EINTR { continue } else { break } }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let got = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 {
                    fds[i].fd = -1
                    open -= 1
                    continue
                }
                markFirstOutput()
                if targets[i] >= 0 { writeAll(targets[i], buffer, got) }
                if log >= 0 { writeAll(log, buffer, got) }
            }
        }
    }

    private func markFirstOutput() {
        state.withLock { if $0.firstOutput == nil { $0.firstOutput = .now } }
    }

    // MARK: - Terminal (-t)

    private func startTerminal(master: CInt) {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
        if isatty(0) == 1 && interactive {
            var original = termios()
            if tcgetattr(0, &original) == 0 {
                savedTerminal.withLock { $0 = original }
                var raw = original
                cfmakeraw(&raw)
                tcsetattr(0, TCSANOW, &raw)
            }
        }
        // The stop pipe exists before the output thread can finish, so finishing always wakes stdin's thread.
        var stop: [CInt] = [-1, -1]
        if interactive, makePipe(&stop) {
            state.withLock { $0.stopPipe = (stop[0], stop[1]) }
            let stopRead = stop[0]
            DedicatedThread.start {
                var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)]
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = poll(&fds, 2, -1)
                    if n < 0 { if errno == EINTR { continue } else { break } }
                    if fds[1].revents != 0 { break }
                    guard fds[0].revents != 0 else { continue }
                    let got = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                    if got <= 0 { break }
                    writeAll(master, buffer, got)
                }
                close(stopRead)
            }
        }
        let log = logFD
        DedicatedThread.start { [self] in
            copy(from: [master], to: [1], log: log)
            finishNow()
        }
    }

    private func restoreTerminal() {
        if let original = savedTerminal.withLock({ $0 }) {
            var t = original
            tcsetattr(0, TCSANOW, &t)
        }
    }
}

/// `write` until everything is written (or the reader went away).
func writeAll(_ fd: CInt, _ buffer: [UInt8], _ count: Int) {
    var offset = 0
    while offset < count {
        let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, count - offset) }
        if n < 0 { if errno == EINTR { continue } else { return } }
        offset += n
    }
}
