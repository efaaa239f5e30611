import ArgumentParser
import ImageStore
import IntermodalCore
import SystemPackage

/// `intermodal save IMAGE -o DIR|FILE.tar`
struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Write images as an OCI layout directory or a tar of one.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Output directory, or FILE.tar.") var output: String
    @Argument(help: "Image names or IDs.") var images: [String]

    func run() async throws {
        let store = try ImageCommands.store(global)
        var selected: [Image] = []
        for name in images { selected.append(try store.resolve(name)) }
        if output.hasSuffix(".tar") {
            try await store.save(selected, toArchive: FilePath(output))
        } else {
            try store.save(selected, toLayout: FilePath(output))
        }
    }
}

/// `intermodal load -i DIR|FILE.tar`
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load images from an OCI layout directory or a tar of one.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Input directory, or FILE.tar.") var input: String
    @Option(help: "Repository for entries named only by a tag (default: the layout's name).") var repository: String?

    func run() async throws {
        let store = try ImageCommands.store(global)
        for image in try await store.load(from: FilePath(input), repository: repository) {
            let names = image.names.map(\.localName).joined(separator: ", ")
            StandardStreams.writeOutput("Loaded image: \(names.isEmpty ? image.configDigest : names)\n")
        }
    }
}

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "REGISTRY/REPOSITORY[:TAG]") var reference: String
    func run() async throws { throw IntermodalError(.unsupported, "pull: not yet implemented") }
}

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push an image to a registry.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "REGISTRY/REPOSITORY[:TAG]") var reference: String
    func run() async throws { throw IntermodalError(.unsupported, "push: not yet implemented") }
}

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search a registry's catalog.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Search term.") var term: String
    func run() async throws { throw IntermodalError(.unsupported, "search: not yet implemented") }
}

/// `intermodal image bootstrap debian NAME[:TAG] [--suite S] [--variant V]`
struct BootstrapDebianCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debian", abstract: "A Debian image via debootstrap and the host's apt mirror (cached).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Debian suite.") var suite = "bookworm"
    @Option(help: "debootstrap variant.") var variant = "minbase"
    @Option(help: "Mirror URI (default: the host's apt source for the suite).") var mirror: String?
    @Option(help: "Extra packages, comma-separated.") var include: String?
    @Argument(help: "NAME[:TAG] of the new image.") var name: String

    func run() async throws {
        let store = try ImageCommands.store(global)
        let bootstrap = try DebianBootstrap(
            suite: suite, variant: variant, mirror: mirror,
            include: include.map { $0.split(separator: ",").map(String.init) } ?? [])
        let image = try await store.bootstrapDebian(name: try ImageReference.parse(name), bootstrap: bootstrap)
        StandardStreams.writeOutput("\(image.configDigest)\n")
    }
}
