#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import IntermodalCore
import SystemPackage

/// Our OCI runtime as an in-process library: the same lifecycle as `intermodal-runtime`
/// (state under ``stateRoot``, interoperable with the CLI), used by the engine and the harness.
///
/// A created container's init is a child of the creating process, blocked before `execve` on
/// the exec fifo in its state directory until ``start(id:)`` opens it (as runc does). No other
/// process stays behind per container.
public struct Runtime: Sendable {
    /// Where per-container state directories live (`<stateRoot>/<id>/state.json`).
    public var stateRoot: FilePath

    var store: StateStore { StateStore(root: stateRoot) }

    public init(stateRoot: FilePath = IntermodalPaths.runtimeStateRoot) {
        self.stateRoot = stateRoot
    }

    /// Sets up the container described by `<bundle>/config.json` and holds its process until
    /// ``start(id:)``. On failure nothing is left behind.
    public func create(id: String, bundle: FilePath, io: ProcessIO = .inherit) async throws(IntermodalError) -> Container {
        // Creating waits for the child to report it is ready: off the cooperative pool.
        try await DedicatedThread.run { () throws(IntermodalError) in try createSync(id: id, bundle: bundle, io: io) }
    }

    /// ``create(id:bundle:io:)`` from a configuration the caller already holds (an engine that has
    /// just written it to `<bundle>/config.json`): validated, not read and decoded again. The file
    /// must still be there and say the same: `exec` and other processes read it.
    public func create(id: String, bundle: FilePath, spec: Spec, io: ProcessIO = .inherit) async throws(IntermodalError) -> Container {
        try await DedicatedThread.run { () throws(IntermodalError) in try createSync(id: id, bundle: bundle, io: io, spec: spec) }
    }

