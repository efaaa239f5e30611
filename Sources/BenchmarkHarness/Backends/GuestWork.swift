import ContainerEngine
import IntermodalCore
import Synchronization
import SystemPackage
import VirtualMachines

/// What both guest backends (`vm`, `vm-full`) leave to remove: their guests' state and their
/// work directory, and the journal's entries for them.
enum GuestWork {
    static func remove(_ context: BenchContext, uri: String, stateRoot: FilePath) {
        _ = GuestInventory.pruneStale(uri: uri, stateRoot: stateRoot)
        try? FileSystem.removeTree(context.workDirectory)
        context.journal.remove(.guests(stateRoot: stateRoot.string, uri: uri))
        context.journal.remove(.directory(context.workDirectory.string))
    }
}

/// Addresses on the containers' bridge that service guests hold, by the service's handle.
final class BridgeLeases: Sendable {
    private let owners = Mutex<[String: String]>([:])

    /// Leases an address for `handle` (its owner: this process, so a crash frees it).
    func reserve(_ handle: String, owner: String) async throws(IntermodalError) -> BridgeNetwork.Attachment {
        let lease = try await BridgeNetwork().reserve(owner: owner)
        owners.withLock { $0[handle] = owner }
        return lease
    }

    func release(_ handle: String) async {
        if let owner = owners.withLock({ $0.removeValue(forKey: handle) }) { try? await BridgeNetwork().detach(containerID: owner) }
    }

    func releaseAll() async {
        for handle in owners.withLock({ Array($0.keys) }) { await release(handle) }
    }
}
