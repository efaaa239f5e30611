#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// One container's cgroup: a directory per v1 hierarchy, the unified directory, or both (hybrid).
public struct Cgroup: Sendable, Equatable {
    /// One directory of the cgroup and what it controls.
    struct Directory: Sendable, Equatable {
        var path: String
        /// A cgroup2 directory (has `cgroup.controllers`).
        var unified: Bool
        /// v1: the hierarchy's controllers; v2: the directory's `cgroup.controllers`.
        var controllers: [String]
    }

    var directories: [Directory]

    /// Every directory this cgroup created, deepest first.
    var created: [String]

    /// Every directory this cgroup created, deepest first: exactly what ``destroy()`` removes.
    public var createdPaths: [FilePath] { created.map { FilePath($0) } }

    /// The cgroup's directories: one per v1 hierarchy and/or the unified one. Store these (and
    /// ``createdPaths``) in the container state so that another process can ``reopen(paths:created:)``.
    public var paths: [FilePath] { directories.map { FilePath($0.path) } }

    /// The cgroup2 directory, if any: for `clone3(CLONE_INTO_CGROUP)`.
    public var unifiedPath: FilePath? { directories.first { $0.unified }.map { FilePath($0.path) } }

    init(directories: [Directory], created: [String]) {
        self.directories = directories
        self.created = created
    }

    /// A cgroup made by another process, from its recorded paths. `created` says which
    /// directories to remove on ``destroy()``; without it only the given (leaf) paths are.
    public static func reopen(paths: [FilePath], created: [FilePath]? = nil) -> Cgroup {
        let dirs = paths.map(\.string).map { path -> Directory in
            if let text = try? CgroupFiles.read(path, "cgroup.controllers") {
                return Directory(path: path, unified: true, controllers: text.split(separator: " ").map(String.init))
            }
            // A v1 directory's controllers show in its file names (memory.limit_in_bytes, ...).
            var controllers: [String] = []
            for name in CgroupFiles.list(path) {
                guard let dot = name.firstIndex(of: ".") else { continue }
                let prefix = String(name[..<dot])
                if MountInfo.v1ControllerNames.contains(prefix) && !controllers.contains(prefix) { controllers.append(prefix) }
            }
            return Directory(path: path, unified: false, controllers: controllers)
        }
        let leaves = paths.map(\.string).sorted { $0.count > $1.count }
        return Cgroup(directories: dirs, created: created?.map(\.string) ?? leaves)
    }

    /// Moves process `pid` into the cgroup (every hierarchy).
    public func add(pid: Int32) throws(IntermodalError) {
        // cgroup.procs reads 0 as "the writer": never move ourselves by accident.
        guard pid > 0 else { throw IntermodalError(.invalidArgument, "cannot add pid \(pid) to a cgroup") }
        for d in directories { try CgroupFiles.write(String(pid), to: d.path, "cgroup.procs") }
    }

    /// The processes in the cgroup, in any hierarchy, ascending.
    public func processes() throws(IntermodalError) -> [Int32] {
        var all = Set<Int32>()
        // A directory already gone (or never a cgroup) holds no processes.
        for d in directories where CgroupFiles.exists(d.path + "/cgroup.procs") {
            all.formUnion(try CgroupFiles.readPids(d.path))
        }
        return all.sorted()
    }

