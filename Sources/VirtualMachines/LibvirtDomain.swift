#if canImport(Glibc)
import Glibc
#endif
import CLibvirt
import IntermodalCore

/// A libvirt domain (guest) handle.
public struct LibvirtDomain: Sendable {
    final class Handle: @unchecked Sendable {
        let pointer: virDomainPtr
        init(_ pointer: virDomainPtr) { self.pointer = pointer }
        deinit { _ = Libvirt.loaded.virDomainFree(pointer) }
    }

    let handle: Handle
    public let name: String
    let connection: LibvirtConnection

    init(_ pointer: virDomainPtr, connection: LibvirtConnection) {
        handle = Handle(pointer)
        name = connection.api.virDomainGetName(pointer).map { String(cString: $0) } ?? "?"
        self.connection = connection
    }

    /// True while the domain exists and runs (a transient domain vanishes when it stops).
    public var isActive: Bool { connection.api.virDomainIsActive(handle.pointer) == 1 }

    /// Stops the guest at once (pulls the plug). A domain that is already gone is fine.
    public func destroy() throws(IntermodalError) {
        if connection.api.virDomainDestroy(handle.pointer) != 0 {
            let err = connection.api.virGetLastError()
            let code = err?.pointee.code ?? 0
            if code == Int32(VIR_ERR_NO_DOMAIN.rawValue) || code == Int32(VIR_ERR_OPERATION_INVALID.rawValue) { return }
            throw IntermodalError(.externalFailure, "cannot destroy domain \(name) at \(connection.uri): \(Libvirt.lastError())")
        }
    }

    /// libvirt's numeric domain ID while running.
    public var id: UInt32? {
        let v = connection.api.virDomainGetID(handle.pointer)
        return v == UInt32.max ? nil : v
    }
}

extension LibvirtConnection {
    /// Starts a transient domain from `xml` (`virDomainCreateXML`). With `autoDestroy` libvirt
    /// destroys it when this connection closes, so a crashed or killed caller leaves no guest.
    public func createTransientDomain(xml: String, autoDestroy: Bool = true) throws(IntermodalError) -> LibvirtDomain {
        let flags: UInt32 = autoDestroy ? VIR_DOMAIN_START_AUTODESTROY.rawValue : 0
        guard let p = api.virDomainCreateXML(pointer, xml, flags) else {
            throw IntermodalError(.externalFailure, "libvirt at \(uri) refused to start the guest: \(Libvirt.lastError())")
        }
        return LibvirtDomain(p, connection: self)
    }

    /// The domain called `name`, or nil.
    public func domain(named name: String) -> LibvirtDomain? {
        guard let p = api.virDomainLookupByName(pointer, name) else { return nil }
        return LibvirtDomain(p, connection: self)
    }

    /// Every domain whose name starts with `prefix` (running or defined).
    public func domains(prefix: String = "intermodal-") throws(IntermodalError) -> [LibvirtDomain] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let n = api.virConnectListAllDomains(pointer, &list, 0)
        guard n >= 0, let list else {
            throw IntermodalError(.externalFailure, "cannot list domains at \(uri): \(Libvirt.lastError())")
        }
        defer { free(list) }
        var out: [LibvirtDomain] = []
        for i in 0..<Int(n) {
            guard let p = list[i] else { continue }
            let d = LibvirtDomain(p, connection: self)
            if d.name.hasPrefix(prefix) { out.append(d) }
        }
        return out
    }
}
