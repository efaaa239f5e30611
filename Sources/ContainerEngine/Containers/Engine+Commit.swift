import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

extension Engine {
    /// `commit`: the container's writable layer (the overlay upper dir; deletions are overlay
    /// whiteouts, which the store turns into OCI `.wh.` entries) becomes a new layer on top of the
    /// container's image, with a history entry saying what made it.
    ///
    /// The new image's config is Docker's: the container's environment and command.
    public func commit(
        _ reference: String, as tag: ImageReference?, comment: String? = nil, author: String? = nil
    ) async throws(IntermodalError) -> Image {
        let record = try await container(reference)
        let dir = registry.directory(record.id)
        let base = try store.resolve(record.imageID)
        var configuration = base.configuration
        var config = configuration.config ?? ImageConfiguration.ContainerConfig()
        if FileSystem.exists(dir.config) {
            let spec = try Spec.load(bundle: dir.path)
            // HOSTNAME is per container, not part of the image.
            config.env = spec.process?.env?.filter { !$0.hasPrefix("HOSTNAME=") }
        }
        config.entrypoint = record.entrypoint.isEmpty ? nil : record.entrypoint
        config.cmd = record.command.isEmpty ? nil : record.command
        configuration.config = config
        let history = HistoryEntry(
            created: WallClock.rfc3339(), createdBy: (record.entrypoint + record.command).joined(separator: " "),
            author: author, comment: comment)
        switch record.rootfsMode {
        case .overlay:
            return try await store.commit(
                base: base, upperDirectory: dir.upper, configuration: configuration, history: history, tag: tag)
        case .copy:
            // A flattened copy has no diff against the image: it becomes one complete layer.
            return try await store.commit(
                base: nil, upperDirectory: dir.rootfs, configuration: configuration, history: history, tag: tag)
        }
    }
}
