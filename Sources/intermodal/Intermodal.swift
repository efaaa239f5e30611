import ArgumentParser
import ImageStore
import IntermodalCore
#if canImport(Glibc)
import Glibc
#endif

/// `intermodal`: containers vs virtual machines, measured on this host.
struct Intermodal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intermodal",
        abstract: "How much lighter is a container than a virtual machine, on this host, for this workload?",
        version: IntermodalVersion.string,
        subcommands: [DoctorCommand.self, BenchCommand.self, ReportCommand.self, CompareCommand.self]
            + EngineCommands.all
            + VMCommands.all
    )
}

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Store root (default: $INTERMODAL_ROOT or /var/lib/intermodal).")
    var root: String?

    @Flag(name: .long, help: "Log debug detail to standard error.")
    var debug = false

    @Option(name: .long, help: "Largest size one image layer or imported archive may expand to (e.g. 512m, 32g; default 16g).")
    var maxLayerSize: String?

    /// ``maxLayerSize`` in bytes.
    func layerSizeLimit() throws(IntermodalError) -> Int64 {
        guard let maxLayerSize else { return LayerSizeLimit.default }
        guard let bytes = ByteSize.parse(maxLayerSize) else {
            throw IntermodalError(.invalidArgument, "--max-layer-size \(maxLayerSize): give a positive size such as 512m or 32g")
        }
        return bytes
    }
}

@main
enum IntermodalMain {
    static func main() async {
        do {
            var command = try Intermodal.parseAsRoot()
            CLILogging.bootstrap(debug: CommandLine.arguments.contains("--debug"))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as IntermodalError {
            CLIErrorPrinter.print(error, program: "intermodal")
            exit(CLIErrorPrinter.exitCode(for: error))
        } catch {
            Intermodal.exit(withError: error)
        }
    }
}
