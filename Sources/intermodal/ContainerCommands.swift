import ArgumentParser
import ContainerEngine
import ContainerRuntime
import Dispatch
import ImageStore
import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `run`, `ps`, `logs`, `exec`, `stop`, `rm`, `inspect`, `commit`, `build` (the images issue).
enum ContainerCommands {
    static let all: [any ParsableCommand.Type] = [
        RunCommand.self, PsCommand.self, LogsCommand.self, ExecCommand.self, StopCommand.self,
        RmCommand.self, InspectCommand.self, CommitCommand.self, BuildCommand.self, ContainerMonitorCommand.self,
    ]

    /// The engine under the global root; this executable hosts detached containers.
    static func engine(_ global: GlobalOptions) throws(IntermodalError) -> Engine {
        try Engine(
            root: IntermodalPaths.storeRoot(override: global.root), monitorExecutable: selfExecutable,
            layerSizeLimit: try global.layerSizeLimit())
    }

    /// The running `intermodal` binary (for the detached monitor).
    static var selfExecutable: FilePath? { FileSystem.ownExecutable }
}

/// `intermodal run`
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container made from an image (a fresh snapshot every time).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var process: ProcessOptions
    @Flag(name: .long, help: "Remove the container when it exits.") var rm = false
    @Flag(name: .shortAndLong, help: "Keep standard input open.") var interactive = false
    @Flag(name: .shortAndLong, help: "Give the container a terminal.") var tty = false
    @Flag(name: .shortAndLong, help: "Run in the background and print the container ID.") var detach = false
    @Option(name: .long, help: "Name the container.") var name: String?
    @Option(name: .shortAndLong, help: "Bind mount HOST:CONTAINER[:ro].") var volume: [String] = []
    @Option(name: .shortAndLong, help: "Memory limit (e.g. 256m, 1g).") var memory: String?
    @Option(name: .long, help: "CPU limit as a number of CPUs (e.g. 1.5).") var cpus: Double?
    @Option(name: .long, help: "Maximum number of processes.") var pidsLimit: Int64?
    @Option(name: .long, help: "Network: none (loopback only), host, or bridge (intermodal0); bridge when -p is given, none otherwise.")
    var network: String?
    @Option(name: [.customShort("p"), .customLong("publish")], help: ArgumentHelp(
        "Publish a container port on the host: [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp] (needs the bridge network).",
        valueName: "port")) var publish: [String] = []
    @Argument(help: "Image name or ID.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments (default: the image's).") var command: [String] = []

    func validate() throws {
        if let cpus, !(cpus > 0) { throw ValidationError("--cpus must be a positive number, got \(cpus)") }
        if let pidsLimit, pidsLimit < 1 { throw ValidationError("--pids-limit must be at least 1") }
        if let network, NetworkMode(rawValue: network) == nil {
            throw ValidationError("--network must be none, host or bridge, got '\(network)'")
        }
    }

    /// As Docker: the bridge when ports are published and no network is named.
    var networkMode: NetworkMode {
        network.flatMap(NetworkMode.init(rawValue:)) ?? (publish.isEmpty ? .none : .bridge)
    }

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        var options = RunOptions(
            name: name, command: command, environment: process.env, workingDirectory: process.workdir, user: process.user,
            cpus: cpus, pidsLimit: pidsLimit, network: networkMode,
            interactive: interactive, tty: tty, autoRemove: rm)
        options.entrypoint = process.entrypointOverride
        options.volumes = try volume.map { (v: String) throws(IntermodalError) -> VolumeMount in try VolumeMount.parse(v) }
        options.ports = try publish.map { (p: String) throws(IntermodalError) -> PortMapping in try PortMapping.parse(p) }
        if let memory { options.memoryLimit = try RunOptions.parseMemory(memory) }
        if detach {
            let record = try await engine.runDetached(image: image, options: options)
            StandardStreams.writeOutput(record.id + "\n")
            return
        }
        let outcome = try await engine.run(image: image, options: options, output: .stream, forwardSignals: true)
        try outcome.status.endCLI()
    }
}

/// `intermodal ps`
struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers (running ones; all with -a).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Show all containers, also stopped ones.") var all = false
    @Flag(name: .shortAndLong, help: "Only print container IDs.") var quiet = false
    @Flag(name: .long, help: "Do not truncate IDs and commands.") var noTrunc = false

    func run() async throws {
        let records = try await ContainerCommands.engine(global).list(all: all).reversed()
        if quiet {
            StandardStreams.writeOutput(records.map { (noTrunc ? $0.id : $0.shortID) + "\n" }.joined())
            return
        }
        let rows = records.map { r -> [String] in
            var command = "\"" + (r.entrypoint + r.command).joined(separator: " ") + "\""
            if !noTrunc && command.count > 22 { command = String(command.prefix(20)) + "…\"" }
            return [noTrunc ? r.id : r.shortID, r.image, command, Engine.createdText(r), Engine.statusText(r),
                    Engine.portsText(r), r.address ?? "", r.name]
        }
        StandardStreams.writeOutput(TextTable.render(
            ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "ADDRESS", "NAMES"], rows))
    }
}

