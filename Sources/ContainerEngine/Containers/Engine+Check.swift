#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

extension Engine {
    /// `system check`: the image store (``ImageStore/check()``: every blob, record and reference)
    /// and the containers: every container directory has a readable record; every record's
    /// image exists; the runtime holds no state for containers the store does not have; no
    /// stopped container is still mounted. Reads only; each finding says how to repair it.
    public func check() async -> [StoreFinding] {
        var findings = store.check()
        let ids = (try? registry.ids()) ?? []
        let imageIDs = Set(((try? store.list()) ?? []).map(\.configDigest))
        let mounts = MountTable.current()
        for id in ids {
            guard Identifiers.isID(id) else {
                findings.append(StoreFinding(
                    .damage, "\(registry.root.appending(id)) is not a container directory (its name is not a container ID)",
                    repair: "move it out of \(registry.root)"))
                continue
            }
            let record: ContainerRecord
            do throws(IntermodalError) {
                record = try registry.load(id: id)
            } catch {
                findings.append(StoreFinding(
                    .damage, "container \(id.prefix(12)): its record \(registry.directory(id).record) is unreadable: \(error)",
                    repair: "`intermodal rm -f \(id.prefix(12))` removes the container and everything made for it (its writable layer too)"))
                continue
            }
            if !imageIDs.contains(record.imageID) {
                findings.append(StoreFinding(
                    .damage, "container \(record.name) (\(record.shortID)): its image \(record.image) (\(record.imageID)) is not in the store or is damaged",
                    repair: "`intermodal rm -f \(record.shortID)`, or load the image again"))
            }
            let current = (try? await reconcile(record)) ?? record
            if current.status == .exited && mounts.isMountPoint(registry.directory(id).rootfs.string) {
                findings.append(StoreFinding(
                    .leftover, "container \(record.name) (\(record.shortID)) has exited but its root file system is still mounted",
                    repair: "`intermodal system check --repair` unmounts it (its changes stay for commit), or `intermodal rm \(record.shortID)`"))
            }
        }
        let known = Set(ids)
        for state in (try? runtime.list()) ?? [] where !known.contains(state.id) {
            findings.append(StoreFinding(
                .leftover, "the runtime has state for \(state.id) (\(state.status.rawValue)) but the store has no such container",
                repair: "`intermodal system check --repair` deletes it (killing what runs in it), or `intermodal-runtime --root \(runtime.stateRoot) delete --force \(state.id)`"))
        }
        for id in abandonedReservations() {
            findings.append(StoreFinding(
                .leftover, "the runtime reserved \(id) but the create was killed before its first state (cgroups it was making may be left)",
                repair: "`intermodal system check --repair` deletes it and those cgroups (as `rm -f` or the next `run` do when the store has the container)"))
        }
        for (id, problem) in (try? runtime.unreadable()) ?? [] {
            findings.append(StoreFinding(
                .damage, "the runtime state of \(id) is unreadable (\(problem.message)); its process and cgroups may still be there",
                repair: known.contains(id)
                    ? "`intermodal rm -f \(id.prefix(12))` removes the container, its process and cgroups"
                    : "`intermodal-runtime --root \(runtime.stateRoot) delete --force \(id)`"))
        }
        return findings
    }

    /// `system check --repair`: the image store's repairs (``ImageStore/repair()``), then runtime
    /// state that no container of the store owns is deleted and exited containers are unmounted.
    /// Containers and images are never removed here (`rm`, `rmi --force` do that, named by the
    /// user). Returns what was done, each step naming what it changed.
    public func repair() async throws(IntermodalError) -> [String] {
        var done = try await store.repair()
        let ids = Set((try? registry.ids()) ?? [])
        for state in (try? runtime.list()) ?? [] where !ids.contains(state.id) {
            try await runtime.delete(id: state.id, force: true)
            done.append("deleted the runtime state of \(state.id), which no container of this store owns")
        }
        for id in abandonedReservations() {
            try await runtime.delete(id: id, force: true)
            done.append("deleted the runtime's reservation of \(id), whose create was killed before its first state, and the cgroups it was making")
        }
        let mounts = MountTable.current()
        for id in ids where Identifiers.isID(id) {
            guard let record = try? registry.load(id: id) else { continue }
            guard ((try? await reconcile(record)) ?? record).status == .exited else { continue }
            let dir = registry.directory(id)
            if mounts.isMountPoint(dir.rootfs.string) {
                _ = try RootfsSnapshot.unmount(dir)
                done.append("unmounted the root file system of exited container \(record.name) (\(record.shortID))")
            }
        }
        return done
    }

    /// Runtime reservations without a state whose creator is gone: no container record, or one
    /// whose owner is dead (a live owner is creating it now).
    private func abandonedReservations() -> [String] {
        runtime.reservedWithoutState().filter { id in
            guard let owner = registry.ownerPID(of: id) else { return true }
            return !Self.isAlive(owner)
        }
    }
}
