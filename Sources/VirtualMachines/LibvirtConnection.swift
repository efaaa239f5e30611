#if canImport(Glibc)
import Glibc
#endif
import CLibvirt
import IntermodalCore

/// A connection to a libvirt daemon through its C API (never `virsh`).
///
/// The handle is thread-safe in libvirt (one `virConnectPtr` may be used from any thread), so
/// the value is `Sendable`; the connection closes when the last copy goes away.
public struct LibvirtConnection: Sendable {
    final class Handle: @unchecked Sendable {
        let pointer: virConnectPtr
        init(_ pointer: virConnectPtr) { self.pointer = pointer }
        deinit { virConnectClose(pointer) }
    }

    let handle: Handle
    /// The URI connected to, e.g. `qemu:///system` or `qemu+ssh://host/system`.
    public let uri: String

    /// Opens a read-write connection to `uri`.
    public init(uri: String = "qemu:///system") throws(IntermodalError) {
        Libvirt.silenceDefaultErrorPrinting()
        guard let p = virConnectOpen(uri) else {
            let why = Libvirt.lastError()
            var hint = ""
            if uri.hasPrefix("qemu:///") || uri.hasPrefix("qemu+unix") {
                hint = " (is libvirtd running? start it with `libvirtd -d`, or run scripts/setup)"
            }
            throw IntermodalError(.externalFailure, "cannot connect to libvirt at \(uri)\(hint): \(why)")
        }
        handle = Handle(p)
        self.uri = uri
    }

    var pointer: virConnectPtr { handle.pointer }

    /// The libvirt library version the daemon runs, e.g. "9.0.0".
    public func libvirtVersion() throws(IntermodalError) -> String {
        var v: UInt = 0
        guard virConnectGetLibVersion(pointer, &v) == 0 else {
            throw IntermodalError(.externalFailure, "libvirt at \(uri): cannot read its version: \(Libvirt.lastError())")
        }
        return Libvirt.format(v)
    }

    /// The hypervisor's version as libvirt reports it, e.g. "7.2.22" for QEMU 7.2.22.
    public func hypervisorVersion() throws(IntermodalError) -> String {
        var v: UInt = 0
        guard virConnectGetVersion(pointer, &v) == 0 else {
            throw IntermodalError(.externalFailure, "libvirt at \(uri): cannot read the hypervisor version: \(Libvirt.lastError())")
        }
        return Libvirt.format(v)
    }

    /// True when the daemon at the other end is on this host (QEMU's /proc entries are ours to read).
    public var isLocal: Bool {
        let host = virConnectGetHostname(pointer).map { p -> String in defer { free(p) }; return String(cString: p) }
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let mine = String(cString: name)
        return uri.hasPrefix("qemu:///") || host == mine
    }
}

/// Helpers around libvirt's C error reporting.
enum Libvirt {
    /// The last libvirt error of this thread as text.
    static func lastError() -> String {
        guard let p = virGetLastErrorMessage() else { return "unknown libvirt error" }
        return String(cString: p)
    }

    /// libvirt's encoding `major * 1_000_000 + minor * 1000 + release` as "major.minor.release".
    static func format(_ v: UInt) -> String {
        "\(v / 1_000_000).\(v / 1000 % 1000).\(v % 1000)"
    }

    /// libvirt prints every error to stderr unless told otherwise; we report errors ourselves.
    static func silenceDefaultErrorPrinting() {
        virSetErrorFunc(nil) { _, _ in }
    }
}
