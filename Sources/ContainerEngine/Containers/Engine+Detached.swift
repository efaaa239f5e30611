#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

extension Engine {
    /// The hidden subcommand of `intermodal` that hosts a detached container.
    public static let monitorSubcommand = "container-monitor"
    /// The descriptor on which the monitor reports "started" or the start error to `run -d`.
    public static let monitorReadyDescriptor: CInt = 3

    /// `run -d`: the container is created here (so a missing image or bad flag is reported at once),
    /// then handed to a monitor process (`intermodal container-monitor`, in its own session) that
    /// starts it and, once it runs, becomes the small C monitor (`intermodal-monitor`, as podman's
    /// conmon) which waits for it, keeps its log and records its exit code and cleans up (`--rm`)
    /// through the engine. Its PID is the record's `ownerPID` throughout. Returns once the
    /// container runs; a start failure (`executable file not found`) is thrown here.
    public func runDetached(image: String, options: RunOptions) async throws(IntermodalError) -> ContainerRecord {
        guard let executable = monitorExecutable else {
            throw IntermodalError(.unsupported, "detached containers need the intermodal executable as monitor (Engine.monitorExecutable)")
        }
        let record = try await create(image: image, options: options)
        let dir = registry.directory(record.id)
        var ready: [CInt] = [0, 0]
        guard makePipe(&ready) else {
            try? await destroy(record)
            throw .system("cannot create a pipe")
        }
        defer { close(ready[0]) }
        do {
            // spawnMonitor waits for setsid to fork and exit: off the pool.
            let engine = self, writeEnd = ready[1], id = record.id, log = dir.monitorLog
            try await DedicatedThread.run { () throws(IntermodalError) in
                try engine.spawnMonitor(executable, id: id, readyWrite: writeEnd, log: log)
            }
        } catch {
            close(ready[1])
            try? await destroy(record)
            throw error
        }
        close(ready[1])
        let report = await readAll(ready[0]).trimmed
        if report == "started" {
            // A short `--rm` container can be finished and removed by its monitor before we look.
            if let current = try? registry.load(id: record.id) { return current }
            var gone = record
            gone.status = .exited
            return gone
        }
        if report.hasPrefix("error ") {
            // "error <code> <message>" as written by `monitor(id:readyDescriptor:)`.
            let rest = report.dropFirst(6)
            let code = IntermodalError.Code(rawValue: String(rest.prefix { $0 != " " }))
            throw IntermodalError(code, String(rest.drop { $0 != " " }.dropFirst()))
        }
        // The monitor died before reporting: finish the record here so nothing stays mounted.
        if var r = try? registry.load(id: record.id) {
            let failure = IntermodalError(.internalError, "the container monitor exited before starting the container (see \(dir.monitorLog))")
            try? await finish(&r, status: nil, failure: failure)
            throw failure
        }
        throw IntermodalError(.internalError, "the container monitor exited before starting the container")
    }

    /// The small C monitor (`intermodal-monitor`, beside ``monitorExecutable``) that takes over a
    /// detached container once it runs; nil when it is not there (then the Swift monitor stays).
    public var smallMonitorExecutable: FilePath? {
        guard let executable = monitorExecutable else { return nil }
        let small = executable.removingLastComponent().appending(Self.smallMonitorName)
        return access(small.string, X_OK) == 0 ? small : nil
    }

    /// The file name of the small monitor, as SwiftPM builds it beside `intermodal`.
    public static let smallMonitorName = "intermodal-monitor"

