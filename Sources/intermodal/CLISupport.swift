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

    /// Exit status for an error: 125 like docker for our own failures, 127 for a missing command.
    static func exitCode(for error: IntermodalError) -> Int32 {
        switch error.code {
        case .notFound where error.message.contains("executable file not found"): 127
        // Interrupted and rolled back: the shell's 128 + signal, as if the signal had ended us.
        case .interrupted where Interruption.signal != 0: 128 + Interruption.signal
        default: 125
        }
    }
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
