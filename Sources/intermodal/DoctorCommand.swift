import ArgumentParser
import HostProbe
import IntermodalCore

/// `intermodal doctor`: what this host offers for the benchmark, each line checked for real.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this host offers for the benchmark, for real (namespaces, cgroups, KVM, peers).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        throw IntermodalError(.unsupported, "doctor is being written")
    }
}
