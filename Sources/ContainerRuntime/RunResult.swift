import IntermodalCore

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
