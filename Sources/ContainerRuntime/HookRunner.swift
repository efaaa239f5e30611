#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import IntermodalCore
import SystemPackage

/// Runs OCI hooks in the runtime namespace with the container state on stdin.
enum HookRunner {
    /// Runs each hook in order; the first failure (non-zero exit, signal, timeout) throws with
    /// the hook's kind, index and path.
    static func run(_ hooks: [Spec.Hook], kind: String, state: ContainerState) throws(IntermodalError) {
        guard !hooks.isEmpty else { return }
        let json = state.json()
        for (i, hook) in hooks.enumerated() {
            try runOne(hook, json: json, what: "\(kind) hook \(i) (\(hook.path))")
        }
    }

    /// Runs hooks whose failure the specification says must only be warned about.
    static func runWarning(_ hooks: [Spec.Hook], kind: String, state: ContainerState) {
        guard !hooks.isEmpty else { return }
        let json = state.json()
        for (i, hook) in hooks.enumerated() {
            do { try runOne(hook, json: json, what: "\(kind) hook \(i) (\(hook.path))") } catch {
                Runtime.warn("\(error)")
            }
        }
    }

    private static func runOne(_ hook: Spec.Hook, json: [UInt8], what: String) throws(IntermodalError) {
        var fds: [Int32] = [-1, -1]
        guard makePipe(&fds) else { throw .system("cannot make a pipe for \(what)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        let argv = (hook.args ?? [hook.path]).map { strdup($0) } + [nil]
        let envp = (hook.env ?? []).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, hook.path, &actions, nil, argv, envp)
        close(fds[0])
        guard rc == 0 else {
            close(fds[1])
            throw IntermodalError(.externalFailure, "\(what) could not be run", cause: Errno(rawValue: rc))
        }
        // The hook need not read its stdin: a closed pipe is not an error.
        var offset = 0
        let oldPipe = signal(SIGPIPE, SIG_IGN)
        while offset < json.count {
            let n = json.withUnsafeBytes { write(fds[1], $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        signal(SIGPIPE, oldPipe)
        close(fds[1])
        let deadline = hook.timeout.map { MonotonicInstant.now.nanoseconds + UInt64($0) * 1_000_000_000 }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if r == pid { break }
            if r < 0 && errno == EINTR { continue }
            if r < 0 { throw .system("cannot wait for \(what)") }
            if let deadline, MonotonicInstant.now.nanoseconds > deadline {
                Glibc.kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw IntermodalError(.timeout, "\(what) timed out after \(hook.timeout ?? 0) s")
            }
            usleep(2000)
        }
        let exit = ExitStatus(waitStatus: status)
        guard exit.code == 0 && exit.signal == nil else {
            throw IntermodalError(.externalFailure, "\(what) failed: \(exit)")
        }
    }
}

extension ContainerState {
    /// The OCI state as JSON (what hooks read and `state` prints), by the start path's writer.
    func json(pretty: Bool = false) -> [UInt8] {
        var w = JSONObjectWriter()
        w.add("ociVersion", ociVersion)
        w.add("id", id)
        w.add("status", status.rawValue)
        if let pid { w.add("pid", pid) }
        w.add("bundle", bundle)
        if let annotations, !annotations.isEmpty { w.add("annotations", annotations) }
        return w.bytes(pretty: pretty)
    }
}
