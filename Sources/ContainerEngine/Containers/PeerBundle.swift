import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// An OCI bundle of an image for another runtime (runc, crun): the image flattened into
/// `rootfs/` and the `config.json` our engine would give the same process (same namespaces,
/// capabilities and environment), without the engine's own files (hosts, resolv.conf, the log).
/// The benchmark harness runs the same image this way on every OCI runtime.
public enum PeerBundle {
    /// Writes the bundle for `image` at `directory` (made fresh) and returns its configuration.
    @discardableResult
    public static func write(
        image: Image, store: ImageStore, process overrides: InstanceProcess.Overrides, id: String,
        at directory: FilePath, ociVersion: String? = nil
    ) async throws(IntermodalError) -> Spec {
        try? FileSystem.removeTree(directory)
        let rootfs = directory.appending("rootfs")
        try await store.flatten(image, into: rootfs)
        let spec = try self.spec(image: image, process: overrides, id: id, rootfs: rootfs, ociVersion: ociVersion)
        try FileSystem.writeAtomically(try JSON.encode(spec, pretty: true), to: directory.appending("config.json"))
        return spec
    }

    /// The configuration alone, for a root file system already in place.
    public static func spec(
        image: Image, process overrides: InstanceProcess.Overrides, id: String, rootfs: FilePath, ociVersion: String? = nil
    ) throws(IntermodalError) -> Spec {
        let process = try InstanceProcess.resolve(image: image.configuration, overrides: overrides, hostname: String(id.prefix(12)))
        let user = try UserResolver.resolve(process.user, rootfs: rootfs)
        var options = RunOptions(command: process.command)
        options.tty = process.terminal
        var spec = BundleGenerator.spec(id: id, process: process, options: options, user: user, directory: nil)
        if let ociVersion { spec.ociVersion = ociVersion }
        return spec
    }
}
