import Subprocess
import SystemPackage

/// The outcome of a helper program run to completion.
public struct CommandResult: Sendable {
    public var exitCode: Int32?
    public var signal: Int32?
    public var standardOutput: String
    public var standardError: String

    /// True when the program exited with status 0.
    public var succeeded: Bool { exitCode == 0 }
}

/// Runs host programs (mkfs.ext4, debootstrap, qemu-img, tar, a peer runtime) and turns failures
/// into ``IntermodalError``s that name the program and quote its error output.
public enum HostCommand {
    /// Runs `program` (a name looked up in `PATH`, or a path) to completion and collects its output.
    public static func run(
        _ program: String, _ arguments: [String] = [],
        environment: [String: String]? = nil,
        workingDirectory: FilePath? = nil,
        input: String? = nil,
        outputLimit: Int = 16 << 20
    ) async throws(IntermodalError) -> CommandResult {
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        var env: Environment = .inherit
        if let environment {
            env = .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map {
                (Environment.Key(rawValue: $0.key)!, Optional($0.value))
            }))
        }
        do {
            let result = try await Subprocess.run(
                executable, arguments: Arguments(arguments), environment: env,
                workingDirectory: workingDirectory,
                input: .string(input ?? ""),
                output: .string(limit: outputLimit), error: .string(limit: outputLimit))
            var exitCode: Int32?
            var signal: Int32?
            switch result.terminationStatus {
            case .exited(let code): exitCode = code
            case .signaled(let sig): signal = sig
            }
            return CommandResult(
                exitCode: exitCode, signal: signal,
                standardOutput: result.standardOutput, standardError: result.standardError)
        } catch {
            throw IntermodalError(.externalFailure, "could not run \(program)", cause: error)
        }
    }

    /// Runs `program` and throws unless it exits 0; returns its standard output.
    @discardableResult
    public static func check(
        _ program: String, _ arguments: [String] = [],
        environment: [String: String]? = nil,
        workingDirectory: FilePath? = nil,
        input: String? = nil
    ) async throws(IntermodalError) -> String {
        let r = try await run(
            program, arguments, environment: environment, workingDirectory: workingDirectory, input: input)
        guard r.succeeded else { throw failure(program, arguments, r) }
        return r.standardOutput
    }

    /// The error of a program that did not exit 0: the command line, how it ended and the last
    /// lines of its error output.
    static func failure(_ program: String, _ arguments: [String], _ r: CommandResult) -> IntermodalError {
        let how = r.exitCode.map { "exit status \($0)" } ?? "signal \(r.signal ?? 0)"
        let err = r.standardError.trimmingTrailingWhitespace.split(separator: "\n").suffix(5).joined(separator: "; ")
        return IntermodalError(
            .externalFailure, "\(([program] + arguments).joined(separator: " ")) failed with \(how)" + (err.isEmpty ? "" : ": \(err)"))
    }

    /// The full path of `program` found in `PATH`, or nil.
    public static func find(_ program: String) -> FilePath? {
        let path = getenvString("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = FilePath(String(dir)).appending(program)
            if access(candidate.string, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// `getenv` as a Swift string.
public func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

extension StringProtocol {
    /// The string without trailing spaces, tabs and newlines.
    public var trimmingTrailingWhitespace: String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// The string without leading and trailing whitespace.
    public var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