/// `intermodal logs`
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a container's output.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Keep printing new output until the container exits.") var follow = false
    @Argument(help: "Container name or ID.") var container: String

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        let path = try await engine.logPath(container)
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return }   // never started: no output yet
        guard fd >= 0 else { throw IntermodalError.system("cannot open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        func drain() {
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { return }
                StandardStreams.writeOutput(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }
        drain()
        while follow {
            let running = try await engine.container(container).status == .running
            // Read once more after the exit was seen: what was written just before it is not lost.
            drain()
            guard running else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// `intermodal exec`
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a command in a running container.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Keep standard input open.") var interactive = false
    @Flag(name: .shortAndLong, help: "Give the process a terminal.") var tty = false
    @Option(name: .shortAndLong, help: "Set an environment variable (KEY=VALUE).") var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory.") var workdir: String?
    @Option(name: .shortAndLong, help: "User: name, uid, name:group or uid:gid.") var user: String?
    @Argument(help: "Container name or ID.") var container: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments.") var command: [String] = []

    func run() async throws {
        let status = try await ContainerCommands.engine(global).exec(
            container, command: command, environment: env, workingDirectory: workdir, user: user,
            interactive: interactive, tty: tty)
        try status.endCLI()
    }
}

/// `intermodal stop`
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop running containers (SIGTERM, then SIGKILL after the timeout).")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Seconds to wait before SIGKILL.") var time: Int = 10
    @Argument(help: "Container names or IDs.") var containers: [String]

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        for c in containers {
            try await engine.stop(c, timeout: .seconds(time))
            StandardStreams.writeOutput(c + "\n")
        }
    }
}

/// `intermodal rm`
struct RmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove containers: snapshot, log, network and runtime state.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Kill and remove running containers.") var force = false
    @Argument(help: "Container names or IDs.") var containers: [String]

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        for c in containers {
            try await engine.remove(c, force: force)
            StandardStreams.writeOutput(c + "\n")
        }
    }
}

/// `intermodal inspect`
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show containers' records and runtime configuration as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container names or IDs.") var containers: [String]

    func run() async throws {
        StandardStreams.writeOutput(try await ContainerCommands.engine(global).inspect(containers))
    }
}

/// `intermodal commit`
struct CommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit", abstract: "Make a new image from a container's changes (its writable layer).")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Commit message (history comment).") var message: String?
    @Option(name: .shortAndLong, help: "Author.") var author: String?
    @Argument(help: "Container name or ID.") var container: String
    @Argument(help: "Image NAME[:TAG].") var reference: String?

    func run() async throws {
        let tag = try reference.map { (r: String) throws(IntermodalError) -> ImageReference in try ImageReference.parse(r) }
        let image = try await ContainerCommands.engine(global).commit(container, as: tag, comment: message, author: author)
        StandardStreams.writeOutput(image.configDigest + "\n")
    }
}

/// `intermodal build`
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from a Dockerfile (layer cache; .dockerignore honoured).")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Name the image NAME[:TAG].") var tag: String?
    @Option(name: .shortAndLong, help: "The Dockerfile (default: CONTEXT/Dockerfile).") var file: String?
    @Option(name: .long, help: "A build argument KEY=VALUE.") var buildArg: [String] = []
    @Flag(name: .long, help: "Do not use the layer cache.") var noCache = false
    @Argument(help: "The build context directory.") var context: String

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        var arguments: [String: String] = [:]
        for a in buildArg {
            guard let eq = a.firstIndex(of: "=") else {
                throw IntermodalError(.invalidArgument, "--build-arg '\(a)' is not KEY=VALUE")
            }
            arguments[String(a[..<eq])] = String(a[a.index(after: eq)...])
        }
        Interruption.install()
        _ = Interruption.register { StandardStreams.writeError("interrupting the build: removing the step container\n") }
        let options = BuildOptions(
            context: FilePath(context), dockerfile: file.map { FilePath($0) },
            tag: try tag.map { (t: String) throws(IntermodalError) -> ImageReference in try ImageReference.parse(t) },
            buildArguments: arguments, noCache: noCache)
        _ = try await engine.build(options)
    }
}

/// `intermodal container-monitor` (hidden): starts a detached container for `run -d` (then becomes
/// `intermodal-monitor`), and with `--finish` is what that one execs when the container exited.
struct ContainerMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: Engine.monitorSubcommand, abstract: "Host a detached container (internal).", shouldDisplay: false)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container ID.") var id: String
    @Flag(name: .long, help: "The container has exited: record it and release what it held.") var finish = false
    @Option(name: .long, help: "With --finish: its exit code (128 + signal when killed).") var exitCode: Int32?
    @Option(name: .long, help: "With --finish: the signal that killed it.") var signal: Int32?
    @Option(name: .long, help: "With --finish: when it exited (CLOCK_MONOTONIC nanoseconds).") var exitedAt: UInt64?
    @Option(name: .long, help: "With --finish: when its first output came (CLOCK_MONOTONIC nanoseconds).") var firstOutput: UInt64?

    func validate() throws {
        if finish && (exitCode == nil || exitedAt == nil) {
            throw ValidationError("--finish needs --exit-code and --exited-at")
        }
    }

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        guard finish, let exitCode, let exitedAt else { return try await engine.monitor(id: id) }
        try await engine.finishMonitored(
            id: id, status: ExitStatus(code: exitCode, signal: signal),
            exitedAt: MonotonicInstant(nanoseconds: exitedAt), firstOutput: firstOutput.map { MonotonicInstant(nanoseconds: $0) })
    }
}

/// What `run` and `vm run` may change in the process an image runs: the same flags for both,
/// resolved the same way (``InstanceProcess``).
struct ProcessOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Set an environment variable (KEY=VALUE, or KEY to pass the host's).") var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory inside the instance.") var workdir: String?
    @Option(name: .shortAndLong, help: "User: name, uid, name:group or uid:gid.") var user: String?
    @Option(name: .long, help: "Replace the image's entrypoint (\"\" for none).") var entrypoint: String?

    var entrypointOverride: [String]? { entrypoint.map { $0.isEmpty ? [] : [$0] } }

    func overrides(command: [String], terminal: Bool = false) -> InstanceProcess.Overrides {
        InstanceProcess.Overrides(
            command: command, entrypoint: entrypointOverride, environment: env, workingDirectory: workdir,
            user: user, terminal: terminal)
    }
}
