import CLibvirt
import IntermodalCore

/// libvirt's C API as loaded at first use (``CLibvirt``'s dlopen table), and its error reporting.
///
/// Nothing in Intermodal links libvirt: only VM operations and `intermodal doctor` need it, and
/// they reach it through ``api()``, which turns a host without libvirt into an error, not a crash.
enum Libvirt {
    /// The table of libvirt functions, loading libvirt.so.0 on the first call.
    static func api() throws(IntermodalError) -> intermodal_libvirt_api {
        var why: UnsafePointer<CChar>?
        guard let table = intermodal_libvirt_load(&why) else {
            let detail = why.map { String(cString: $0) } ?? "libvirt.so.0: cannot be loaded"
            throw IntermodalError(.unsupported, "libvirt is not installed (\(detail)); run scripts/setup (or apt-get install libvirt0)")
        }
        return table.pointee
    }

    /// The table when a libvirt object exists already (so the library is loaded): for deinits.
    static var loaded: intermodal_libvirt_api {
        var why: UnsafePointer<CChar>?
        return intermodal_libvirt_load(&why)!.pointee
    }

    /// The last libvirt error of this thread as text.
    static func lastError() -> String {
        guard let p = loaded.virGetLastErrorMessage() else { return "unknown libvirt error" }
        return String(cString: p)
    }

    /// libvirt's encoding `major * 1_000_000 + minor * 1000 + release` as "major.minor.release".
    static func format(_ v: UInt) -> String {
        "\(v / 1_000_000).\(v / 1000 % 1000).\(v % 1000)"
    }

    /// libvirt prints every error to stderr unless told otherwise; we report errors ourselves.
    static func silenceDefaultErrorPrinting(_ api: intermodal_libvirt_api) {
        api.virSetErrorFunc(nil) { _, _ in }
    }
}