    /// The synchronous body of ``create(id:bundle:io:)`` (the CLI calls it without a runtime of tasks).
    ///
    /// `preserveFDs`: descriptors 3 ..< 3 + n of this process pass into the container (runc's
    /// `--preserve-fds`).
    public func createSync(id: String, bundle: FilePath, io: ProcessIO = .inherit, pidFile: FilePath? = nil, spec given: Spec? = nil,
                           preserveFDs: Int = 0) throws(IntermodalError) -> Container {
        var timestamps = PhaseTimestamps()
        timestamps.mark(.create)
        try StateStore.validate(id: id)
        let bundle = FileSystem.absolute(bundle)
        let spec: Spec
        if let given {
            try given.validate(source: bundle.appending("config.json").string)
            spec = given
        } else {
            spec = try Spec.load(bundle: bundle)
        }
        Timing.mark("spec loaded")
        guard spec.process != nil else {
            throw IntermodalError(.invalidArgument, "\(bundle.appending("config.json")): process: required to create a container")
        }
        for field in spec.ignoredFields(source: bundle.appending("config.json").string) {
            Runtime.warn(field)
        }
        let seccomp = try ResourceSetup.seccomp(for: spec)
        let store = self.store
        try store.reserve(id)
        var cgroup: ContainerCgroup? = nil
        var launched: Launcher.Launched? = nil
        do throws(IntermodalError) {
            var plan = try LaunchPlan(spec: spec, bundle: bundle, stateDirectory: store.directory(id), io: io, seccomp: seccomp)
            plan.config.preserve_fds = Int32(clamping: max(0, preserveFDs))
            if let path = ResourceSetup.cgroupPath(for: spec, id: id) { try store.writeCgroupIntent(id, path: path) }
            cgroup = try ResourceSetup.cgroup(for: spec, id: id)
            Timing.mark("cgroup created")
            // A provisional state (pid 0: "creating") before any process exists, naming the
            // cgroups: if this process is killed from here on, `delete --force` finds the cgroups,
            // kills the init waiting in them on the exec fifo and removes everything.
            try store.write(ContainerRecord(
                ociVersion: spec.ociVersion, id: id, pid: 0, pidStartTime: 0,
                bundle: bundle.string, rootfs: plan.rootfs, annotations: spec.annotations,
                cgroupPaths: cgroup?.paths ?? [], cgroupCreated: cgroup?.created ?? [], poststart: [],
                poststop: [], createdNanoseconds: timestamps[.create]!.nanoseconds))
            let cgroupFDs = cgroup.map { plan.join($0.cgroup) } ?? []
            defer { for fd in cgroupFDs { close(fd) } }
            let annotations = spec.annotations
            let version = spec.ociVersion
            func state(_ status: ContainerState.Status, _ pid: Int32) -> ContainerState {
                ContainerState(ociVersion: version, id: id, status: status, pid: pid, bundle: bundle.string, annotations: annotations)
            }
            let prestart = plan.prestart, createRuntime = plan.createRuntime
            // The child reads the state only for the hooks it runs itself.
            let childRunsHooks = !(spec.hooks?.createContainer ?? []).isEmpty || !(spec.hooks?.startContainer ?? []).isEmpty
            let launchedNow = try Launcher.launch(
                plan: &plan,
                statePayload: { pid in
                    guard childRunsHooks else { return [] }
                    var bytes = state(.creating, pid).json()
                    bytes.append(0)
                    bytes += state(.created, pid).json()
                    return bytes
                },
                prepare: { pid, placed throws(IntermodalError) in if !placed { try cgroup?.add(pid: pid) } },
                onHooks: { pid throws(IntermodalError) in
                    // "created", as runtime-tools' hooks_stdin expects and crun passes: the
                    // environment is set up and the user's program not yet executed.
                    try HookRunner.run(prestart, kind: "prestart", state: state(.created, pid))
                    try HookRunner.run(createRuntime, kind: "createRuntime", state: state(.creating, pid))
                })
            launched = launchedNow
            Timing.mark("container ready")
            let start = ProcessStat.read(launchedNow.pid)?.startTime ?? 0
            let record = ContainerRecord(
                ociVersion: spec.ociVersion, id: id, pid: launchedNow.pid, pidStartTime: start,
                bundle: bundle.string, rootfs: plan.rootfs, annotations: spec.annotations,
                cgroupPaths: cgroup?.paths ?? [], cgroupCreated: cgroup?.created ?? [], poststart: spec.hooks?.poststart ?? [],
                poststop: spec.hooks?.poststop ?? [], createdNanoseconds: timestamps[.create]!.nanoseconds)
            try store.write(record)
            Timing.mark("state written")
            if let pidFile {
                try FileSystem.writeAtomically("\(launchedNow.pid)", to: pidFile)
            }
            return Container(id: id, pid: launchedNow.pid, bundle: bundle, timestamps: timestamps,
                             terminal: launchedNow.terminal, waiter: launchedNow.waiter)
        } catch {
            if let l = launched {
                Glibc.kill(l.pid, SIGKILL)
                Runtime.awaitExit(l.waiter)
            }
            try? cgroup?.destroy()
            try? store.remove(id)
            throw error
        }
    }

    /// Releases the process of a created container (it then runs the user's program), then
    /// runs the poststart hooks.
    public func start(id: String) async throws(IntermodalError) {
        // Opening the exec fifo waits for the child, and hooks are waited for.
        try await DedicatedThread.run { () throws(IntermodalError) in try startSync(id: id) }
    }

