import ArgumentParser
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

    /// Exit status for an error, by its code (Docker's conventions: 125, 126, 127); interrupted
    /// and rolled back: the shell's 128 + signal, as if the signal had ended us.
    static func exitCode(for error: IntermodalError) -> Int32 {
        if error.code == .interrupted && Interruption.signal != 0 { return 128 + Interruption.signal }
        return error.dockerExitStatus
    }
}

extension ExitStatus {
    /// Ends the CLI with this command's status, as Docker's does after the command ran: its exit
    /// code, or 128 + signal when a signal ended it (our own failures, 125-127, are errors
    /// thrown before: ``CLIErrorPrinter/exitCode(for:)``). Containers and guests alike.
    func endCLI() throws {
        if code != 0 { throw ExitCode(code) }
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