    /// Sends `signal` to every process in the cgroup. SIGKILL on a v2 cgroup with `cgroup.kill`
    /// is one write (the kernel also catches processes forking meanwhile); otherwise the cgroup is
    /// frozen first, so nothing can fork past the signal, each pid signalled, then thawed.
    public func killAll(signal: Int32) throws(IntermodalError) {
        if signal == SIGKILL, let u = directories.first(where: { $0.unified }),
           CgroupFiles.exists(u.path + "/cgroup.kill") {
            // Every process of the cgroup is in its unified directory too (add writes to all, and
            // children inherit), so on hybrid hosts this one write covers the v1 side as well.
            try CgroupFiles.write("1", to: u.path, "cgroup.kill")
            return
        }
        // Thaw whenever freezing was tried: a half-frozen cgroup must not stay that way. A
        // caller inside the cgroup must not freeze itself: then signal without freezing.
        let freezable = try !processes().contains(getpid())
        let frozen = freezable && freeze(true)
        defer { if freezable { _ = freeze(false) } }
        var rounds = 0
        repeat {
            let pids = try processes()
            if pids.isEmpty { return }
            // Never signal ourselves (a runtime that joined the cgroup to clone into it).
            for pid in pids where pid > 0 && pid != getpid() {
                if kill(pid, signal) != 0 && errno != ESRCH {
                    throw IntermodalError.system("kill -\(signal) \(pid) (in cgroup \(directories.first?.path ?? ""))")
                }
            }
            // Only SIGKILL has to empty the cgroup; without a freezer a fork may slip through: repeat.
            rounds += 1
        } while signal == SIGKILL && !frozen && rounds < 100
    }

    /// Freezes (or thaws) the cgroup and waits briefly for the kernel to finish; false when no
    /// freezer is available or it did not settle. v1's freezer controller, or v2's `cgroup.freeze`.
    public func freeze(_ on: Bool) -> Bool {
        if let f = directories.first(where: { !$0.unified && $0.controllers.contains("freezer") }) {
            guard (try? CgroupFiles.write(on ? "FROZEN" : "THAWED", to: f.path, "freezer.state")) != nil else { return false }
            return waitFor(seconds: 1) { (try? CgroupFiles.read(f.path, "freezer.state")) == (on ? "FROZEN" : "THAWED") }
        }
        if let u = directories.first(where: { $0.unified }), CgroupFiles.exists(u.path + "/cgroup.freeze") {
            guard (try? CgroupFiles.write(on ? "1" : "0", to: u.path, "cgroup.freeze")) != nil else { return false }
            return waitFor(seconds: 1) {
                (try? CgroupFiles.readKey(u.path, "cgroup.events", key: "frozen")) == (on ? 1 : 0)
            }
        }
        return false
    }