    /// The synchronous body of ``start(id:)``.
    public func startSync(id: String) throws(IntermodalError) {
        let record = try store.read(id)
        Timing.mark("state read")
        switch status(of: record) {
        case .created: break
        case .running: throw IntermodalError(.invalidState, "cannot start an already running container")
        case .stopped: throw IntermodalError(.invalidState, "cannot start a container that has stopped")
        case .creating: throw IntermodalError(.invalidState, "cannot start a container that is still being created")
        case .paused: throw IntermodalError(.invalidState, "cannot start a paused container")
        }
        let fifo = store.fifo(id).string
        var report = [CChar](repeating: 0, count: 1200)
        let r = ims_fifo_release(fifo, 30_000, record.pid, &report, report.count)
        Timing.mark("released")
        unlink(fifo)
        if r == 2 {
            // The child failed after `create` returned and says why: "E<errno> <detail>".
            let text = String(decoding: report.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let kind = text.first
            let body = text.dropFirst()
            let space = body.firstIndex(of: " ") ?? body.endIndex
            let err = Int32(body[..<space]) ?? 0
            let detail = space < body.endIndex ? String(body[body.index(after: space)...]) : ""
            var msg = ims_msg()
            msg.err = err
            msg.notfound = kind == "N" ? 1 : 0
            withUnsafeMutableBytes(of: &msg.detail) { raw in
                let bytes = Array(detail.utf8.prefix(raw.count - 1))
                raw.copyBytes(from: bytes + [0])
            }
            throw Launcher.childError(msg)
        }
        guard r == 1 else {
            if r == 0 { throw IntermodalError(.invalidState, "cannot start container \(id): its process exited before start") }
            throw IntermodalError(.systemError, "cannot start container \(id) through \(fifo)", cause: Errno(rawValue: -r))
        }
        if !record.poststart.isEmpty {
            ProcFS.awaitOffCPU(record.pid, startTime: record.pidStartTime)
            HookRunner.runWarning(record.poststart, kind: "poststart", state: record.state(.running))
        }
    }

    /// The container's current OCI state.
    public func state(id: String) throws(IntermodalError) -> ContainerState {
        let record = try store.read(id)
        return record.state(reportedStatus(of: record))
    }

    /// Sends `signal` to the container's init process, or with `all` to every process in it.
    public func kill(id: String, signal: Int32, all: Bool = false) throws(IntermodalError) {
        let record = try store.read(id)
        guard status(of: record) != .stopped else {
            throw IntermodalError(.invalidState, "container \(id) is not running")
        }
        if all {
            if let cg = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated) {
                try cg.killAll(signal: signal)
            } else {
                try Runtime.signalNamespace(of: record.pid, signal: signal)
            }
            return
        }
        let fd = ProcessDescriptor.open(record.pid)
        guard fd >= 0 else { throw IntermodalError(.invalidState, "container \(id) is not running") }
        defer { close(fd) }
        // Between reading the state and opening the pidfd the pid may have been reused.
        guard ProcessStat.isAlive(record.pid, startTime: record.pidStartTime) else {
            throw IntermodalError(.invalidState, "container \(id) is not running")
        }
        let rc = ProcessDescriptor.signal(fd, signal)
        guard rc == 0 else {
            throw IntermodalError(.systemError, "cannot send signal \(signal) to container \(id)", cause: Errno(rawValue: -rc))
        }
        // A frozen process dies only once thawed: SIGKILL ends a paused container too (as runc's).
        if signal == SIGKILL { thawIfPaused(record) }
    }

