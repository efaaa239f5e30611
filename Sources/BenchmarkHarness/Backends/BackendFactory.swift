/// The backends this build has, by suite name.
enum BackendFactory {
    static func make(_ name: String) -> (any Backend)? {
        switch name {
        case "native": NativeBackend()
        case "intermodal": IntermodalCLIBackend()
        case "intermodal-lib": IntermodalLibraryBackend()
        case "runc", "crun": OCIRuntimeBackend(name: name)
        case "vm": GuestBackend()
        case "vm-full": FullGuestBackend()
        default: nil
        }
    }
}
