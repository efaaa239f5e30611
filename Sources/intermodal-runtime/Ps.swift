import ArgumentParser
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// `ps`: the container's processes. json is an array of host pids (what docker top and `ctr
/// task ps` read); table shows each pid with its command line.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes of a container.")
    @Option(name: [.short, .long], help: "table or json (an array of host pids).") var format: String = "table"
    @Argument(help: "The container ID.") var id: String

    func run() {
        perform { () throws(IntermodalError) in
            let pids = try Global.runtime.processes(id: id)
            switch format {
            case "json":
                StandardStreams.writeOutput("[" + pids.map(String.init).joined(separator: ",") + "]\n")
            case "table":
                var out = "PID       CMD\n"
                for pid in pids {
                    let raw = (try? FileSystem.readBytes(FilePath("/proc/\(pid)/cmdline"))) ?? []
                    let command = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
                    let column = String(pid)
                    out += column + String(repeating: " ", count: max(1, 10 - column.count)) + command + "\n"
                }
                StandardStreams.writeOutput(out)
            default:
                throw IntermodalError(.invalidArgument, "--format must be table or json, got \"\(format)\"")
            }
        }
    }
}
