#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Our guests on a libvirt host (`vm ps`, `vm rm`), and the clean-up of what a killed run left.
public enum GuestInventory {
    /// One guest of ours.
    public struct Guest: Sendable {
        public var name: String
        public var id: UInt32?
        /// PID of the `intermodal` process that started it (from its state directory), if known.
        public var owner: Int32?
    }

    /// Running domains of this store: named `intermodal-*` and with a state directory under
    /// `stateRoot` (made before the domain is defined). Another store's guests, and other tests'
    /// or programs' domains with the same prefix, are not listed, so `vm rm --all` leaves them be.
    public static func list(uri: String, stateRoot: FilePath) throws(IntermodalError) -> [Guest] {
        let c = try LibvirtConnection(uri: uri)
        return try c.domains().filter { FileSystem.isDirectory(stateRoot.appending($0.name)) }.map { d in
            let owner = (try? FileSystem.readString(stateRoot.appending("\(d.name)/owner.pid"))).flatMap { Int32($0.trimmed) }
            return Guest(name: d.name, id: d.id, owner: owner)
        }.sorted { $0.name < $1.name }
    }

    /// Destroys the guest `name` (if running) and removes its state directory (overlay disk,
    /// initramfs, socket, log). Unknown names are an error naming them.
    public static func remove(name: String, uri: String, stateRoot: FilePath) throws(IntermodalError) {
        guard name.hasPrefix("intermodal-"), !name.contains("/") else {
            throw IntermodalError(.invalidArgument, "'\(name)' is not a guest of ours (names start with intermodal-)")
        }
        let c = try LibvirtConnection(uri: uri)
        let dir = stateRoot.appending(name)
        let domain = c.domain(named: name)
        guard domain != nil || FileSystem.exists(dir) else {
            throw IntermodalError(.notFound, "no guest named \(name) at \(uri)")
        }
        try domain?.destroy()
        try FileSystem.removeTree(dir)
    }

    /// Removes state directories whose guest is gone and whose owning process is dead (what a
    /// SIGKILLed run leaves; libvirt's auto-destroy already ended the domain itself).
    @discardableResult
    public static func pruneStale(uri: String, stateRoot: FilePath) -> [String] {
        guard let names = try? FileSystem.list(stateRoot), let c = try? LibvirtConnection(uri: uri) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix("intermodal-") {
            let dir = stateRoot.appending(name)
            if let pid = (try? FileSystem.readString(dir.appending("owner.pid"))).flatMap({ Int32($0.trimmed) }),
               kill(pid, 0) == 0 || errno == EPERM {
                continue
            }
            if c.domain(named: name) != nil { continue }
            if (try? FileSystem.removeTree(dir)) != nil { removed.append(name) }
        }
        return removed
    }
}
