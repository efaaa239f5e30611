/// The backends this build has, by suite name.
enum BackendFactory {
    static func make(_ name: String) -> (any Backend)? {
        switch name {
        case "native": NativeBackend()
        case "intermodal": IntermodalCLIBackend()
        case "intermodal-lib": IntermodalLibraryBackend()
        case "runc", "crun": OCIRuntimeBackend(name: name)
        case "podman": PodmanBackend()
        case "podman+intermodal-runtime": PodmanBackend(name: name, runtime: .intermodal)
        case "docker": DockerBackend()
        case "vm": GuestBackend()
        case "vm-full": FullGuestBackend()
        default: nil
        }
    }
}
