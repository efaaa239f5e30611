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
        // Ctrl-C or SIGTERM rolls the work back (temporary trees removed) instead of killing it half-done.
        Interruption.install()
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
        // Ctrl-C or SIGTERM rolls the work back (temporary trees removed) instead of killing it half-done.
        Interruption.install()
        let store = try ImageCommands.store(global)
        for image in try await store.load(from: FilePath(input), repository: repository) {
            let names = image.names.map(\.localName).joined(separator: ", ")
            StandardStreams.writeOutput("Loaded image: \(names.isEmpty ? image.configDigest : names)\n")
        }
    }
}

/// Registry options shared by pull, push and search.
struct RegistryOptions: ParsableArguments {
    @Flag(name: .long, help: "Speak plain HTTP to the registry (a local test registry).") var insecure = false
    @Option(name: .long, help: "User name for the registry (or $INTERMODAL_REGISTRY_USER).") var username: String?
    @Option(name: .long, help: "Password for the registry (or $INTERMODAL_REGISTRY_PASSWORD).") var password: String?

    /// Runs `body` with a client of `registry`, and closes the client's connections afterwards.
    func withClient<R>(for registry: String, _ body: (RegistryClient) async throws -> R) async throws -> R {
        let user = username ?? getenvString("INTERMODAL_REGISTRY_USER")
        let pass = password ?? getenvString("INTERMODAL_REGISTRY_PASSWORD")
        let credentials = user.map { RegistryCredentials(username: $0, password: pass ?? "") }
        let client = RegistryClient(registry: registry, insecure: insecure, credentials: credentials)
        let result: Result<R, any Error>
        do { result = .success(try await body(client)) } catch { result = .failure(error) }
        try await client.shutdown()
        return try result.get()
    }
}

/// The registry a reference names; there is no default registry on this host.
func requireRegistry(_ reference: ImageReference) throws(IntermodalError) -> String {
    if let registry = reference.registry { return registry }
    if let registry = getenvString("INTERMODAL_REGISTRY"), !registry.isEmpty { return registry }
    throw IntermodalError(.invalidArgument, "'\(reference)' names no registry (use HOST[:PORT]/NAME[:TAG] or set $INTERMODAL_REGISTRY)")
}

/// `intermodal pull REGISTRY/NAME[:TAG]`
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry (named NAME:TAG locally).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var registryOptions: RegistryOptions
    @Argument(help: "REGISTRY/REPOSITORY[:TAG|@DIGEST]") var reference: String

    func run() async throws {
        // Ctrl-C or SIGTERM rolls the work back (temporary trees removed) instead of killing it half-done.
        Interruption.install()
        let store = try ImageCommands.store(global)
        let ref = try ImageReference.parse(reference)
        let result = try await registryOptions.withClient(for: try requireRegistry(ref)) { client in
            try await client.pull(ref, into: store)
        }
        StandardStreams.writeOutput(
            "\(ref.withoutRegistry): \(result.blobsTransferred) blobs pulled (\(ByteCount.human(result.bytesTransferred))), \(result.blobsSkipped) already present\n"
                + "Digest: \(result.image.manifestDigest)\n")
    }
}

/// `intermodal push REGISTRY/NAME[:TAG]` pushes the local NAME:TAG (or `--from IMAGE`).
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push an image to a registry.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var registryOptions: RegistryOptions
    @Option(name: .long, help: "Local image to push (default: the reference without its registry).") var from: String?
    @Argument(help: "REGISTRY/REPOSITORY[:TAG]") var reference: String

    func run() async throws {
        let store = try ImageCommands.store(global)
        let ref = try ImageReference.parse(reference)
        let image = try store.resolve(from ?? ref.withoutRegistry.localName)
        let result = try await registryOptions.withClient(for: try requireRegistry(ref)) { client in
            try await client.push(image, as: ref, from: store)
        }
        StandardStreams.writeOutput(
            "\(ref): \(result.blobsTransferred) blobs pushed (\(ByteCount.human(result.bytesTransferred))), \(result.blobsSkipped) already there\n"
                + "Digest: \(image.manifestDigest)\n")
    }
}

/// `intermodal search [REGISTRY/]TERM`
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search a registry's catalog for repositories.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var registryOptions: RegistryOptions
    @Option(name: .long, help: "Registry host[:port] (default: $INTERMODAL_REGISTRY).") var registry: String?
    @Argument(help: "Search term (a substring of repository names).") var term: String

    func run() async throws {
        guard let host = registry ?? getenvString("INTERMODAL_REGISTRY") else {
            throw IntermodalError(.invalidArgument, "search needs --registry HOST[:PORT] (this host has no default registry)")
        }
        let rows = try await registryOptions.withClient(for: host) { client in
            var rows: [[String]] = []
            for repo in try await client.catalog() where term.isEmpty || repo.contains(term.lowercased()) {
                let tags = (try? await client.tags(repo)) ?? []
                rows.append([repo, tags.sorted().joined(separator: ",")])
            }
            return rows
        }
        StandardStreams.writeOutput(TextTable.render(["NAME", "TAGS"], rows))
    }
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
        // Ctrl-C or SIGTERM rolls the work back (temporary trees removed) instead of killing it half-done.
        Interruption.install()
        let store = try ImageCommands.store(global)
        let bootstrap = try DebianBootstrap(
            suite: suite, variant: variant, mirror: mirror,
            include: include.map { $0.split(separator: ",").map(String.init) } ?? [])
        let image = try await store.bootstrapDebian(name: try ImageReference.parse(name), bootstrap: bootstrap)
        StandardStreams.writeOutput("\(image.configDigest)\n")
    }
}
