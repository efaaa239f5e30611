#if canImport(Glibc)
import ImageStore
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

extension Engine {
    /// A record whose owner (the foreground `run` or the monitor) died without finishing it is
    /// brought up to date here, never made up:
    ///
    /// - Killed before its process started (status `created`): it stays `Created`, with an error
    ///   saying its creation was interrupted, and what it held is released at once: the init
    ///   waiting on the exec fifo is killed, its cgroups and the runtime's provisional state go,
    ///   the overlay is unmounted. `rm` removes the rest (network, files).
    /// - Started: nobody is left to keep its log or record its end, so a process still running is
    ///   killed (a `kill -9` of the monitor must not leave it running unowned) and its runtime
    ///   state, cgroup, mount and network (its address, the rules of its published ports) are
    ///   released. The record says `exited` with no exit code: nobody could collect it (the owner
    ///   was the process's parent), and none is invented.
    ///
    /// The record and the writable layer stay for `rm` (also with `--rm`: removing needs the
    /// registry's lock, which a synchronous look must not wait for). Records of live owners are
    /// returned unchanged, here; a dead owner's release waits (for the killed init, for `ip` and
    /// `iptables`, for the allocator's lock), so it runs on a thread of its own, never on the
    /// cooperative pool that every caller's tasks share.
    func reconcile(_ record: ContainerRecord) async throws(IntermodalError) -> ContainerRecord {
        guard record.status != .exited, let owner = record.ownerPID, !Self.isAlive(owner) else { return record }
        let engine = self
        return try await DedicatedThread.run { () throws(IntermodalError) in try engine.reconcileDeadOwner(record, owner: owner) }
    }

    private func reconcileDeadOwner(_ record: ContainerRecord, owner: Int32) throws(IntermodalError) -> ContainerRecord {
        var r = record
        if r.status == .created && r.error != nil {   // reconciled before, maybe by a version that released nothing
            releaseInterrupted(r)
            return r
        }
        if r.status == .created, let state = try? runtime.state(id: r.id), state.status == .running, let pid = state.pid {
            // Killed after the runtime started the process but before the record said so.
            r.status = .running
            r.pid = pid
            r.startedUnix = r.startedUnix ?? WallClock.now
        }
        if r.status == .created {
            releaseInterrupted(r)
            r.pid = nil
            r.error = r.error ?? "its creation was interrupted: the process that made it (pid \(owner)) ended before it started"
        } else {
            let wasRunning = r.pid.map(Self.isRunning) ?? false
            // Kills the init if it is still ours (pidfd and start time) and waits until it is gone
            // (a SIGKILLed process: milliseconds, not a wait on other tasks), then removes the
            // cgroup (and whatever else ran in it) and the runtime's state.
            do { try runtime.deleteSync(id: r.id, force: true) } catch where error.code == .notFound {} catch {
                logger.warning("cannot release container \(r.shortID) of a dead owner: \(error)")
            }
            r.status = .exited
            r.pid = nil
            r.error = r.error ?? "exit status unknown: the process that ran the container (pid \(owner)) exited without recording its end"
                + (wasRunning ? "; the container was stopped and released" : "")
            r.finishedUnix = r.finishedUnix ?? WallClock.now
            _ = try? RootfsSnapshot.unmount(registry.directory(r.id))
            // Its veth went with its network namespace; its address, the DNAT rules of its
            // published ports and (when it was the last) the bridge go here. The allocator's
            // holders never wait on this process's tasks, so waiting for its lock is bounded.
            if r.network == .bridge {
                do { try network.detachBlocking(containerID: r.id, published: !r.options.ports.isEmpty) } catch {
                    logger.warning("cannot release the network of container \(r.shortID) of a dead owner: \(error)")
                }
            }
        }
        try registry.save(r)
        return r
    }

    /// What a container killed half-created holds on the host, released: the runtime's state with
    /// the init blocked on the exec fifo and its cgroups (each already gone is fine), the overlay.
    private func releaseInterrupted(_ r: ContainerRecord) {
        do { try runtime.deleteSync(id: r.id, force: true) } catch where error.code == .notFound {} catch {
            logger.warning("cannot release container \(r.shortID) whose creation was interrupted: \(error)")
        }
        _ = try? RootfsSnapshot.unmount(registry.directory(r.id))
    }

    /// Finishes or undoes what killed `run`s (or monitors) left, for the next `run`: every
    /// container the runtime holds state for whose owner is dead is reconciled (its processes,
    /// cgroups and runtime state released), and removed if it was `--rm`, as its owner would have.
    /// Found from this store's runtime state root, so the cost is one listing of that tmpfs
    /// directory and one record per container that has runtime state, never one per stopped container.
    func reclaimAbandoned() async {
        guard let ids = try? FileSystem.list(runtime.stateRoot), !ids.isEmpty else { return }
        for id in ids {
            // A live owner (the common case: containers running now) is seen without decoding.
            if let owner = registry.ownerPID(of: id), Self.isAlive(owner) { continue }
            guard let record = try? registry.load(id: id), record.status != .exited,
                  let owner = record.ownerPID, !Self.isAlive(owner),
                  let current = try? await reconcile(record) else { continue }
            if current.autoRemove { try? await remove(current.id, force: true) }
        }
    }

    /// True when a process with this PID exists (a zombie counts).
    public static func isProcessAlive(_ pid: Int32) -> Bool { isAlive(pid) }

