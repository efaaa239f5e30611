import IntermodalCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Prints an ``IntermodalError`` as the one line a user reads, never a stack trace.
enum CLIErrorPrinter {
    static func print(_ error: IntermodalError, program: String) {
        StandardStreams.writeError("\(program): error: \(error)\n")
    }

    /// Exit status for an error, by its code (Docker's conventions: 125, 126, 127).
    static func exitCode(for error: IntermodalError) -> Int32 { error.dockerExitStatus }
}

/// One logging set-up for the CLI: warnings by default, everything with `--debug`.
enum CLILogging {
    static func bootstrap(debug: Bool) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = debug ? .debug : .warning
            return handler
        }
    }
}