    /// The monitor's side of `run -d`: starts the created container with its output going to the
    /// log, reports on `readyDescriptor`, then hands the container to the small C monitor by
    /// execve() in place (same PID, so `ownerPID` stays true; the Swift runtime's memory is gone).
    /// That one copies the log, reaps the container and execs ``finishMonitored`` through
    /// `container-monitor --finish`. Without the small monitor this process waits and finishes.
    public func monitor(id: String, readyDescriptor: CInt = Engine.monitorReadyDescriptor) async throws(IntermodalError) {
        // The container's process must not inherit the report pipe.
        _ = fcntl(readyDescriptor, F_SETFD, FD_CLOEXEC)
        var record = try registry.load(id: id)
        record.ownerPID = getpid()
        try registry.save(record)
        let small = smallMonitorExecutable
        let io: ContainerOutput
        let started: Container
        do {
            io = try ContainerOutput(
                mode: .log, logPath: registry.directory(id).log, tty: false, interactive: false, defersLogCopy: small != nil)
            started = try await start(&record, io: io)
        } catch {
            report(readyDescriptor, "error \(error.code.rawValue) \(error.description)")
            try? await finish(&record, status: nil, failure: error)
            throw error
        }
        report(readyDescriptor, "started")
        if let small, let finisher = monitorExecutable {
            let exited = await started.handOverReaping()
            if exited == nil {
                // Only returns when the exec failed; then nobody reaps the init but us.
                let failure = execSmallMonitor(small, pid: started.pid, io: io, finisher: finisher, id: id)
                StandardStreams.writeError("intermodal: \(failure); the Swift monitor stays\n")
                io.copyLog()
                let status = await Self.reap(started.pid)
                return try await finishMonitored(id: id, status: status, exitedAt: .now, firstOutput: io.finished())
            }
            io.copyLog()
        }
        let status: ExitStatus
        do {
            status = try await started.wait()
        } catch {
            try? await finish(&record, status: nil, failure: error)
            throw error
        }
        record.timestamps.mark(.exit)
        // The log is complete only when the pipe is drained.
        if let first = await io.finished() { record.timestamps.mark(.firstOutput, at: first) }
        try await finish(&record, status: status, failure: nil)
    }

    /// `intermodal-monitor PID OUTPUT_FD LOG_FD -- intermodal container-monitor --root ROOT --finish ID`
    /// in place of this process. Returns only on failure, with what failed.
    private func execSmallMonitor(_ small: FilePath, pid: Int32, io: ContainerOutput, finisher: FilePath, id: String) -> IntermodalError {
        guard let fds = io.handOverLog() else { return .system("cannot pass the container's log to \(small)") }
        let args = [
            small.string, "\(pid)", "\(fds.output)", "\(fds.log)", "--",
            finisher.string, Self.monitorSubcommand, "--root", root.string, "--finish", id,
        ]
        var cArgs = args.map { strdup($0) } + [nil]
        execv(small.string, &cArgs)
        let failure = IntermodalError.system("cannot execute the container monitor \(small)")
        for p in cArgs { free(p) }
        close(fds.output)
        close(fds.log)
        return failure
    }

    /// The last step of a detached container, run by `container-monitor --finish` when the small
    /// monitor has reaped it (in the same process, so the record's owner is still alive): the
    /// phases it saw are recorded, then runtime state, network and mount are released as for any
    /// run, and the exit code saved (or everything removed with `--rm`).
    public func finishMonitored(id: String, status: ExitStatus, exitedAt: MonotonicInstant, firstOutput: MonotonicInstant?) async throws(IntermodalError) {
        var record = try registry.load(id: id)
        record.timestamps.mark(.exit, at: exitedAt)
        if let firstOutput { record.timestamps.mark(.firstOutput, at: firstOutput) }
        try await finish(&record, status: status, failure: nil)
    }

    /// Waits on a thread of its own (not one of Swift's) for a child nobody else reaps.
    private static func reap(_ pid: Int32) async -> ExitStatus {
        await DedicatedThread.run {
            var status: Int32 = 0
            var r: pid_t
            repeat { r = waitpid(pid, &status, __WALL) } while r < 0 && errno == EINTR
            return r == pid ? ExitStatus(waitStatus: status) : ExitStatus(code: 255)
        }
    }

    private func report(_ fd: CInt, _ message: String) {
        let bytes = Array((message.replacingNewlines + "\n").utf8)
        writeAll(fd, bytes, bytes.count)
        close(fd)
    }

    /// `setsid -f intermodal container-monitor --root ROOT ID`: a new session, reparented to init,
    /// so it outlives this process and never becomes our zombie.
    func spawnMonitor(_ executable: FilePath, id: String, readyWrite: CInt, log: FilePath) throws(IntermodalError) {
        guard let setsid = HostCommand.find("setsid") else {
            throw IntermodalError(.notFound, "setsid (util-linux) is needed for detached containers")
        }
        let args = [setsid.string, "-f", executable.string, Self.monitorSubcommand, "--root", root.string, id]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.string, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, readyWrite, Self.monitorReadyDescriptor)
        var cArgs = args.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, setsid.string, &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw .system("cannot start the container monitor \(executable)", errno: rc) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private func readAll(_ fd: CInt) async -> String {
        await DedicatedThread.run { String(decoding: FileSystem.readToEnd(fd), as: UTF8.self) }
    }
}

extension String {
    var replacingNewlines: String { String(map { $0 == "\n" ? " " : $0 }) }
}
