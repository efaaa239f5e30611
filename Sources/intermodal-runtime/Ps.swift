#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// `ps`, as runc's: json is an array of the container's host pids (what docker top and `ctr
/// task ps` read); table runs the host's ps(1) with the given options (default -ef) and keeps
/// the header and the rows of the container's pids, found by the PID column.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes of a container.")
    @Option(name: [.short, .long], help: "table or json (an array of host pids; ps options are then ignored).") var format: String = "table"
    @Argument(help: "The container ID.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "Options for ps(1) (table only; default -ef).") var psOptions: [String] = []

    func run() {
        perform { () throws(IntermodalError) in
            let pids = try Global.runtime.processes(id: id)
            switch format {
            case "json":
                StandardStreams.writeOutput("[" + pids.map(String.init).joined(separator: ",") + "]\n")
            case "table":
                let options = psOptions.first == "--" ? Array(psOptions.dropFirst()) : psOptions
                StandardStreams.writeOutput(try Self.table(Self.hostPS(options.isEmpty ? ["-ef"] : options), pids: pids))
            default:
                throw IntermodalError(.invalidArgument, "--format must be table or json, got \"\(format)\"")
            }
        }
    }

    /// ps(1)'s header and the rows whose PID column is one of `pids`.
    static func table(_ output: String, pids: [Int32]) throws(IntermodalError) -> String {
        var lines = output.split(separator: "\n").map(String.init)
        guard !lines.isEmpty else { return "" }
        let header = lines.removeFirst()
        guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
            throw IntermodalError(.invalidArgument, "ps: its output has no PID column (\(header))")
        }
        let wanted = Set(pids)
        return lines.reduce(header + "\n") { out, line in
            let fields = line.split(separator: " ")
            guard fields.count > column, let pid = Int32(fields[column]), wanted.contains(pid) else { return out }
            return out + line + "\n"
        }
    }

    /// The standard output of `ps OPTIONS`; an error names its status.
    static func hostPS(_ options: [String]) throws(IntermodalError) -> String {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .system("cannot create a pipe for ps") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let argv = (["ps"] + options).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "ps", &actions, nil, argv, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard rc == 0 else { throw IntermodalError(.notFound, "cannot run ps(1)", cause: Errno(rawValue: rc)) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw IntermodalError(.externalFailure, "ps \(options.joined(separator: " ")) failed (wait status \(status))")
        }
        return String(decoding: out, as: UTF8.self)
    }
}
