/// How a process ended (a container's, a guest's command, a peer's CLI): one type for the
/// runtime, the engine, guests, the harness and the CLI's exit code.
public struct ExitStatus: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The exit code, or 128 + signal number when the process was killed by a signal.
    public var code: Int32
    /// The signal that killed the process, if any.
    public var signal: Int32?

    public init(code: Int32, signal: Int32? = nil) {
        self.code = code
        self.signal = signal
    }

    /// From a wait status as returned by waitpid(2).
    public init(waitStatus s: Int32) {
        if s & 0x7f == 0 {
            self.init(code: (s >> 8) & 0xff)
        } else {
            let sig = s & 0x7f
            self.init(code: 128 + sig, signal: sig)
        }
    }

    public var description: String {
        if let signal { return "killed by signal \(signal)" }
        return "exit status \(code)"
    }
}

extension ExitStatus {
    /// From what a guest's init reports: an exit code, or the signal that killed the command.
    public init(exitCode: Int32, signal: Int32?) {
        if let signal, signal > 0 { self.init(code: 128 + signal, signal: signal) } else { self.init(code: exitCode) }
    }
}

