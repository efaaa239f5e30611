#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// A process started and left running (an idle instance, a daemon): stdio on /dev/null, its own
/// process group, reaped when it is stopped.
struct BackgroundProcess: Sendable {
    let pid: Int32

    /// Starts `arguments` (`arguments[0]` a path) with exactly `environment`.
    static func start(_ arguments: [String], environment: [String], log: String = "/dev/null") throws(IntermodalError) -> BackgroundProcess {
        BackgroundProcess(pid: try Spawn.start(arguments, environment: environment) { actions in
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        })
    }

    /// Kills the process group and reaps the process, off the cooperative pool.
    func stop() async {
        let pid = self.pid
        await DedicatedThread.run {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }
}

/// `posix_spawn` as the harness uses it: standard input from /dev/null, a process group of its
/// own (so that a kill reaches whatever the program started), exactly the environment given.
enum Spawn {
    static func start(
        _ arguments: [String], environment: [String], output: (inout posix_spawn_file_actions_t) -> Void
    ) throws(IntermodalError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        output(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        guard rc == 0 else { throw .system("cannot start \(arguments[0])", errno: rc) }
        return pid
    }
}
