#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// The lifecycle commands a container engine calls per container (create, start, state, kill,
/// delete, run), parsed by hand: ArgumentParser builds its whole command tree through reflection,
/// which costs more than a container start. Anything this does not recognise exactly (help,
/// unknown flags, other commands) goes to the ArgumentParser definition in Commands.swift, which
/// stays the reference for the syntax.
enum FastPath {
    /// Runs the command if it is one of the fast ones; returns false to fall back.
    static func run(_ args: [String]) -> Bool {
        guard let command = args.first else { return false }
        // Plain switches and optionals: no dictionaries or sets, whose generic metadata the
        // runtime would have to build (from mangled names) at first use in every process.
        let takesBundle = command == "create" || command == "run"
        var bundleOption: String?, pidFileOption: String?, consoleOption: String?
        var all = false, force = false, detach = false
        var positionals: [String] = []
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "--" { positionals += args[(i + 1)...]; break }
            if a.hasPrefix("-") && Int32(a) == nil {
                var name = a, value: String?
                if let eq = a.firstIndex(of: "=") { name = String(a[..<eq]); value = String(a[a.index(after: eq)...]) }
                switch name {
                case "-b", "--bundle", "--pid-file", "--console-socket":
                    guard takesBundle else { return false }
                    if value == nil {
                        guard i + 1 < args.count else { return false }
                        i += 1
                        value = args[i]
                    }
                    if name == "--pid-file" { pidFileOption = value } else if name == "--console-socket" { consoleOption = value } else { bundleOption = value }
                case "-a", "--all":
                    guard command == "kill", value == nil else { return false }
                    all = true
                case "-f", "--force":
                    guard command == "delete", value == nil else { return false }
                    force = true
                case "-d", "--detach":
                    guard command == "run", value == nil else { return false }
                    detach = true
                case "--no-pivot", "--no-new-keyring":
                    guard takesBundle, value == nil else { return false }
                default:
                    return false
                }
            } else {
                positionals.append(a)
            }
            i += 1
        }
        switch command {
        case "create", "start", "state", "delete", "run": guard positionals.count == 1 else { return false }
        case "kill": guard positionals.count == 1 || positionals.count == 2 else { return false }
        default: return false
        }
        let id = positionals[0]
        let rt = Global.runtime
        let io: ProcessIO = consoleOption.map { .consoleSocket(FilePath($0)) } ?? .inherit
        let bundle = FilePath(bundleOption ?? ".")
        let pidFile = pidFileOption.map { FilePath($0) }
        do throws(IntermodalError) {
            switch command {
            case "create":
                _ = try rt.createSync(id: id, bundle: bundle, io: io, pidFile: pidFile)
            case "start":
                try rt.startSync(id: id)
            case "state":
                let s = try rt.state(id: id)
                StandardStreams.writeOutput(String(decoding: try Runtime.stateJSON(s, pretty: true), as: UTF8.self) + "\n")
            case "kill":
                try rt.kill(id: id, signal: try Signals.parse(positionals.count > 1 ? positionals[1] : "TERM"), all: all)
            case "delete":
                try rt.deleteSync(id: id, force: force)
            case "run":
                let container = try rt.createSync(id: id, bundle: bundle, io: io, pidFile: pidFile)
                do throws(IntermodalError) { try rt.startSync(id: id) } catch {
                    try? rt.deleteSync(id: id, force: true)
                    throw error
                }
                if !detach {
                    Signals.forward(to: container.pid)
                    let status = container.waitSync()
                    try? rt.deleteSync(id: id, force: true)
                    exit(status.code)
                }
            default:
                return false
            }
        } catch {
            Global.fail(error)
        }
        return true
    }
}