    /// True when `dir` contains cgroup directories.
    private static func hasChildCgroups(_ dir: String) -> Bool {
        CgroupFiles.list(dir).contains { name in
            var st = stat()
            return stat(dir + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// Polls `condition` up to `seconds`, first every few microseconds (a killed process is
    /// usually gone within tens of them), backing off to every millisecond.
    private func waitFor(seconds: Int, _ condition: () -> Bool) -> Bool {
        Poll.blockingUntil(.seconds(seconds), .backingOff(from: .microseconds(10), to: .milliseconds(1)), condition)
    }

    /// Memory, CPU and pids use, for the harness.
    public func stats() throws(IntermodalError) -> CgroupStats {
        var s = CgroupStats()
        let v1 = { (c: String) in directories.first { !$0.unified && $0.controllers.contains(c) }?.path }
        let unified = directories.first { $0.unified }?.path
        if let m = v1("memory") {
            s.memoryUsage = try CgroupFiles.readNumber(m, "memory.usage_in_bytes")
            s.memoryMaxUsage = try CgroupFiles.readNumber(m, "memory.max_usage_in_bytes")
            s.oomKills = try CgroupFiles.readKey(m, "memory.oom_control", key: "oom_kill")
        } else if let u = unified {
            s.memoryUsage = try CgroupFiles.readNumber(u, "memory.current")
            s.memoryMaxUsage = try CgroupFiles.readNumber(u, "memory.peak")
            s.oomKills = try CgroupFiles.readKey(u, "memory.events", key: "oom_kill")
        }
        if let c = v1("cpuacct") {
            s.cpuUsageNanoseconds = try CgroupFiles.readNumber(c, "cpuacct.usage")
            s.cpuUserNanoseconds = try CgroupFiles.readNumber(c, "cpuacct.usage_user")
            s.cpuSystemNanoseconds = try CgroupFiles.readNumber(c, "cpuacct.usage_sys")
        } else if let u = unified, let usec = try CgroupFiles.readKey(u, "cpu.stat", key: "usage_usec") {
            s.cpuUsageNanoseconds = usec * 1000
            s.cpuUserNanoseconds = try CgroupFiles.readKey(u, "cpu.stat", key: "user_usec").map { $0 * 1000 }
            s.cpuSystemNanoseconds = try CgroupFiles.readKey(u, "cpu.stat", key: "system_usec").map { $0 * 1000 }
        }
        if let b = v1("blkio"), CgroupFiles.exists(b + "/blkio.throttle.io_service_bytes_recursive") {
            // "8:0 Read 4096" lines per device, and a "Total" line.
            var read: UInt64 = 0, written: UInt64 = 0
            for line in try CgroupFiles.read(b, "blkio.throttle.io_service_bytes_recursive").split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count == 3, let n = UInt64(f[2]) else { continue }
                if f[1] == "Read" { read += n } else if f[1] == "Write" { written += n }
            }
            s.ioReadBytes = read
            s.ioWriteBytes = written
        } else if let u = unified, CgroupFiles.exists(u + "/io.stat") {
            // "8:0 rbytes=4096 wbytes=0 rios=1 ..." per device.
            var read: UInt64 = 0, written: UInt64 = 0
            for line in try CgroupFiles.read(u, "io.stat").split(separator: "\n") {
                for field in line.split(separator: " ") {
                    if field.hasPrefix("rbytes="), let n = UInt64(field.dropFirst(7)) { read += n }
                    if field.hasPrefix("wbytes="), let n = UInt64(field.dropFirst(7)) { written += n }
                }
            }
            s.ioReadBytes = read
            s.ioWriteBytes = written
        }
        if let p = v1("pids") {
            s.pidsCurrent = try CgroupFiles.readNumber(p, "pids.current")
        } else if let u = unified {
            s.pidsCurrent = try CgroupFiles.readNumber(u, "pids.current")
        }
        return s
    }

    /// Removes a cgroup made by another process (``reopen(paths:created:)``'s arguments), like
    /// ``destroy()``. The common case — the container has exited, every directory is empty — is
    /// one rmdir per directory; only a busy directory makes it read controllers, kill and wait.
    public static func remove(paths: [FilePath], created: [FilePath]? = nil) throws(IntermodalError) {
        let targets = (created ?? paths).map(\.string)
        // A cgroup we did not create is not removed, but what is left in it is still killed.
        var busy = targets.isEmpty
        // Deepest first, as recorded; rmdir refuses (EBUSY) a directory with processes or children.
        for dir in targets where rmdir(dir) != 0 && errno != ENOENT { busy = true }
        if busy { try reopen(paths: paths, created: created).destroy() }
    }

    /// Kills what is left, waits until the cgroup is empty and removes every directory it
    /// created (never one it found). Removing an already removed cgroup is fine.
    public func destroy() throws(IntermodalError) {
        let live = directories.filter { CgroupFiles.exists($0.path) }
        if !live.isEmpty, !(try processes()).isEmpty {
            try killAll(signal: SIGKILL)
            let empty = waitFor(seconds: 10) { ((try? processes()) ?? [0]).isEmpty }
            if !empty {
                throw IntermodalError(
                    .timeout,
                    "cgroup \(directories.first?.path ?? "") still has processes \((try? processes()) ?? []) 10 s after SIGKILL")
            }
        }
        // Remove all that can be removed, then report the first failure.
        var failure: IntermodalError?
        for dir in created {
            var lastError: CInt = 0
            // A just-killed task can keep the cgroup busy for a moment after leaving cgroup.procs.
            let settled = waitFor(seconds: 5) {
                if rmdir(dir) == 0 || errno == ENOENT {
                    lastError = 0
                    return true
                }
                lastError = errno
                // A parent level another container's cgroup now lives under stays theirs to use:
                // not an error, and nothing to wait for. (It is left behind if that one never made it.)
                if lastError == EBUSY && Self.hasChildCgroups(dir) {
                    lastError = 0
                    return true
                }
                return lastError != EBUSY
            }
            if (!settled || lastError != 0) && failure == nil {
                failure = IntermodalError(.systemError, "rmdir \(dir)", cause: Errno(rawValue: lastError))
            }
        }
        if let failure { throw failure }
    }
}
