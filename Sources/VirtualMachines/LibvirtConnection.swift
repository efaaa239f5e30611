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
        deinit { _ = Libvirt.loaded.virConnectClose(pointer) }
    }

    let handle: Handle
    /// libvirt's functions (loaded before any connection exists).
    let api: intermodal_libvirt_api
    /// The URI connected to, e.g. `qemu:///system` or `qemu+ssh://host/system`.
    public let uri: String

    /// Opens a read-write connection to `uri`. Loads libvirt.so.0 on first use: a host without
    /// it gets an ``IntermodalError`` saying so.
    public init(uri: String = "qemu:///system") throws(IntermodalError) {
        let api = try Libvirt.api()
        Libvirt.silenceDefaultErrorPrinting(api)
        guard let p = api.virConnectOpen(uri) else {
            let why = Libvirt.lastError()
            var hint = ""
            if uri.hasPrefix("qemu:///") || uri.hasPrefix("qemu+unix") {
                hint = " (is libvirtd running? start it with `libvirtd -d`, or run scripts/setup)"
            }
            throw IntermodalError(.externalFailure, "cannot connect to libvirt at \(uri)\(hint): \(why)")
        }
        handle = Handle(p)
        self.api = api
        self.uri = uri
    }

    var pointer: virConnectPtr { handle.pointer }

    /// The libvirt library version the daemon runs, e.g. "9.0.0".
    public func libvirtVersion() throws(IntermodalError) -> String {
        var v: UInt = 0
        guard api.virConnectGetLibVersion(pointer, &v) == 0 else {
            throw IntermodalError(.externalFailure, "libvirt at \(uri): cannot read its version: \(Libvirt.lastError())")
        }
        return Libvirt.format(v)
    }

    /// The hypervisor's version as libvirt reports it, e.g. "7.2.22" for QEMU 7.2.22.
    public func hypervisorVersion() throws(IntermodalError) -> String {
        var v: UInt = 0
        guard api.virConnectGetVersion(pointer, &v) == 0 else {
            throw IntermodalError(.externalFailure, "libvirt at \(uri): cannot read the hypervisor version: \(Libvirt.lastError())")
        }
        return Libvirt.format(v)
    }

    /// True when the daemon at the other end is on this host (QEMU's /proc entries are ours to read).
    public var isLocal: Bool {
        let host = api.virConnectGetHostname(pointer).map { p -> String in defer { free(p) }; return String(cString: p) }
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let mine = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return uri.hasPrefix("qemu:///") || host == mine
    }
}
