#if canImport(Glibc)
import Glibc
#endif

/// Copies between this process's standard streams and a pseudo-terminal master until the
/// terminal closes (its process and everything holding the other end have exited), as runc's
/// `exec -t` does without `--console-socket`. A terminal on stdin is put in raw mode meanwhile
/// (the container's terminal does the line editing) and gives its window size.
enum TerminalRelay {
    static func run(master: Int32) {
        var saved = termios()
        let raw = isatty(0) == 1 && tcgetattr(0, &saved) == 0
        if raw {
            var size = winsize()
            if ioctl(0, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
            var t = saved
            cfmakeraw(&t)
            tcsetattr(0, TCSANOW, &t)
        }
        defer { if raw { tcsetattr(0, TCSANOW, &saved) } }
        var buffer = [UInt8](repeating: 0, count: 16384)
        var inputOpen = true
        while true {
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0), pollfd(fd: inputOpen ? 0 : -1, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 {
                // EIO once the last holder of the other end has closed it: the relay is done.
                guard copy(from: master, to: 1, &buffer) else { return }
            }
            if fds[1].revents != 0 && !copy(from: 0, to: master, &buffer) { inputOpen = false }
        }
    }

    /// One read and all of it written; false at end of input or on an error.
    private static func copy(from source: Int32, to target: Int32, _ buffer: inout [UInt8]) -> Bool {
        let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if n < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        guard n > 0 else { return false }
        var offset = 0
        while offset < n {
            let w = buffer.withUnsafeBytes { write(target, $0.baseAddress! + offset, n - offset) }
            if w < 0 { if errno == EINTR { continue } else { return false } }
            offset += w
        }
        return true
    }
}
