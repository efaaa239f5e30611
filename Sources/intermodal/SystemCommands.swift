import ArgumentParser
import ContainerEngine
import ImageStore
import IntermodalCore

/// `intermodal system ...`
struct SystemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Check and repair the store.", subcommands: [SystemCheckCommand.self])
}

/// `intermodal system check [--repair]`
struct SystemCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify every blob, image, container record and runtime state of the store; say what is wrong and how to repair it.",
        discussion: """
            Exits 0 when nothing is damaged (leftovers of interrupted work are listed but reclaimed \
            automatically), 1 otherwise. --repair does only what cannot lose anything the user stored, \
            and names each thing it changes: rebuilds a lost index.json from the manifests among the \
            blobs (untagged), removes interrupted work and unreferenced blobs and layers, deletes \
            runtime state no container owns, unmounts exited containers. Damaged images and \
            containers are never removed by it: the findings give the rmi/rm command for each.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Make the safe repairs, naming each.") var repair = false

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        if repair {
            for step in try await engine.repair() { StandardStreams.writeOutput("repaired: \(step)\n") }
        }
        let findings = await engine.check()
        for f in findings {
            StandardStreams.writeOutput("\(f.severity == .damage ? "DAMAGED" : "leftover"): \(f.problem)\n    repair: \(f.repair)\n")
        }
        let damage = findings.filter { $0.severity == .damage }.count
        StandardStreams.writeOutput(
            damage == 0
                ? "store \(engine.root): OK (\(findings.count) leftover\(findings.count == 1 ? "" : "s"))\n"
                : "store \(engine.root): \(damage) problem\(damage == 1 ? "" : "s") found\n")
        if damage > 0 { throw ExitCode(1) }
    }
}
