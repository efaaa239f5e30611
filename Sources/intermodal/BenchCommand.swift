import ArgumentParser
import IntermodalCore

/// `intermodal bench`: the quick benchmark run. The harness lands in a later issue; until then
/// this says so plainly instead of printing made-up numbers.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the benchmark suite (default: the quick embedded suite) and write results/ and a report.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Where to write results.")
    var output: String = "results"

    func run() async throws {
        throw IntermodalError(
            .unsupported,
            "the benchmark harness is not yet available in this build (it lands with the harness issue); "
                + "run `intermodal doctor` to see what this host offers")
    }
}
