#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage

/// How a container run ended, with the phases the engine and the runtime recorded.
public struct RunOutcome: Sendable {
    public var container: ContainerRecord
    public var status: ExitStatus
    /// snapshot, create, start, firstOutput (with ``OutputMode/stream``), exit, cleanup.
    public var timestamps: PhaseTimestamps
    /// What went wrong tidying up after the process exited (an unmount, the network, the
    /// removal of `--rm`). The run itself happened: this never replaces its exit status.
    public var cleanupFailure: IntermodalError?
}

extension Engine {
    /// `run` in the foreground: a new container from `image`, started, waited for; its exit status
    /// returned. With `autoRemove` everything is removed afterwards; otherwise the stopped container
    /// stays for `ps -a`, `logs` and `commit`.
    /// With `forwardSignals`, SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to this process go to the container (the CLI).
    public func run(image: String, options: RunOptions, output: OutputMode = .stream, forwardSignals: Bool = false) async throws(IntermodalError) -> RunOutcome {
        let made = try await prepare(image: image, options: options)
        return try await runCreated(made.record, spec: made.spec, output: output, forwardSignals: forwardSignals)
    }

    /// Starts a container made by ``create(image:options:buildStep:)`` in this process and waits for it.
    public func runCreated(_ created: ContainerRecord, output: OutputMode, forwardSignals: Bool = false) async throws(IntermodalError) -> RunOutcome {
        try await runCreated(created, spec: nil, output: output, forwardSignals: forwardSignals)
    }

    /// `spec`: the bundle's configuration when this process just wrote it (nil: the runtime reads it).
    func runCreated(_ created: ContainerRecord, spec: Spec?, output: OutputMode, forwardSignals: Bool) async throws(IntermodalError) -> RunOutcome {
        var record = created
        let dir = registry.directory(record.id)
        let io = try await makeOutput(&record, output: output, dir: dir)
        Timing.mark("engine: output")
        // Forwarding starts before the container does: once `start` has released it, the record
        // says running and a signal may come at once (it would end the CLI instead).
        let forwarder = forwardSignals ? SignalForwarder(runtime: runtime, containerID: record.id) : nil
        let started: Container
        do {
            started = try await start(&record, io: io, spec: spec)
        } catch {
            forwarder?.cancel()
            try? await finish(&record, status: nil, failure: error)
            throw error
        }
        let status: ExitStatus
        do {
            status = try await started.wait()
        } catch {
            forwarder?.cancel()
            try? await finish(&record, status: nil, failure: error)
            throw error
        }
        forwarder?.cancel()
        record.timestamps.mark(.exit)
        if let first = await io.finished() { record.timestamps.mark(.firstOutput, at: first) }
        var cleanupFailure: IntermodalError?
        do {
            try await finish(&record, status: status, failure: nil)
        } catch {
            logger.warning("container \(record.shortID) exited with \(status.code), but cleaning up after it failed: \(error)")
            cleanupFailure = error
        }
        return RunOutcome(container: record, status: status, timestamps: record.timestamps, cleanupFailure: cleanupFailure)
    }

    private func makeOutput(_ record: inout ContainerRecord, output: OutputMode, dir: ContainerDirectory) async throws(IntermodalError) -> ContainerOutput {
        do {
            return try ContainerOutput(
                mode: output, logPath: record.options.discardLog ? nil : dir.log,
                tty: record.options.tty, interactive: record.options.interactive)
        } catch {
            try? await destroy(record)
            throw error
        }
    }

    /// runtime create -> network -> runtime start; the record says `running` afterwards.
    /// On failure the runtime's container and the network are undone (the snapshot stays for `finish`).
    func start(_ record: inout ContainerRecord, io: ContainerOutput, spec: Spec? = nil) async throws(IntermodalError) -> Container {
        let dir = registry.directory(record.id)
        let container: Container
        do {
            if let spec {
                container = try await runtime.create(id: record.id, bundle: dir.path, spec: spec, io: io.processIO)
            } else {
                container = try await runtime.create(id: record.id, bundle: dir.path, io: io.processIO)
            }
        } catch {
            io.abandon()
            throw error
        }
        io.started(container)
        record.timestamps.merge(container.timestamps)
        do {
            if record.options.network == .bridge {
                let attachment = try await network.attach(containerID: record.id, pid: container.pid, ports: record.options.ports)
                record.address = attachment.address
                record.hostInterface = attachment.hostInterface
            }
            record.pid = container.pid
            record.ownerPID = getpid()
            // "start" is when the process is released; its first output may come before start() returns.
            record.timestamps.mark(.start)
            try await runtime.start(id: record.id)
        } catch {
            try? await runtime.delete(id: record.id, force: true)
            // A log copy deferred to the small monitor would never start now (the monitor's
            // hand-over comes only after a successful start): copy here, or this waits forever.
            if io.defersLogCopy { io.copyLog() }
            _ = await io.finished()
            throw error
        }
        record.status = .running
        record.startedUnix = WallClock.now
        try registry.save(record)
        Timing.mark("engine: running saved")
        return container
    }

    /// After the process exited (or failed to start): runtime state deleted, network detached,
    /// overlay unmounted (the upper dir stays for `commit`), record updated; with `autoRemove`,
    /// everything removed.
    func finish(_ record: inout ContainerRecord, status: ExitStatus?, failure: IntermodalError?) async throws(IntermodalError) {
        var firstError: IntermodalError?
        let dir = registry.directory(record.id)
        // A container that exited uses its root file system no more: it is unmounted first and,
        // with --rm, the directories overlayfs made in work/ are deleted on a helper thread while
        // the runtime deletes its state (both mostly wait for the disk).
        var workRemoval: DedicatedThread.Joinable?
        if status != nil {
            do {
                let unmounted = try RootfsSnapshot.unmount(dir)
                if unmounted && record.autoRemove && record.rootfsMode == .overlay {
                    workRemoval = DedicatedThread.joinable { () throws(IntermodalError) in try ConcurrentRemoval.empty(dir.work) }
                }
            } catch { firstError = firstError ?? error }
        }
        do { try await runtime.delete(id: record.id, force: true) } catch where error.code != .notFound {
            firstError = firstError ?? error
        } catch {}
        if record.options.network == .bridge {
            do { try await network.detach(containerID: record.id, published: !record.options.ports.isEmpty) } catch {
                firstError = firstError ?? error
            }
        }
        Timing.mark("engine: runtime deleted")
        if status == nil {
            do { try RootfsSnapshot.unmount(dir) } catch { firstError = firstError ?? error }
        }
        do { try workRemoval?.join() } catch { firstError = firstError ?? error }
        Timing.mark("engine: unmounted")
        record.status = .exited
        record.pid = nil
        record.finishedUnix = WallClock.now
        if let status {
            record.exitCode = status.code
        } else if let failure {
            record.exitCode = failure.dockerExitStatus
            record.error = failure.description
        }
        if record.autoRemove {
            do { try await destroy(record) } catch { firstError = firstError ?? error }
            // After the removal: with `--rm` the container's files are resources too.
            record.timestamps.mark(.cleanup)
        } else {
            record.timestamps.mark(.cleanup)
            do { try registry.save(record) } catch { firstError = firstError ?? error }
        }
        Timing.mark("engine: removed/saved")
        if let firstError { throw firstError }
    }

}
