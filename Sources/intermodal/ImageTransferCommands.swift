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
        throw IntermodalError(.unsupported, "save: not yet implemented")
    }
}

/// `intermodal load -i DIR|FILE.tar`
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load images from an OCI layout directory or a tar of one.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Input directory, or FILE.tar.") var input: String

    func run() async throws {
        throw IntermodalError(.unsupported, "load: not yet implemented")
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

/// Placeholder until debootstrap support lands.
struct BootstrapDebianCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debian", abstract: "A Debian image via debootstrap and the host's apt mirror.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Debian suite.") var suite = "bookworm"
    @Option(help: "debootstrap variant.") var variant = "minbase"
    @Argument(help: "NAME[:TAG] of the new image.") var name: String
    func run() async throws { throw IntermodalError(.unsupported, "image bootstrap debian: not yet implemented") }
}