    /// Thaws the container's cgroup if it is frozen, so that a killed process can exit.
    func thawIfPaused(_ record: ContainerRecord) {
        guard paused(record) else { return }
        _ = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated)?.cgroup.freeze(false)
    }

    /// Removes a stopped container (with `force`, kills it first, and a missing one is no
    /// error); runs the poststop hooks and removes its cgroup and state.
    public func delete(id: String, force: Bool = false) async throws(IntermodalError) {
        // A forced delete waits for the process to die; poststop hooks are waited for.
        try await DedicatedThread.run { () throws(IntermodalError) in try deleteSync(id: id, force: force) }
    }

    /// The synchronous body of ``delete(id:force:)``.
    public func deleteSync(id: String, force: Bool = false) throws(IntermodalError) {
        var record: ContainerRecord
        do {
            record = try store.read(id)
        } catch where error.code == .notFound && FileSystem.isDirectory(store.directory(id)) {
            // Reserved but killed before its first state was written: no process yet (the state
            // is written before the init is cloned), but maybe the cgroups it was making (noted
            // before they were made).
            let cgroups = store.intendedCgroups(id)
            if !cgroups.isEmpty { try Cgroup.remove(paths: cgroups, created: cgroups) }
            try store.remove(id)
            return
        } catch where error.code == .notFound && force {
            // No such container: what --force asks for is already true (runc exits 0 too).
            return
        } catch where error.code == .corrupted && force {
            // An unreadable state.json: what can still be read of it says which process and
            // cgroups are the container's, so --force removes them instead of leaving them behind.
            guard let salvaged = store.salvage(id) else { throw error }
            record = salvaged
        }
        let status = status(of: record)
        Timing.mark("state read")
        if status != .stopped {
            guard force else {
                throw IntermodalError(.invalidState, "cannot delete container \(id) that is not stopped: \(status.rawValue)")
            }
            // pid 0: its creator was killed before the init's pid was recorded; the init (if
            // any) is in the cgroups, which Cgroup.remove below empties with SIGKILL.
            let fd = record.pid > 0 ? ProcessDescriptor.open(record.pid) : -1
            if fd >= 0 {
                // The pidfd pins the process: if it is ours (same start time), kill it and wait
                // until it has exited, so that its cgroup is empty when it is removed.
                if ProcessStat.read(record.pid)?.startTime == record.pidStartTime {
                    _ = ProcessDescriptor.signal(fd, SIGKILL)
                    thawIfPaused(record)
                    _ = ProcessDescriptor.wait(fd, milliseconds: 10_000)
                }
                close(fd)
            }
        }
        Timing.mark("stopped")
        HookRunner.runWarning(record.poststop, kind: "poststop", state: record.state(.stopped))
        if !record.cgroupPaths.isEmpty {
            try Cgroup.remove(paths: record.cgroupPaths.map { FilePath($0) }, created: record.cgroupCreated.map { FilePath($0) })
        }
        Timing.mark("cgroup destroyed")
        try store.remove(id)
        Timing.mark("state removed")
    }

    /// Containers whose state directory exists but whose `state.json` cannot be read, and why
    /// (``list()`` cannot describe them; `delete --force` removes them).
    public func unreadable() throws(IntermodalError) -> [(id: String, problem: IntermodalError)] {
        guard FileSystem.isDirectory(stateRoot) else { return [] }
        var result: [(id: String, problem: IntermodalError)] = []
        for id in try FileSystem.list(stateRoot) where FileSystem.isDirectory(store.directory(id)) {
            do throws(IntermodalError) { _ = try store.read(id) } catch where error.code == .corrupted {
                result.append((id, error))
            } catch {}
        }
        return result
    }

    /// Containers reserved (a state directory with its exec fifo) that have no state yet: being
    /// created now, or a create killed before its first state. ``deleteSync(id:force:)`` removes
    /// one and the cgroups it was making.
    public func reservedWithoutState() -> [String] {
        guard let names = try? FileSystem.list(stateRoot) else { return [] }
        return names.filter { FileSystem.isDirectory(store.directory($0)) && !FileSystem.exists(store.stateFile($0)) }
    }

    /// The states of all containers under ``stateRoot``.
    public func list() throws(IntermodalError) -> [ContainerState] {
        var result: [ContainerState] = []
        for id in try store.ids() {
            if let r = try? store.read(id) { result.append(r.state(reportedStatus(of: r))) }
        }
        return result
    }

    /// create + start + wait + delete; output goes to `io`; returns exit status and phase timestamps.
    public func run(id: String, bundle: FilePath, io: ProcessIO = .inherit) async throws(IntermodalError) -> RunResult {
        let (container, started) = try await DedicatedThread.run { () throws(IntermodalError) -> (Container, MonotonicInstant) in
            let container = try createSync(id: id, bundle: bundle, io: io)
            do throws(IntermodalError) {
                try startSync(id: id)
            } catch {
                try? deleteSync(id: id, force: true)
                throw error
            }
            return (container, MonotonicInstant.now)
        }
        var timestamps = container.timestamps
        timestamps.mark(.start, at: started)
        let status = await container.waiter.wait()
        timestamps.mark(.exit, at: container.waiter.exitedAt ?? .now)
        try await delete(id: id, force: true)
        timestamps.mark(.cleanup)
        return RunResult(status: status, timestamps: timestamps)
    }

    /// Runs an extra process inside a running container's namespaces/cgroup (like `runc exec`).
    public func exec(id: String, process: Spec.Process, io: ProcessIO = .inherit) async throws(IntermodalError) -> ExitStatus {
        // One dedicated thread launches and waits: the exec'd process dies with the thread that
        // cloned it (PR_SET_PDEATHSIG is per thread), so that thread must outlive it.
        try await DedicatedThread.run { () throws(IntermodalError) in try execSync(id: id, process: process, io: io) }
    }

    /// ``exec(id:process:io:)`` without a task (for the CLI).
    public func execSync(id: String, process: Spec.Process, io: ProcessIO = .inherit,
                         options: ExecOptions = ExecOptions()) throws(IntermodalError) -> ExitStatus {
        try launchExec(id: id, process: process, io: io, options: options).launched.waiter.waitSync()
    }

    /// Starts an extra process in a running container and returns at once: with `io` ``ProcessIO/terminal``
    /// (and `process.terminal`) the returned ``Container/terminal`` is the pseudo-terminal's master,
    /// for the caller to relay (`intermodal exec -t`); ``Container/wait()`` gives its exit status.
    public func startExec(id: String, process: Spec.Process, io: ProcessIO = .inherit,
                          options: ExecOptions = ExecOptions()) throws(IntermodalError) -> Container {
        let (launched, record) = try launchExec(id: id, process: process, io: io, options: options)
        var timestamps = PhaseTimestamps()
        timestamps.mark(.start)
        return Container(id: id, pid: launched.pid, bundle: FilePath(record.bundle), timestamps: timestamps,
                         terminal: launched.terminal, waiter: launched.waiter)
    }

    /// Validates `process` and starts it in the running container `id`: its namespaces, its
    /// cgroup and its seccomp profile. Returns the process and the container's state it was read from.
    func launchExec(id: String, process: Spec.Process, io: ProcessIO, options: ExecOptions = ExecOptions(),
                    detach: Bool = false) throws(IntermodalError) -> (launched: Launcher.Launched, record: ContainerRecord) {
        let record = try store.read(id)
        guard status(of: record) == .running else {
            throw IntermodalError(.invalidState, "cannot exec in container \(id): it is not running")
        }
        if !options.ignorePaused && paused(record) {
            throw IntermodalError(.invalidState, "cannot exec in a paused container \(id) (use --ignore-paused to override)")
        }
        var wrapper = Spec()
        wrapper.root = Spec.Root(path: "/")
        wrapper.process = process.confined(by: nil, adding: options.addedCapabilities)
        wrapper.linux = Spec.Linux()
        wrapper.linux?.namespaces = [Spec.Namespace(type: "mount")]
        try wrapper.validate(source: "exec process")
        // The container's seccomp profile, capabilities and no_new_privs apply to exec'd processes
        // too: without its configuration there is nothing to confine the process with, so refuse.
        let spec = try execConfiguration(record)
        let seccomp = try ResourceSetup.seccomp(for: spec)
        let confined = process.confined(by: spec.process, adding: options.addedCapabilities)
        var plan = try LaunchPlan(execIn: record.pid, process: confined, io: io, seccomp: seccomp)
        plan.config.exec_detach = detach ? 1 : 0
        plan.config.preserve_fds = Int32(clamping: max(0, options.preserveFDs))
        let cgroup = ContainerCgroup.reopen(paths: record.cgroupPaths, created: record.cgroupCreated)
        // The descriptors only serve the clone into the cgroup: done once launch returns.
        let cgroupFDs = cgroup.map { plan.join($0.cgroup) } ?? []
        defer { for fd in cgroupFDs { close(fd) } }
        let launched = try Launcher.launch(
            plan: &plan, statePayload: { _ in [] },
            prepare: { pid, placed throws(IntermodalError) in if !placed { try cgroup?.add(pid: pid) } },
            onHooks: { _ in }, waitForReady: false, reaping: !detach)
        if case .consoleSocket(let path) = io.mode, let master = launched.terminal {
            // The child joined the container's mount namespace, where the socket's path may not
            // exist: the master came here and goes on from here (as runc's exec does).
            let rc = ims_send_console(path.string, master.rawValue)
            try? master.close()
            if rc != 0 {
                Glibc.kill(launched.pid, SIGKILL)
                if detach { var s: Int32 = 0; _ = waitpid(launched.pid, &s, __WALL) }
                throw IntermodalError(.systemError, "cannot send the pseudo-terminal to --console-socket \(path)",
                                      cause: Errno(rawValue: -rc))
            }
            return (Launcher.Launched(pid: launched.pid, waiter: launched.waiter, terminal: nil), record)
        }
        return (launched, record)
    }

    /// The process of the running container `id`'s config.json: what runc's `exec` starts from
    /// when given a command line instead of `--process`.
    public func configuredProcess(id: String) throws(IntermodalError) -> Spec.Process {
        try execConfiguration(try store.read(id)).process ?? Spec.Process()
    }

    /// The container's configuration, which confines what is exec'd in it: unreadable, nothing is.
    private func execConfiguration(_ record: ContainerRecord) throws(IntermodalError) -> Spec {
        do {
            return try Spec.load(bundle: FilePath(record.bundle))
        } catch {
            throw IntermodalError(
                error.code, "cannot exec in container \(record.id): its configuration cannot be read, so its seccomp profile, capabilities and no_new_privs could not be applied: \(error.message)",
                cause: error.cause)
        }
    }

    // MARK: - helpers

    /// created / running / stopped from the record and /proc (a reused pid counts as stopped).
    func status(of record: ContainerRecord) -> ContainerState.Status {
        // The provisional state of a container whose creation has not finished (or whose creator died).
        if record.pid == 0 { return .creating }
        guard ProcessStat.isAlive(record.pid, startTime: record.pidStartTime) else { return .stopped }
        return FileSystem.exists(store.fifo(record.id)) ? .created : .running
    }

    /// ``status(of:)``, and paused for a running container whose cgroup is frozen (what `state`
    /// and `list` show; the lifecycle's own checks need not read the freezer).
    func reportedStatus(of record: ContainerRecord) -> ContainerState.Status {
        let s = status(of: record)
        return s == .running && paused(record) ? .paused : s
    }

    /// A warning on stderr, in the form hooks' failures are reported ("intermodal-runtime: warning: ...").
    static func warn(_ text: String) {
        StandardStreams.writeError("intermodal-runtime: warning: \(text)\n")
        warningLog?(text)
    }

    /// Also receives every warning (the CLI's `--log`); set once at start-up, before any work.
    nonisolated(unsafe) public static var warningLog: ((String) -> Void)?

    static func awaitExit(_ waiter: ChildWaiter) {
        _ = Poll.blockingUntil(.seconds(5), .every(.microseconds(500))) { waiter.status != nil }
    }

    /// Signals every process in the pid namespace of `pid` (used without a cgroup).
    static func signalNamespace(of pid: Int32, signal: Int32) throws(IntermodalError) {
        var target = stat()
        guard stat("/proc/\(pid)/ns/pid", &target) == 0 else {
            throw .system("cannot read the pid namespace of \(pid)")
        }
        var own = stat()
        if stat("/proc/self/ns/pid", &own) == 0 && own.st_ino == target.st_ino {
            // Shared with the host: only the init process is ours to signal.
            guard Glibc.kill(pid, signal) == 0 else { throw .system("cannot signal \(pid)") }
            return
        }
        for name in (try? FileSystem.list("/proc")) ?? [] {
            guard let p = Int32(name) else { continue }
            var st = stat()
            if stat("/proc/\(p)/ns/pid", &st) == 0 && st.st_ino == target.st_ino && st.st_dev == target.st_dev {
                _ = Glibc.kill(p, signal)
            }
        }
    }
}

