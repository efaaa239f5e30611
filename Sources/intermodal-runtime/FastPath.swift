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
        var options: [String: String] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []
        let valued: [String: String] = [
            "-b": "bundle", "--bundle": "bundle", "--pid-file": "pid-file", "--console-socket": "console-socket",
        ]
        let boolean: [String: String] = [
            "-a": "all", "--all": "all", "-f": "force", "--force": "force", "-d": "detach", "--detach": "detach",
            "--no-pivot": "no-pivot", "--no-new-keyring": "no-new-keyring",
        ]
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "--" { positionals += args[(i + 1)...]; break }
            if a.hasPrefix("-") && Int32(a) == nil {
                var name = a, value: String?
                if let eq = a.firstIndex(of: "=") { name = String(a[..<eq]); value = String(a[a.index(after: eq)...]) }
                if let key = valued[name] {
                    if value == nil {
                        guard i + 1 < args.count else { return false }
                        i += 1
                        value = args[i]
                    }
                    options[key] = value
                } else if let key = boolean[name], value == nil {
                    flags.insert(key)
                } else {
                    return false
                }
            } else {
                positionals.append(a)
            }
            i += 1
        }
        let allowed: [String: (options: Set<String>, flags: Set<String>, positionals: ClosedRange<Int>)] = [
            "create": (["bundle", "pid-file", "console-socket"], ["no-pivot", "no-new-keyring"], 1...1),
            "start": ([], [], 1...1),
            "state": ([], [], 1...1),
            "kill": ([], ["all"], 1...2),
            "delete": ([], ["force"], 1...1),
            "run": (["bundle", "pid-file", "console-socket"], ["detach", "no-pivot", "no-new-keyring"], 1...1),
        ]
        guard let rule = allowed[command], rule.positionals.contains(positionals.count),
              Set(options.keys).isSubset(of: rule.options), flags.isSubset(of: rule.flags) else { return false }
        let id = positionals[0]
        let rt = Global.runtime
        let io: ProcessIO = options["console-socket"].map { .consoleSocket(FilePath($0)) } ?? .inherit
        let bundle = FilePath(options["bundle"] ?? ".")
        let pidFile = options["pid-file"].map { FilePath($0) }
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
                try rt.kill(id: id, signal: try Signals.parse(positionals.count > 1 ? positionals[1] : "TERM"), all: flags.contains("all"))
            case "delete":
                try rt.deleteSync(id: id, force: flags.contains("force"))
            case "run":
                let container = try rt.createSync(id: id, bundle: bundle, io: io, pidFile: pidFile)
                do throws(IntermodalError) { try rt.startSync(id: id) } catch {
                    try? rt.deleteSync(id: id, force: true)
                    throw error
                }
                if !flags.contains("detach") {
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
