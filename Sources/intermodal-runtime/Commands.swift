#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ContainerRuntime
import IntermodalCore
import SystemPackage

struct RuntimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intermodal-runtime",
        abstract: "An OCI container runtime in Swift (runc-compatible command line).",
        discussion: """
            Global options, before the command: --root DIR (state, default /run/intermodal-runtime), \
            --log FILE, --log-format text|json, --debug.
            """,
        subcommands: [Create.self, Start.self, State.self, Kill.self, Delete.self, Run.self, List.self,
                      Exec.self, Pause.self, Resume.self, Ps.self, Update.self, Events.self, Features.self,
                      SpecCommand.self, Version.self])
}

/// Runs `body`, turning any error into runc-style output and exit status 1.
func perform(_ body: () throws(IntermodalError) -> Void) {
    do { try body() } catch { Global.fail(error) }
}

/// A lifecycle command: the ``Invocation`` it parsed, which the fast path must read the same way.
protocol LifecycleCommand: ParsableCommand {
    var invocation: Invocation { get }
}

struct Create: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container (its process waits for start).")
    @Option(name: [.customShort("b"), .long], help: "The bundle directory (default: current directory).")
    var bundle: String = "."
    @Option(name: .long, help: "Write the container's pid to this file.")
    var pidFile: String?
    @Option(name: .long, help: "A Unix socket to receive the pseudo-terminal master (process.terminal).")
    var consoleSocket: String?
    @Flag(name: .long, help: "Accepted for compatibility; pivot_root is always used.") var noPivot = false
    @Flag(name: .long, help: "Accepted for compatibility.") var noNewKeyring = false
    @Option(name: .long, help: "Pass descriptors 3 .. 3+N-1 into the container.") var preserveFds: UInt16 = 0
    @Argument(help: "The container ID.") var id: String

    var invocation: Invocation {
        Invocation(command: "create", id: id, bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, preserveFDs: Int(preserveFds))
    }
    func run() { invocation.execute() }
}

struct Start: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the user process of a created container.")
    @Argument(help: "The container ID.") var id: String
    var invocation: Invocation { Invocation(command: "start", id: id) }
    func run() { invocation.execute() }
}

struct State: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print the OCI state of a container as JSON.")
    @Argument(help: "The container ID.") var id: String
    var invocation: Invocation { Invocation(command: "state", id: id) }
    func run() { invocation.execute() }
}

struct Kill: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal (default TERM) to a container.")
    @Flag(name: [.short, .long], help: "Signal every process of the container.") var all = false
    @Argument(help: "The container ID.") var id: String
    @Argument(help: "Signal name or number (TERM, SIGKILL, 9).") var signal: String = "TERM"
    var invocation: Invocation { Invocation(command: "kill", id: id, all: all, signal: signal) }
    func run() { invocation.execute() }
}

struct Delete: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a stopped container (or any with --force).")
    @Flag(name: [.short, .long], help: "Kill the container first if it is still running.") var force = false
    @Argument(help: "The container ID.") var id: String
    var invocation: Invocation { Invocation(command: "delete", id: id, force: force) }
    func run() { invocation.execute() }
}

struct Run: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and start a container; wait for it unless --detach.")
    @Option(name: [.customShort("b"), .long], help: "The bundle directory (default: current directory).")
    var bundle: String = "."
    @Flag(name: [.short, .long], help: "Return after start; the container keeps running.") var detach = false
    @Option(name: .long, help: "Write the container's pid to this file.") var pidFile: String?
    @Option(name: .long, help: "A Unix socket to receive the pseudo-terminal master.") var consoleSocket: String?
    @Flag(name: .long, help: "Accepted for compatibility.") var noPivot = false
    @Flag(name: .long, help: "Accepted for compatibility.") var noNewKeyring = false
    @Option(name: .long, help: "Pass descriptors 3 .. 3+N-1 into the container.") var preserveFds: UInt16 = 0
    @Argument(help: "The container ID.") var id: String

    var invocation: Invocation {
        Invocation(command: "run", id: id, bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, detach: detach,
                   preserveFDs: Int(preserveFds))
    }
    func run() { invocation.execute() }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List containers under the state root.")
    @Option(name: [.short, .long], help: "table or json.") var format: String = "table"
    @Flag(name: [.short, .long], help: "Only the IDs.") var quiet = false
    func run() {
        perform { () throws(IntermodalError) in
            let states = try Global.runtime.list()
            if quiet {
                for s in states { StandardStreams.writeOutput(s.id + "\n") }
                return
            }
            switch format {
            case "json":
                let items = try states.map { s throws(IntermodalError) in String(decoding: try Runtime.stateJSON(s), as: UTF8.self) }
                StandardStreams.writeOutput("[" + items.joined(separator: ",") + "]\n")
            case "table":
                func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
                var out = pad("ID", 24) + pad("PID", 10) + pad("STATUS", 10) + "BUNDLE\n"
                for s in states {
                    out += pad(s.id, 24) + pad(s.pid.map(String.init) ?? "0", 10) + pad(s.status.rawValue, 10) + s.bundle + "\n"
                }
                // Never hidden: a container whose state cannot be read still has a process and cgroups.
                for (id, problem) in try Global.runtime.unreadable() {
                    out += pad(id, 24) + pad("?", 10) + pad("damaged", 10) + "(\(problem.message); delete --force \(id) removes it)\n"
                }
                StandardStreams.writeOutput(out)
            default:
                throw IntermodalError(.invalidArgument, "--format must be table or json, got \"\(format)\"")
            }
        }
    }
}

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spec", abstract: "Write a default config.json (like runc spec).")
    @Option(name: [.customShort("b"), .long], help: "The bundle directory.") var bundle: String = "."
    @Argument(help: "The process to run (default: sh).") var args: [String] = []
    func run() {
        perform { () throws(IntermodalError) in
            let file = FilePath(bundle).appending("config.json")
            guard !FileSystem.exists(file) else { throw IntermodalError(.exists, "\(file) already exists") }
            try Spec.default(args: args.isEmpty ? ["sh"] : args).write(bundle: FilePath(bundle))
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() {
        StandardStreams.writeOutput("intermodal-runtime version \(IntermodalVersion.string)\nspec: 1.2.0\n")
    }
}

enum Signals {
    static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
        "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT, "CHLD": SIGCHLD,
        "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG,
        "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH,
        "IO": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    static func parse(_ text: String) throws(IntermodalError) -> Int32 {
        if let n = Int32(text), n > 0, n < 65 { return n }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let n = names[name] else { throw IntermodalError(.invalidArgument, "unknown signal \"\(text)\"") }
        return n
    }

    nonisolated(unsafe) static var target: pid_t = 0

    static func forward(to pid: pid_t) {
        target = pid
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] {
            signal(sig) { s in if Signals.target > 0 { kill(Signals.target, s) } }
        }
    }
}
