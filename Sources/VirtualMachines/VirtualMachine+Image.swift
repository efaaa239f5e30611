import ImageStore
import IntermodalCore
import SystemPackage

extension VirtualMachine {
    /// The disk source for an image: its layers flattened into an ext4 base disk, made once per
    /// manifest digest and shared by every guest of the image.
    public static func diskSource(image: Image, store: ImageStore) -> DiskSource {
        DiskSource(key: "image-" + image.manifestDigest) { dir throws(IntermodalError) in
            try await store.flatten(image, into: dir)
        }
    }

    /// What the image runs, resolved as for a container (``InstanceProcess``): the same
    /// entrypoint, command, environment, working directory and user for the same flags.
    public static func runConfiguration(
        image: Image, overrides: InstanceProcess.Overrides, hostname: String = "intermodal-guest"
    ) throws(IntermodalError) -> GuestInitramfs.RunConfiguration {
        let process = try InstanceProcess.resolve(image: image.configuration, overrides: overrides, hostname: hostname)
        // The init runs as root unless told otherwise; names are resolved by the init against
        // the guest's own /etc/passwd and /etc/group.
        let root: Set<String> = ["root", "0", "0:0"]
        return GuestInitramfs.RunConfiguration(
            arguments: process.arguments, environment: process.environment, workingDirectory: process.workingDirectory,
            user: process.user.flatMap { root.contains($0) ? nil : $0 }, hostname: process.hostname)
    }

    /// Runs what `image` runs with `overrides` (the command, `-e`, `-w`, `-u`, `--entrypoint`) in a new guest.
    public func run(
        image: Image, store: ImageStore, overrides: InstanceProcess.Overrides = .init(), output: OutputHandler? = nil
    ) async throws(IntermodalError) -> VirtualMachineResult {
        try await run(
            disk: Self.diskSource(image: image, store: store),
            command: Self.runConfiguration(image: image, overrides: overrides), output: output)
    }
}
