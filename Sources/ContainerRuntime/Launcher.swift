#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import IntermodalCore
import SystemPackage

/// Clones a container process from a ``LaunchPlan`` and drives it through set-up over the
/// sync socket; on any failure kills it and leaves nothing behind.
struct Launcher {
    struct Launched {
        var pid: Int32
        var waiter: ChildWaiter
        var terminal: FileDescriptor?
    }

    /// Errors reported by the child, turned into ``IntermodalError``s.
    static func childError(_ m: ims_msg) -> IntermodalError {
        var msg = m
        let detail = withUnsafeBytes(of: &msg.detail) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        // The command itself, not the set-up: Docker's 127 and 126 follow from these codes.
        if m.notfound == 1 { return IntermodalError(.commandNotFound, detail, cause: m.err == 0 ? nil : Errno(rawValue: m.err)) }
        if m.notfound == 2 { return IntermodalError(.commandCannotRun, detail, cause: m.err == 0 ? nil : Errno(rawValue: m.err)) }
        if m.err == 0 { return IntermodalError(.externalFailure, detail) }
        let code: IntermodalError.Code = m.err == ENOENT ? .notFound : .systemError
        return IntermodalError(code, detail, cause: Errno(rawValue: m.err))
    }

    /// Spawns the process. `onHooks` runs prestart/createRuntime hooks when the child asks;
    /// `prepare` runs after the pid is known and before the child continues (maps, cgroup).
    static func launch(
        plan: inout LaunchPlan, statePayload: (Int32) -> [UInt8],
        prepare: (Int32, Bool) throws(IntermodalError) -> Void,
        onHooks: (Int32) throws(IntermodalError) -> Void,
        waitForReady: Bool = true, reaping: Bool = true
    ) throws(IntermodalError) -> Launched {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .system("cannot create the sync socket")
        }
        let parentFD = fds[0], childFD = fds[1]
        defer { close(parentFD) }
        var config = plan.config
        config.timing = Timing.enabled ? 1 : 0
        Timing.mark("clone")
        var placed: Int32 = 0
        let spawned = ims_spawn(&config, childFD, &placed)
        close(childFD)
        for fd in plan.ownedDescriptors { close(fd) }
        plan.ownedDescriptors = []
        guard spawned > 0 else {
            throw IntermodalError(.systemError, "cannot clone the container process", cause: Errno(rawValue: -spawned))
        }
        var pid = spawned
        var waiter: ChildWaiter? = nil
        var terminal: FileDescriptor? = nil
        func abort(_ error: IntermodalError) -> IntermodalError {
            Glibc.kill(pid, SIGKILL)
            if waiter == nil || !reaping { var s: Int32 = 0; _ = waitpid(pid, &s, __WALL) }
            if let t = terminal { try? t.close() }
            return error
        }
        var msg = ims_msg()
        if !plan.joins.isEmpty {
            // The intermediate joined the namespaces and reports the container's pid.
            let n = ims_recv(parentFD, &msg, nil, 0, nil)
            var s: Int32 = 0
            _ = waitpid(spawned, &s, __WALL)
            guard n > 0 else {
                throw IntermodalError(.systemError, "the runtime's intermediate process died while joining namespaces")
            }
            if msg.type == IMS_MSG_ERROR.rawValue { throw childError(msg) }
            pid = msg.value
            placed = msg.err
        }
        Timing.mark("cloned")
        waiter = ChildWaiter(pid: pid, reaping: reaping)
        Timing.mark("waiter started")
        do throws(IntermodalError) {
            // Placed by clone3, or (no cgroup2 directory) the child joins every v1 hierarchy itself.
            let selfJoined = config.cgroup_fd < 0 && config.cgroup_task_count > 0
            try prepare(pid, placed != 0 || selfJoined)
            if plan.newUserNamespace {
                try writeMappings(pid: pid, uid: plan.uidMappings, gid: plan.gidMappings)
            }
            if let adj = plan.oomScoreAdj {
                do { try FileSystem.writeAtomicallyInPlace("\(adj)", to: "/proc/\(pid)/oom_score_adj") } catch {
                    throw IntermodalError(.systemError, "config.json: process.oomScoreAdj: cannot set \(adj) (lowering it needs CAP_SYS_RESOURCE, which this runtime's bounding set lacks)", cause: error.cause)
                }
            }
            Timing.mark("prepared")
            var go = ims_msg()
            go.type = Int32(IMS_MSG_GO.rawValue)
            let payload = statePayload(pid)
            let rc = payload.withUnsafeBytes { ims_send(parentFD, &go, $0.baseAddress, $0.count) }
            guard rc == 0 else { throw IntermodalError(.systemError, "cannot talk to the container process", cause: Errno(rawValue: -rc)) }
            while true {
                var received: Int32 = -1
                let n = ims_recv(parentFD, &msg, nil, 0, &received)
                if n == 0 {
                    if !waitForReady { break }  // exec mode: EOF means the program was executed
                    let status = await_(waiter!)
                    throw IntermodalError(.externalFailure, "the container process died during set-up (\(status))")
                }
                guard n > 0 else { throw IntermodalError(.systemError, "cannot read from the container process", cause: Errno(rawValue: Int32(-n))) }
                switch msg.type {
                case Int32(IMS_MSG_ERROR.rawValue):
                    throw childError(msg)
                case Int32(IMS_MSG_PTY.rawValue):
                    if received >= 0 { terminal = FileDescriptor(rawValue: received) }
                case Int32(IMS_MSG_HOOKS.rawValue):
                    try onHooks(pid)
                    var again = ims_msg()
                    again.type = Int32(IMS_MSG_GO.rawValue)
                    _ = ims_send(parentFD, &again, nil, 0)
                case Int32(IMS_MSG_READY.rawValue):
                    if Timing.enabled { Timing.child(Launcher.childError(msg).message) }
                    return Launched(pid: pid, waiter: waiter!, terminal: terminal)
                default:
                    throw IntermodalError(.internalError, "unexpected message \(msg.type) from the container process")
                }
            }
            return Launched(pid: pid, waiter: waiter!, terminal: terminal)
        } catch {
            throw abort(error)
        }
    }

    /// Blocks until the waiter has the status (used only on failure paths during set-up).
    private static func await_(_ waiter: ChildWaiter) -> ExitStatus {
        Poll.blockingFirstValue(.seconds(2), .every(.milliseconds(1))) { waiter.status } ?? ExitStatus(code: -1)
    }

    static func writeMappings(pid: Int32, uid: [Spec.IDMapping], gid: [Spec.IDMapping]) throws(IntermodalError) {
        func text(_ m: [Spec.IDMapping]) -> String { m.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined() }
        do {
            try FileSystem.writeAtomicallyInPlace(text(uid), to: "/proc/\(pid)/uid_map")
        } catch {
            throw IntermodalError(.systemError, "config.json: linux.uidMappings: cannot write /proc/\(pid)/uid_map", cause: error.cause)
        }
        do {
            try FileSystem.writeAtomicallyInPlace(text(gid), to: "/proc/\(pid)/gid_map")
        } catch {
            throw IntermodalError(.systemError, "config.json: linux.gidMappings: cannot write /proc/\(pid)/gid_map", cause: error.cause)
        }
    }
}

extension FileSystem {
    /// One write(2) of `text` to an existing file (proc files must be written in one go).
    static func writeAtomicallyInPlace(_ text: String, to path: String) throws(IntermodalError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw .system("cannot write \(path)") }
    }
}
