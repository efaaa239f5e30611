import ImageStore
import IntermodalCore

/// What `rmi` did to one image.
public struct ImageRemoval: Sendable, Equatable {
    /// Names removed (`busybox:latest`).
    public var untagged: [String]
    /// The image ID when the image itself was deleted (its last name went and nothing uses it).
    public var deleted: String?
}

extension Engine {
    /// `rmi`, with Docker's rules for images that containers (running or stopped) were made from:
    ///
    /// - By name, when the image has other names: only that name goes.
    /// - By its last name, or by ID: refused while containers use the image (naming them), unless
    ///   `force`; forced, the names go and the image stays untagged (`<none>`), because those
    ///   containers' writable layers sit on its layers. A running container's image cannot be
    ///   removed by ID even with `force` (Docker: "cannot be forced").
    /// - Otherwise the name (or all names, by ID) and then the image are removed.
    ///
    /// A damaged image (its manifest or config missing or unreadable) cannot be checked for users;
    /// `force` removes its entries all the same (``ImageStore/removeDamaged(_:)``).
    public func removeImage(_ reference: String, force: Bool = false) async throws(IntermodalError) -> ImageRemoval {
        let image: Image
        do {
            image = try store.resolve(reference)
        } catch where (error.code == .corrupted || error.code == .notFound) && force {
            // By ID a damaged image is not found by resolve (its config, hence its ID, is unreadable).
            return ImageRemoval(untagged: try await store.removeDamaged(reference), deleted: nil)
        }
        let name = (try? ImageReference.parse(reference)).flatMap { ref in
            image.names.first { $0.localName == ref.localName }
        }
        if let name, image.names.count > 1 {
            try await store.untag(name)
            return ImageRemoval(untagged: [name.description], deleted: nil)
        }
        let users = try await list(all: true, includeBuildSteps: true).filter { $0.imageID == image.configDigest }
        if !users.isEmpty {
            let shortImageID = String(Digest.hex(image.configDigest).prefix(12))
            let running = users.filter { $0.status == .running }
            if let name {
                guard force else {
                    throw IntermodalError(.invalidState, "conflict: unable to remove repository reference \"\(name)\" (must force) - "
                        + "\(Self.containerPhrase(users)) using its referenced image \(shortImageID)")
                }
                try await store.untag(name)
                return ImageRemoval(untagged: [name.description], deleted: nil)
            }
            guard running.isEmpty else {
                throw IntermodalError(.invalidState, "conflict: unable to delete \(shortImageID) (cannot be forced) - "
                    + "image is being used by running \(Self.containerPhrase(running, verb: false))")
            }
            guard force else {
                throw IntermodalError(.invalidState, "conflict: unable to delete \(shortImageID) (must be forced) - "
                    + "image is being used by stopped \(Self.containerPhrase(users, verb: false))")
            }
            for n in image.names { try await store.untag(n) }
            return ImageRemoval(untagged: image.names.map(\.description), deleted: nil)
        }
        try await store.remove(reference)
        let gone = (try? store.resolve(image.manifestDigest)) == nil
        return ImageRemoval(
            untagged: name.map { [$0.description] } ?? image.names.map(\.description),
            deleted: gone ? image.configDigest : nil)
    }

    /// "container 1a2b3c4d5e6f is" / "containers 1a2b3c4d5e6f, 0f9e8d7c6b5a are" (`verb: false`
    /// leaves out the verb).
    private static func containerPhrase(_ records: [ContainerRecord], verb: Bool = true) -> String {
        let ids = records.map(\.shortID).joined(separator: ", ")
        if records.count == 1 { return "container \(ids)" + (verb ? " is" : "") }
        return "containers \(ids)" + (verb ? " are" : "")
    }
}
