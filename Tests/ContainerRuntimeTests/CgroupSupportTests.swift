#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing
@testable import ContainerRuntime

/// Helpers shared by the cgroup tests: real child processes and unique names.
enum CgroupTestSupport {
    /// True when this host has cgroup v1 hierarchies (v1 or hybrid) with a memory controller.
    static var hostHasV1: Bool {
        guard let m = try? CgroupManager.detect() else { return false }
        return m.mode != .v2 && m.availableControllers.contains("memory")
    }

    /// A unique cgroup name that says who made it.
    static func uniqueName(_ what: String = "test") -> String {
        "intermodal-\(what)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Starts `/bin/sleep 600` (a real process to put into cgroups); kill and ``reap(_:)`` it.
    static func spawnSleep() throws -> pid_t { try spawn(["/bin/sleep", "600"]) }

    /// Starts `argv` with default signal handling and an empty signal mask (the test runner's
    /// threads block signals, and a child would inherit that).
    static func spawn(_ argv: [String], stdin: Int32? = nil) throws -> pid_t {
        var pid: pid_t = 0
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cargs, environ)
        guard rc == 0 else { throw IntermodalError(.systemError, "posix_spawn \(argv[0])", cause: Errno(rawValue: rc)) }
        return pid
    }

    /// Waits for `pid` and returns the signal that ended it (nil if it exited); gives up after 10 s.
    @discardableResult
    static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        for _ in 0..<10_000 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let signal = status & 0x7f
                return signal == 0 ? nil : signal
            }
            if r < 0 { return nil }
            usleep(1000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return -1
    }

    /// Every directory named `name` anywhere under /sys/fs/cgroup (should be none after a test).
    static func leftovers(named name: String) -> [String] {
        var found: [String] = []
        for top in (try? FileSystem.list("/sys/fs/cgroup")) ?? [] {
            let dir = FilePath("/sys/fs/cgroup").appending(top).appending(name)
            if FileSystem.exists(dir) { found.append(dir.string) }
        }
        return found
    }

    /// This hybrid host's cgroup2 mount (`/sys/fs/cgroup/unified`, hugetlb only), or the root on v2 hosts.
    static var realUnifiedRoot: FilePath? {
        guard let m = try? CgroupManager.detect(), let u = m.unifiedMount else { return nil }
        return FilePath(u)
    }

    static func read(_ path: FilePath) -> String {
        (try? CgroupFiles.read(file: path.string)) ?? "<unreadable \(path)>"
    }
}
