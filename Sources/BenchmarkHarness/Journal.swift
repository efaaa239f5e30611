#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import IntermodalCore
import SystemPackage
import Synchronization
import VirtualMachines

/// What a run has alive on the host right now, written down before it exists: a run killed with
/// SIGKILL cannot clean up, so the next run reads the journals of dead runs and removes what they
/// list (containers, peer containers, processes, guests, work directories).
public final class Journal: Sendable {
    /// One thing to remove, as data, so that another process can remove it.
    public enum Entry: Codable, Sendable, Equatable {
        /// A container of our engine in the store at `root`.
        case container(root: String, id: String)
        /// A container of an OCI runtime CLI (`runc`, `crun`) with its `--root`; crun on hybrid
        /// hosts needs the cgroup v2 mount hidden again (`hideCgroup2`).
        case ociContainer(runtime: String, stateRoot: String, id: String, hideCgroup2: Bool)
        /// A peer engine's container (`podman rm -f NAME`, `docker rm -f NAME`).
        case peerContainer(cli: String, name: String, environment: [String])
        /// A process of ours (its start time tells a reused pid apart).
        case process(pid: Int32, startTime: UInt64)
        /// Our guests under a state root (libvirt domains and their disks).
        case guests(stateRoot: String, uri: String)
        /// A directory of the run (bundles, root file systems); mounts under it go first.
        case directory(String)
        /// A cgroup (a peer's cgroup parent) in every hierarchy, with what is left below it.
        case cgroup(String)
    }

    private struct Record: Codable {
        var pid: Int32
        var startTime: UInt64
        var entries: [Entry]
    }

    let file: FilePath
    private let state: Mutex<[Entry]>

    /// A journal for this process under `directory`.
    public init(directory: FilePath) throws(IntermodalError) {
        try FileSystem.createDirectory(directory)
        file = directory.appending("run-\(getpid()).json")
        state = Mutex([])
        try save([])
    }

    /// Records `entry` (before the thing exists).
    public func add(_ entry: Entry) {
        let all = state.withLock { s -> [Entry] in s.append(entry); return s }
        try? save(all)
    }

    /// Forgets `entry` (after it is gone).
    public func remove(_ entry: Entry) {
        let all = state.withLock { s -> [Entry] in
            if let i = s.lastIndex(of: entry) { s.remove(at: i) }
            return s
        }
        try? save(all)
    }

    /// The run ended cleanly: its journal goes.
    public func close() { unlink(file.string) }

    private func save(_ entries: [Entry]) throws(IntermodalError) {
        let record = Record(pid: getpid(), startTime: HostProcesses.startTime(getpid()) ?? 0, entries: entries)
        try FileSystem.writeAtomically(try JSON.encode(record), to: file)
    }

    /// Removes what runs that died (their process gone) left, newest last; returns a line per thing.
    public static func replay(directory: FilePath, intermodal: FilePath) async -> [String] {
        var done: [String] = []
        for name in ((try? FileSystem.list(directory)) ?? []).sorted() where name.hasPrefix("run-") && name.hasSuffix(".json") {
            let path = directory.appending(name)
            guard let bytes = try? FileSystem.readBytes(path),
                  let record = try? JSON.decode(Record.self, from: bytes, what: path.string) else {
                unlink(path.string)
                continue
            }
            if record.pid != getpid(), HostProcesses.startTime(record.pid) == record.startTime, record.startTime != 0 { continue }   // alive
            if record.pid == getpid() { continue }
            for entry in record.entries.reversed() {
                done.append(await clean(entry, intermodal: intermodal))
            }
            unlink(path.string)
        }
        return done
    }

    static func clean(_ entry: Entry, intermodal: FilePath) async -> String {
        switch entry {
        case .container(let root, let id):
            let r = try? await HostCommand.run(intermodal.string, ["rm", "--root", root, "-f", id])
            let said = r.map { $0.succeeded ? "" : ": " + $0.standardError.trimmed } ?? ": could not run \(intermodal)"
            return "container \(id) of \(root)" + said
        case .ociContainer(let runtime, let stateRoot, let id, let hide):
            let args = ["--root", stateRoot, "delete", "-f", id]
            if hide {
                _ = try? await HostCommand.run("unshare", ["-m", "sh", "-c", "umount -l /sys/fs/cgroup/unified 2>/dev/null; exec \"$0\" \"$@\"", runtime] + args)
            } else {
                _ = try? await HostCommand.run(runtime, args)
            }
            return "\(runtime) container \(id)"
        case .peerContainer(let cli, let name, let environment):
            var env: [String: String] = [:]
            for e in environment { if let i = e.firstIndex(of: "=") { env[String(e[..<i])] = String(e[e.index(after: i)...]) } }
            _ = try? await HostCommand.run(cli, ["rm", "-f", name], environment: env)
            return "\(cli) container \(name)"
        case .process(let pid, let start):
            if HostProcesses.startTime(pid) == start { kill(pid, SIGKILL) }
            return "process \(pid)"
        case .guests(let stateRoot, let uri):
            _ = GuestInventory.pruneStale(uri: uri, stateRoot: FilePath(stateRoot))
            return "guests under \(stateRoot)"
        case .cgroup(let path):
            PeerEngine.removeCgroup(path)
            return "cgroup \(path)"
        case .directory(let path):
            // A daemon chrooted below it (a native service's) is not in the journal by pid.
            await HostProcesses.killRooted(under: FilePath(path))
            unmountAll(under: path)
            try? FileSystem.removeTree(FilePath(path))
            return "directory \(path)"
        }
    }

    /// Unmounts everything mounted at or below `path`, deepest first.
    static func unmountAll(under path: String) {
        guard let text = try? FileSystem.readString("/proc/self/mountinfo") else { return }
        let points = text.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.count > 4 else { return nil }
            let p = String(f[4])
            return p == path || p.hasPrefix(path + "/") ? p : nil
        }
        for p in points.sorted(by: >) { umount2(p, Int32(MNT_DETACH)) }
    }
}
