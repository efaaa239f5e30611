#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// Options that precede the command (`--root`, `--log`, `--log-format`, `--debug`), as runc takes them.
enum Global {
    nonisolated(unsafe) static var root: FilePath = IntermodalPaths.runtimeStateRoot
    nonisolated(unsafe) static var logFile: String?
    nonisolated(unsafe) static var logJSON = false
    nonisolated(unsafe) static var debug = false

    static var runtime: Runtime { Runtime(stateRoot: root) }

    /// Removes the global options before the command name from `args`.
    static func extract(from args: inout [String]) throws(IntermodalError) {
        var i = 0
        while i < args.count {
            let a = args[i]
            guard a.hasPrefix("-") else { break }
            var name = a, value: String? = nil
            if let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq])
                value = String(a[a.index(after: eq)...])
            }
            func take() throws(IntermodalError) -> String {
                if let value { return value }
                guard i + 1 < args.count else { throw IntermodalError(.invalidArgument, "option \(name) needs a value") }
                i += 1
                return args[i]
            }
            switch name {
            case "--root": root = FilePath(try take())
            case "--log":
                logFile = try take()
                // Warnings the library gives (an ignored field, a failed poststart hook) go there too.
                Runtime.warningLog = { log(level: "warning", $0) }
            case "--log-format":
                let f = try take()
                guard f == "text" || f == "json" else {
                    throw IntermodalError(.invalidArgument, "--log-format must be text or json, got \"\(f)\"")
                }
                logJSON = f == "json"
            case "--debug": debug = true
            case "--systemd-cgroup", "--rootless", "--criu":
                // Accepted for compatibility with runc's callers; systemd is not used here.
                if name != "--systemd-cgroup" { _ = try take() }
            case "--version", "-v":
                args[i] = "version"
                return
            default:
                return   // --help and the like: the parser's business
            }
            args.removeSubrange(0...i)
            i = 0
        }
    }

    /// Reports `error` like runc (one line on stderr, also to --log) and exits with `status`
    /// (1; `exec` uses 255 as runc's does).
    static func fail(_ error: any Error, status: Int32 = 1) -> Never {
        let text = (error as? IntermodalError)?.description ?? "\(error)"
        log(level: "error", text)
        StandardStreams.writeError("intermodal-runtime: error: \(text)\n")
        exit(status)
    }

    /// Parses and runs a command that is not on the fast path. A command line the parser
    /// refuses is reported to --log too (the engines read the reason from there: containerd
    /// otherwise says only "unable to retrieve OCI runtime error"); help is not an error.
    static func parseAndRun(_ arguments: [String]) -> Never {
        do {
            var command = try RuntimeCommand.parseAsRoot(arguments)
            try command.run()
        } catch {
            if RuntimeCommand.exitCode(for: error) != .success {
                log(level: "error", RuntimeCommand.message(for: error))
            }
            RuntimeCommand.exit(withError: error)
        }
        exit(0)
    }

    static func log(level: String, _ message: String) {
        guard let logFile else { return }
        let time = WallClock.rfc3339(fraction: false)
        let line: String
        if logJSON {
            var w = JSONObjectWriter()
            w.add("level", level)
            w.add("msg", message)
            w.add("time", time)
            line = String(decoding: w.bytes(), as: UTF8.self) + "\n"
        } else {
            line = "time=\"\(time)\" level=\(level) msg=\(JSONObjectWriter.quote(message))\n"
        }
        let fd = open(logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }
}