extension Runtime {
    /// The OCI state as JSON, as `state` prints it.
    public static func stateJSON(_ state: ContainerState, pretty: Bool = false) throws(IntermodalError) -> [UInt8] {
        state.json(pretty: pretty)
    }

}

extension Container {
    /// Blocks the calling thread until the container's init exits (for the CLI).
    public func waitSync() -> ExitStatus { waiter.waitSync() }
}

extension Runtime {
    /// The cgroup directories recorded for a container (for tests and the harness's checks).
    public func cgroupDirectories(id: String) throws(IntermodalError) -> [FilePath] {
        try store.read(id).cgroupCreated.map { FilePath($0) }
    }
}

/// Phase timing on stderr when INTERMODAL_RUNTIME_TIMING is set (for profiling the CLI).
public enum Timing {
    static let enabled = getenv("INTERMODAL_RUNTIME_TIMING") != nil
    nonisolated(unsafe) static var last = MonotonicInstant.now

    static func child(_ marks: String) {
        var previous = last.nanoseconds
        for item in marks.split(separator: " ") {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let ns = UInt64(parts[1]) else { continue }
            StandardStreams.writeError("timing:   child \(parts[0]) +\((ns &- previous) / 1000) us\n")
            previous = ns
        }
        last = MonotonicInstant(nanoseconds: previous)
    }

    public static func mark(_ what: String) {
        guard enabled else { return }
        let previous = last
        let now = MonotonicInstant.now
        StandardStreams.writeError("timing: \(what) +\((now.nanoseconds &- previous.nanoseconds) / 1000) us\n")
        last = now
    }
}
