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
        guard let invocation = parse(args) else { return false }
        invocation.execute()
        return true
    }

    /// The invocation `args` (the command and its arguments) asks for, or nil when this reader
    /// does not handle it exactly (ArgumentParser's then decides, and reports errors).
    static func parse(_ args: [String]) -> Invocation? {
        guard let command = args.first else { return nil }
        // Plain switches and optionals: no dictionaries or sets, whose generic metadata the
        // runtime would have to build (from mangled names) at first use in every process.
        let takesBundle = command == "create" || command == "run"
        var invocation = Invocation(command: command, id: "")
        var positionals: [String] = []
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "--" { positionals += args[(i + 1)...]; break }
            if a.hasPrefix("-") && a != "-" {
                // Anything dash-led that is not one of these (a negative number too) is the
                // parser's: it knows how to reject it.
                var name = a, value: String?
                if let eq = a.firstIndex(of: "=") { name = String(a[..<eq]); value = String(a[a.index(after: eq)...]) }
                switch name {
                case "-b", "--bundle", "--pid-file", "--console-socket":
                    guard takesBundle else { return nil }
                    if value == nil {
                        // A value that looks like an option is ArgumentParser's to refuse.
                        guard i + 1 < args.count, !args[i + 1].hasPrefix("-") else { return nil }
                        i += 1
                        value = args[i]
                    }
                    if name == "--pid-file" {
                        invocation.pidFile = value
                    } else if name == "--console-socket" {
                        invocation.consoleSocket = value
                    } else {
                        invocation.bundle = value!
                    }
                case "-a", "--all":
                    guard command == "kill", value == nil else { return nil }
                    invocation.all = true
                case "-f", "--force":
                    guard command == "delete", value == nil else { return nil }
                    invocation.force = true
                case "-d", "--detach":
                    guard command == "run", value == nil else { return nil }
                    invocation.detach = true
                case "--no-pivot":
                    guard takesBundle, value == nil else { return nil }
                case "--no-new-keyring":
                    guard takesBundle, value == nil else { return nil }
                default:
                    return nil
                }
            } else {
                positionals.append(a)
            }
            i += 1
        }
        switch command {
        case "create", "start", "state", "delete", "run": guard positionals.count == 1 else { return nil }
        case "kill": guard positionals.count == 1 || positionals.count == 2 else { return nil }
        default: return nil
        }
        invocation.id = positionals[0]
        if positionals.count > 1 { invocation.signal = positionals[1] }
        return invocation
    }
}
