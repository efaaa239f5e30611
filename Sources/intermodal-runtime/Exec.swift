#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// `exec`, as runc takes it: the process from `--process` (what conmon and containerd's shim
/// pass), or config.json's process with the command line's changes.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a process in a running container.",
        discussion: "Exits with the process's status, or 255 on error; with --detach, 0 once the process runs.")
    @Option(name: [.customShort("p"), .long], help: "The process as OCI JSON (config.json's process); the command line's process options are then ignored.")
    var process: String?
    @Option(name: .long, help: "A Unix socket to receive the pseudo-terminal master (with --tty).") var consoleSocket: String?
    @Option(name: .long, help: "Write the process's pid to this file.") var pidFile: String?
    @Flag(name: [.short, .long], help: "Return once the process runs, leaving it to the caller (a subreaper).") var detach = false
    @Flag(name: [.short, .long], help: "Allocate a pseudo-terminal (sent to --console-socket, else relayed to this process's streams).")
    var tty = false
    @Option(name: .long, help: "Working directory inside the container.") var cwd: String?
    @Option(name: [.short, .long], help: "Add an environment variable NAME=value (repeatable).") var env: [String] = []
    @Option(name: [.short, .long], help: "uid[:gid] to run as.") var user: String?
    @Option(name: [.customShort("g"), .long], help: "An additional group id (repeatable).") var additionalGids: [UInt32] = []
    @Option(name: [.customShort("c"), .long], help: "Add a capability to the bounding, effective and permitted sets (repeatable).")
    var cap: [String] = []
    @Flag(name: .long, help: "Set no_new_privs for the process.") var noNewPrivs = false
    @Option(name: .long, help: "An AppArmor profile: refused, as in config.json (this runtime applies none).") var apparmor: String?
    @Option(name: .long, help: "An SELinux label: as config.json's selinuxLabel (refused where SELinux is enabled).") var processLabel: String?
    @Option(name: .long, help: "Pass descriptors 3 .. 3+N-1 into the process.") var preserveFds: Int = 0
    @Flag(name: .long, help: "Exec in a paused container too (the process runs once it is resumed).") var ignorePaused = false
    @Option(name: .long, help: "A sub-cgroup to run in; only the container's own cgroup (\"\" or /) is supported.") var cgroup: [String] = []
    @Argument(help: "The container ID.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (without --process).") var command: [String] = []

    func run() {
        var status = ExitStatus(code: 255)
        do throws(IntermodalError) {
            guard cgroup.allSatisfy({ $0.isEmpty || $0 == "/" }) else {
                throw IntermodalError(.unsupported, "--cgroup \(cgroup.joined(separator: ",")): exec into a sub-cgroup is not supported")
            }
            guard preserveFds >= 0 else { throw IntermodalError(.invalidArgument, "--preserve-fds must be 0 or more, got \(preserveFds)") }
            let rt = Global.runtime
            let process: Spec.Process
            if let path = self.process { process = try Self.load(path) } else { process = try commandLineProcess(rt) }
            if process.terminal == true && consoleSocket == nil && detach {
                throw IntermodalError(.invalidArgument, "cannot allocate a terminal for a detached process without --console-socket")
            }
            let io: ProcessIO = consoleSocket.map { .consoleSocket(FilePath($0)) } ?? .inherit
            let options = ExecOptions(preserveFDs: preserveFds, addedCapabilities: self.process == nil ? cap : [],
                                      ignorePaused: ignorePaused)
            if detach {
                _ = try rt.execDetached(id: id, process: process, io: io, options: options, pidFile: pidFile.map { FilePath($0) })
                status = ExitStatus(code: 0)
            } else {
                guard pidFile == nil else {
                    throw IntermodalError(.invalidArgument, "--pid-file needs --detach (the pid is not known before the process ends otherwise)")
                }
                if process.terminal == true && consoleSocket == nil {
                    // runc relays a terminal it made itself between it and its own standard streams.
                    let started = try rt.startExec(id: id, process: process, io: .terminal, options: options)
                    guard let master = started.terminal else { throw IntermodalError(.internalError, "exec -t: no terminal came back") }
                    TerminalRelay.run(master: master.rawValue)
                    try? master.close()
                    status = started.waitSync()
                } else {
                    status = try rt.execSync(id: id, process: process, io: io, options: options)
                }
            }
        } catch {
            Global.fail(error, status: 255)
        }
        Glibc.exit(status.code)
    }

    /// The process JSON of `--process` (conmon and containerd's shim write it).
    static func load(_ path: String) throws(IntermodalError) -> Spec.Process {
        try Spec.decodePart(Spec.Process.self, try FileSystem.readBytes(FilePath(path)), source: "--process \(path)")
    }

    /// config.json's process, as runc's exec takes it, with the command line's changes.
    func commandLineProcess(_ rt: Runtime) throws(IntermodalError) -> Spec.Process {
        guard !command.isEmpty else { throw IntermodalError(.invalidArgument, "exec needs a command (or --process)") }
        var p = try rt.configuredProcess(id: id)
        p.args = command
        if let cwd { p.cwd = cwd }
        p.env = (p.env ?? []) + env
        p.terminal = tty
        if noNewPrivs { p.noNewPrivileges = true }
        if let apparmor { p.apparmorProfile = apparmor }
        if let processLabel { p.selinuxLabel = processLabel }
        if let user {
            let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let uid = UInt32(parts[0]) else { throw IntermodalError(.invalidArgument, "--user \(user): bad uid") }
            p.user.uid = uid
            if parts.count == 2 {
                guard let gid = UInt32(parts[1]) else { throw IntermodalError(.invalidArgument, "--user \(user): bad gid") }
                p.user.gid = gid
            }
        }
        if !additionalGids.isEmpty { p.user.additionalGids = (p.user.additionalGids ?? []) + additionalGids }
        return p
    }
}
