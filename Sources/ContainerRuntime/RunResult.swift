import IntermodalCore

/// How a container's process ended.
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
    init(waitStatus s: Int32) {
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

/// The outcome of ``Runtime/run(id:bundle:io:)``.
public struct RunResult: Sendable {
    public var status: ExitStatus
    /// `.create`, `.start`, `.exit` and `.cleanup` as recorded by the runtime.
    public var timestamps: PhaseTimestamps

    public init(status: ExitStatus, timestamps: PhaseTimestamps) {
        self.status = status
        self.timestamps = timestamps
    }
}
