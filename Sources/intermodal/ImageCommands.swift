import ArgumentParser
import ImageStore
import IntermodalCore
import SystemPackage

/// `images`, `history`, `pull`, `push`, `image bootstrap`, ... (the images issue).
enum ImageCommands {
    static let all: [any ParsableCommand.Type] = [
        ImagesCommand.self, HistoryCommand.self, RmiCommand.self, TagCommand.self, ImageCommand.self,
        ImportCommand.self, SaveCommand.self, LoadCommand.self, PullCommand.self, PushCommand.self,
        SearchCommand.self,
    ]

    /// The store under the global root.
    static func store(_ global: GlobalOptions) throws(IntermodalError) -> ImageStore {
        try ImageStore(root: IntermodalPaths.storeRoot(override: global.root), layerSizeLimit: try global.layerSizeLimit())
    }
}

/// Left-aligned columns separated by three spaces, like Docker's tables.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, cell) in cells.enumerated() {
                if i == cells.count - 1 { s += cell } else { s += cell + String(repeating: " ", count: widths[i] - cell.count + 3) }
            }
            return s.trimmingTrailingWhitespace + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}

/// `intermodal images`
struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images", abstract: "List images: REPOSITORY, TAG, IMAGE ID, CREATED, SIZE.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Only show image IDs.") var quiet = false

    func run() async throws {
        let store = try ImageCommands.store(global)
        let listing = try store.listing()
        let images = listing.images
        for damaged in listing.damaged {
            StandardStreams.writeError(
                "warning: image \(damaged.handle) is damaged and not listed: \(damaged.problem.description) "
                    + "('intermodal rmi --force \(damaged.handle)' removes it)\n")
        }
        if quiet {
            StandardStreams.writeOutput(images.map { $0.shortID + "\n" }.joined())
            return
        }
        var rows: [[String]] = []
        for image in images {
            let names = image.names.isEmpty ? [nil] : image.names.map { Optional($0) }
            for name in names {
                rows.append([
                    name?.repository ?? "<none>", name?.tag ?? "<none>", image.shortID,
                    Timestamp.humanAgo(image.configuration.created), ByteCount.human(image.size),
                ])
            }
        }
        StandardStreams.writeOutput(TextTable.render(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows))
        let usage = try store.diskUsage()
        if !images.isEmpty {
            StandardStreams.writeOutput(
                "\(images.count) image\(images.count == 1 ? "" : "s"), \(usage.layerCount) distinct layer\(usage.layerCount == 1 ? "" : "s"): \(ByteCount.human(usage.blobBytes)) on disk"
                    + " (\(ByteCount.human(usage.layerBytesIfNotShared)) if layers were not shared)\n")
        }
    }
}

/// `intermodal history IMAGE`
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show the layers of an image and the instructions that made them.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Do not truncate CREATED BY.") var noTrunc = false
    @Argument(help: "Image name or ID.") var image: String

    func run() async throws {
        let store = try ImageCommands.store(global)
        let image = try store.resolve(image)
        var layers = image.layers.makeIterator()
        var rows: [[String]] = []
        let history = image.configuration.history ?? []
        for (i, entry) in history.enumerated() {
            let size = entry.emptyLayer == true ? 0 : (layers.next()?.size ?? 0)
            var by = entry.createdBy ?? ""
            if !noTrunc && by.count > 45 { by = String(by.prefix(44)) + "…" }
            let id = i == history.count - 1 ? image.shortID : "<missing>"
            rows.append([id, Timestamp.humanAgo(entry.created), by, ByteCount.human(size), entry.comment ?? ""])
        }
        StandardStreams.writeOutput(TextTable.render(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows.reversed()))
    }
}

/// `intermodal rmi IMAGE...`
struct RmiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmi",
        abstract: "Remove images (names, and blobs no other image uses).",
        discussion: "An image that containers (running or stopped) were made from is refused unless --force, which removes its name and keeps the image untagged.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove the name even if containers use the image.") var force = false
    @Argument(help: "Image names or IDs.") var images: [String]

    func run() async throws {
        let engine = try ContainerCommands.engine(global)
        for name in images {
            let removal = try await engine.removeImage(name, force: force)
            StandardStreams.writeOutput(removal.untagged.map { "Untagged: \($0)\n" }.joined())
            if let deleted = removal.deleted { StandardStreams.writeOutput("Deleted: \(deleted)\n") }
        }
    }
}

/// `intermodal tag SOURCE TARGET`
struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Existing image name or ID.") var source: String
    @Argument(help: "New name [REGISTRY/]REPOSITORY[:TAG].") var target: String

    func run() async throws {
        let store = try ImageCommands.store(global)
        try await store.tag(try store.resolve(source), as: try ImageReference.parse(target))
    }
}

/// `intermodal image ...`
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images.", subcommands: [BootstrapCommand.self])
}

/// `intermodal image bootstrap busybox|debian NAME[:TAG]`
struct BootstrapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap", abstract: "Make a base image on this host, without a registry.",
        subcommands: [BootstrapBusyboxCommand.self, BootstrapDebianCommand.self])
}

struct BootstrapBusyboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "busybox", abstract: "A one-layer image of the host's busybox-static.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "NAME[:TAG] of the new image.") var name: String

    func run() async throws {
        // Ctrl-C or SIGTERM rolls the work back (temporary trees removed) instead of killing it half-done.
        Interruption.install()
        let store = try ImageCommands.store(global)
        let image = try await store.bootstrapBusybox(name: try ImageReference.parse(name))
        StandardStreams.writeOutput("\(image.configDigest)\n")
    }
}

/// `intermodal import ROOTFS.tar[.gz] NAME[:TAG]`
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Make an image from a root file system archive.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A tar or tar.gz of a root file system.") var archive: String
    @Argument(help: "NAME[:TAG] of the new image.") var name: String

    func run() async throws {
        // Ctrl-C or SIGTERM rolls the work back (temporary trees removed) instead of killing it half-done.
        Interruption.install()
        let store = try ImageCommands.store(global)
        let image = try await store.importRootfs(archive: FilePath(archive), name: try ImageReference.parse(name))
        StandardStreams.writeOutput("\(image.configDigest)\n")
    }
}
