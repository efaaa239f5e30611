#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ImageStore
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
    /// The journals are those of `root/journal` for the bench root `root`. A journal is data that
    /// another process wrote, and replaying it runs as root: one not owned by this user or
    /// writable by others is refused (and left for whoever put it there), and each entry is done
    /// only if the harness could have made it (``trusted(_:pid:root:)``).
    public static func replay(root: FilePath, intermodal: FilePath) async -> [String] {
        let directory = root.appending("journal")
        var done: [String] = []
        for name in ((try? FileSystem.list(directory)) ?? []).sorted() where name.hasPrefix("run-") && name.hasSuffix(".json") {
            let path = directory.appending(name)
            if let refused = untrustedFile(path) {
                done.append("ignored \(path): \(refused); remove it if it is yours")
                continue
            }
            guard let bytes = try? FileSystem.readBytes(path),
                  let record = try? JSON.decode(Record.self, from: bytes, what: path.string) else {
                unlink(path.string)
                continue
            }
            if record.pid != getpid(), HostProcesses.startTime(record.pid) == record.startTime, record.startTime != 0 { continue }   // alive
            if record.pid == getpid() { continue }
            for entry in record.entries.reversed() {
                if let why = trusted(entry, pid: record.pid, root: root) {
                    done.append("ignored an entry of \(path) the harness cannot have written (\(why))")
                } else {
                    done.append(await clean(entry, intermodal: intermodal))
                }
            }
            unlink(path.string)
        }
        return done
    }

    /// Why the journal at `path` is not to be read: not a regular file, not owned by this user
    /// (root), or writable by its group or others. Nil when it may be.
    static func untrustedFile(_ path: FilePath) -> String? {
        var st = stat()
        guard lstat(path.string, &st) == 0 else { return "cannot be read" }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
        guard st.st_uid == geteuid() else { return "owned by uid \(st.st_uid), not \(geteuid())" }
        guard st.st_mode & 0o022 == 0 else { return "writable by others (mode \(String(st.st_mode & 0o777, radix: 8)))" }
        return nil
    }

    /// Why `entry` of the journal of run `pid` under bench root `root` is not something that run
    /// made, or nil when it is: its directories are below `root/work` (or the docker backend's
    /// socket directory in the temporary directory), its names carry the run's pid as the
    /// backends make them, its programs are the peers' own CLIs found on PATH, and a process is
    /// one started from the bench root (its command line names a path below it).
    static func trusted(_ entry: Entry, pid: Int32, root: FilePath) -> String? {
        let work = root.appending("work")
        func below(_ path: String, _ base: FilePath) -> Bool {
            let p = FilePath(path)
            return p.isAbsolute && p.lexicallyNormalized() == p && p.starts(with: base) && p != base
                && !p.components.contains { $0.kind != .regular }
        }
        func isWork(_ path: String) -> Bool {
            if below(path, work) { return true }
            // The docker backend's socket directory when the work directory's path is too long.
            let p = FilePath(path), temp = FilePath(getenvString("TMPDIR") ?? "/tmp")
            return below(path, temp) && p.removingLastComponent() == temp
                && p.lastComponent?.string.hasPrefix("intermodal-bench-docker.") == true
        }
        func isName(_ name: String, _ prefix: String) -> Bool {
            name.hasPrefix(prefix) && name.count <= 128
                && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) || "-_.".unicodeScalars.contains($0) }
        }
        func isProgram(_ path: String, _ names: [String]) -> String? {
            guard let name = FilePath(path).lastComponent?.string, names.contains(name) else { return nil }
            return HostCommand.find(name)?.string == path ? name : nil
        }
        switch entry {
        case .container(let store, let id):
            guard store == root.appending("store").string else { return "a store other than \(root)/store: \(store)" }
            guard isName(id, "bench-\(pid)-") else { return "container name \(id)" }
        case .ociContainer(let runtime, let stateRoot, let id, _):
            guard let name = isProgram(runtime, ["runc", "crun"]) else { return "runtime \(runtime) is not runc or crun on PATH" }
            guard isWork(stateRoot) else { return "state root \(stateRoot) outside \(work)" }
            guard isName(id, "intermodal-bench-\(name)-\(pid)-") else { return "container name \(id)" }
        case .peerContainer(let cli, let name, let environment):
            guard let program = isProgram(cli, ["docker", "podman"]) else { return "program \(cli) is not docker or podman on PATH" }
            guard isName(name, "intermodal-bench-\(program)-\(pid)-") else { return "container name \(name)" }
            for e in environment {
                let (key, value) = e.firstIndex(of: "=").map { (String(e[..<$0]), String(e[e.index(after: $0)...])) } ?? (e, "")
                let ok = switch key {
                case "PATH": value == InstanceProcess.defaultPath
                case "DOCKER_CONFIG", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF": isWork(value)
                case "DOCKER_HOST": value.hasPrefix("unix://") && isWork(String(value.dropFirst(7)))
                default: false
                }
                guard ok else { return "environment \(key)" }
            }
        case .process(let p, _):
            guard p > 1 else { return "pid \(p)" }
            guard let line = HostProcesses.commandLine(p) else { return nil }   // gone: nothing is done
            // A native instance runs chrooted below the work directory; a daemon of ours (dockerd)
            // names its directories there.
            let chrooted = (try? FileSystem.readLink(FilePath("/proc/\(p)/root"))).map { below($0, work) } ?? false
            guard chrooted || line.split(separator: " ").contains(where: { below(String($0), work) }) else {
                return "process \(p) was not started from \(work)"
            }
        case .guests(let stateRoot, let uri):
            guard isWork(stateRoot) else { return "guest state root \(stateRoot) outside \(work)" }
            guard uri == VirtualMachineConfiguration().uri else { return "libvirt URI \(uri)" }
        case .directory(let path):
            guard isWork(path) else { return "directory \(path) outside \(work)" }
        case .cgroup(let path):
            guard ["docker", "podman", "podman+intermodal-runtime"].contains(where: { path == PeerEngine.cgroupParent($0, pid: pid) })
            else { return "cgroup \(path)" }
        }
        return nil
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
        let points = MountTable.current().entries(under: path).map(\.mountPoint)
        for p in points.sorted(by: >) { umount2(p, Int32(MNT_DETACH)) }
    }
}
