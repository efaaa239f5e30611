#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The one error type of Intermodal.
///
/// Every module throws this, so that the CLI can print any failure as one clear line
/// (`error: <message>: <cause>`) and a harness can branch on ``code`` without parsing text.
public struct IntermodalError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; stable, meant for programs.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The caller gave something malformed: a bad flag, config.json, Dockerfile, tarball.
        public static let invalidArgument = Code(rawValue: "invalidArgument")
        /// Something named does not exist: a container ID, an image, a kernel, a file.
        public static let notFound = Code(rawValue: "notFound")
        /// Something with that name already exists.
        public static let exists = Code(rawValue: "exists")
        /// The object is in the wrong state for the request (start of a running container).
        public static let invalidState = Code(rawValue: "invalidState")
        /// The request is valid but this host or build cannot honour it.
        public static let unsupported = Code(rawValue: "unsupported")
        /// A system call failed; the cause carries the errno.
        public static let systemError = Code(rawValue: "systemError")
        /// A helper program or service (libvirtd, debootstrap, mkfs) failed or is unreachable.
        public static let externalFailure = Code(rawValue: "externalFailure")
        /// A deadline passed.
        public static let timeout = Code(rawValue: "timeout")
        /// Stored data failed verification (digest mismatch, truncated archive).
        public static let corrupted = Code(rawValue: "corrupted")
        /// The operation was interrupted (SIGINT, SIGTERM) and rolled back.
        public static let interrupted = Code(rawValue: "interrupted")
        /// The command to run in an instance does not exist there (Docker's exit status 127).
        public static let commandNotFound = Code(rawValue: "commandNotFound")
        /// The command exists but cannot be run: not executable, a directory (Docker's 126).
        public static let commandCannotRun = Code(rawValue: "commandCannotRun")
        /// A bug or an impossible state.
        public static let internalError = Code(rawValue: "internalError")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// A failed system call: the message names what was attempted, the cause is the errno
    /// (read from the calling thread unless given).
    public static func system(_ what: String, errno code: CInt? = nil) -> IntermodalError {
        IntermodalError(.systemError, what, cause: Errno(rawValue: code ?? errno))
    }

    /// One line: the message, then each cause in turn.
    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}

extension IntermodalError {
    /// Wraps any error as an ``IntermodalError`` with context, keeping an existing one's code.
    public static func wrapping(_ error: any Error, _ context: String) -> IntermodalError {
        if let e = error as? IntermodalError {
            return IntermodalError(e.code, "\(context): \(e.message)", cause: e.cause)
        }
        return IntermodalError(.internalError, context, cause: error)
    }
}

extension IntermodalError {
    /// The exit status a Docker-style CLI gives for this error, decided by its code: 127 for a
    /// command that does not exist, 126 for one that cannot be run, 125 for our own failures.
    public var dockerExitStatus: Int32 {
        switch code {
        case .commandNotFound: 127
        case .commandCannotRun: 126
        default: 125
        }
    }
}
