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

    /// What the image runs, Docker's way: Entrypoint + (given command, else Cmd); its Env,
    /// WorkingDir and User.
    public static func runConfiguration(image: Image, command: [String]) throws(IntermodalError) -> GuestInitramfs.RunConfiguration {
        let config = image.configuration.config
        let args = (config?.entrypoint ?? []) + (command.isEmpty ? (config?.cmd ?? []) : command)
        guard !args.isEmpty else {
            throw IntermodalError(.invalidArgument, "image \(image.manifestDigest) has no Entrypoint or Cmd; give a command")
        }
        var env = config?.env ?? []
        if !env.contains(where: { $0.hasPrefix("PATH=") }) {
            env.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        // Names are resolved by the init against the guest's own /etc/passwd and /etc/group.
        var user: String?
        if let u = config?.user, !u.isEmpty, u != "root", u != "0", u != "0:0" { user = u }
        let workdir = config?.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        return GuestInitramfs.RunConfiguration(arguments: args, environment: env, workingDirectory: workdir, user: user)
    }

    /// Runs `command` (or the image's own) from `image` in a new guest.
    public func run(
        image: Image, store: ImageStore, command: [String] = [], output: OutputHandler? = nil
    ) async throws(IntermodalError) -> VirtualMachineResult {
        try await run(
            disk: Self.diskSource(image: image, store: store),
            command: Self.runConfiguration(image: image, command: command), output: output)
    }
}