    static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// True when the process exists and has not exited: a zombie (an orphaned container init
    /// whose new parent has not reaped it yet) has ended.
    static func isRunning(_ pid: Int32) -> Bool {
        guard isAlive(pid) else { return false }
        return !(ProcessStat.read(pid)?.hasEnded ?? false)
    }

    /// Sends SIGTERM (or `signal`), then SIGKILL after `timeout`, and waits until the owner has
    /// recorded the exit. Stopping a stopped container does nothing.
    @discardableResult
    public func stop(_ reference: String, timeout: Duration = .seconds(10), signal: Int32 = SIGTERM) async throws(IntermodalError) -> ContainerRecord {
        var record = try await container(reference)
        guard record.status == .running else { return record }
        try? runtime.kill(id: record.id, signal: signal, all: false)
        if let done = try await waitForExit(record, timeout: timeout) { return done }
        try? runtime.kill(id: record.id, signal: SIGKILL, all: true)
        if let done = try await waitForExit(record, timeout: .seconds(10)) { return done }
        record = try registry.load(id: record.id)
        throw IntermodalError(.timeout, "container \(record.shortID) did not stop within \(timeout) + 10s after SIGKILL")
    }

    /// Polls the record until the container has exited; nil on timeout. A record that vanished
    /// (its owner removed an `--rm` container) counts as exited.
    func waitForExit(_ record: ContainerRecord, timeout: Duration) async throws(IntermodalError) -> ContainerRecord? {
        let id = record.id
        var last = record
        return try await Poll.firstValue(timeout, .every(.milliseconds(10))) { () throws(IntermodalError) -> ContainerRecord? in
            let loaded: ContainerRecord
            do throws(IntermodalError) { loaded = try registry.load(id: id) } catch where error.code == .notFound {
                last.status = .exited
                return last
            }
            let r = try await reconcile(loaded)
            if r.status == .exited { return r }
            last = r
            return nil
        }
    }

    /// Removes a container and everything it used: runtime state, cgroup, veth (and the bridge when
    /// it was the last user), the overlay mount, the writable layer, the log. A running container
    /// needs `force` (it is killed first).
    public func remove(_ reference: String, force: Bool = false) async throws(IntermodalError) {
        var record = try await container(reference)
        if record.status == .running {
            guard force else {
                throw IntermodalError(
                    .invalidState, "container \(record.name) (\(record.shortID)) is running: stop it first or use rm -f")
            }
            try? runtime.kill(id: record.id, signal: SIGKILL, all: true)
            if let done = try await waitForExit(record, timeout: .seconds(10)) { record = done }
            // An `--rm` container is removed by its owner; nothing is left to do.
            guard FileSystem.exists(registry.directory(record.id).path) else { return }
        }
        // Whatever the owner left (it may have died): undo every part; each step tolerates "already gone".
        do { try await runtime.delete(id: record.id, force: true) } catch where error.code != .notFound {
            throw error
        } catch {}
        if record.network == .bridge { try await network.detach(containerID: record.id, published: !record.options.ports.isEmpty) }
        try await destroy(record)
    }

    /// Runs another process in a running container (`exec`), with the container's environment,
    /// working directory and user unless overridden. Returns its exit status.
    public func exec(
        _ reference: String, command: [String], environment: [String] = [], workingDirectory: String? = nil,
        user: String? = nil, interactive: Bool = false, tty: Bool = false
    ) async throws(IntermodalError) -> ExitStatus {
        let record = try await container(reference)
        guard record.status == .running else {
            throw IntermodalError(.invalidState, "container \(record.name) (\(record.shortID)) is not running")
        }
        guard !command.isEmpty else { throw IntermodalError(.invalidArgument, "exec needs a command") }
        let dir = registry.directory(record.id)
        let spec = try Spec.load(bundle: dir.path)
        var process = spec.process ?? Spec.Process(args: command)
        process.args = command
        var env = EnvironmentList(process.env ?? [])
        for item in environment {
            if let eq = item.firstIndex(of: "=") { env[String(item[..<eq])] = String(item[item.index(after: eq)...]) }
        }
        process.env = env.entries
        if let workingDirectory { process.cwd = workingDirectory }
        if let user {
            let resolved = try UserResolver.resolve(user, rootfs: dir.rootfs)
            process.user = Spec.User(uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids.isEmpty ? nil : resolved.additionalGids)
        }
        process.terminal = tty
        guard tty else {
            let io: ProcessIO = .fileDescriptors(
                stdin: interactive ? FileDescriptor(rawValue: 0) : nil,
                stdout: FileDescriptor(rawValue: 1), stderr: FileDescriptor(rawValue: 2))
            return try await runtime.exec(id: record.id, process: process, io: io)
        }
        // A pseudo-terminal, relayed to this process's terminal (raw mode with -i) as `run -it` does;
        // exec output is not the container's log, so none is written.
        let output = try ContainerOutput(mode: .stream, logPath: nil, tty: true, interactive: interactive)
        let started: Container
        do {
            started = try runtime.startExec(id: record.id, process: process, io: output.processIO)
        } catch {
            output.abandon()
            throw error
        }
        output.started(started)
        let status = try await started.wait()
        _ = await output.finished()
        return status
    }

    /// The container's log file (standard output and error as they were written).
    public func logPath(_ reference: String) async throws(IntermodalError) -> FilePath {
        let record = try await container(reference)
        guard !record.options.discardLog else {
            throw IntermodalError(.notFound, "container \(record.shortID) keeps no log")
        }
        return FilePath(record.logPath)
    }
}
