import IntermodalCore
import SystemPackage

/// A container created by this process through ``Runtime/create(id:bundle:io:)``.
public struct Container: Sendable {
    public var id: String
    /// The container's init process, as seen from the host.
    public var pid: Int32
    /// Absolute path of the bundle.
    public var bundle: FilePath
    /// `.create` (entered) and, once started, `.start` as recorded by the runtime.
    public var timestamps: PhaseTimestamps
    /// The master end of the container's pseudo-terminal when created with ``ProcessIO/terminal``.
    public var terminal: FileDescriptor?

    let waiter: ChildWaiter

    init(id: String, pid: Int32, bundle: FilePath, timestamps: PhaseTimestamps, terminal: FileDescriptor?, waiter: ChildWaiter) {
        self.id = id
        self.pid = pid
        self.bundle = bundle
        self.timestamps = timestamps
        self.terminal = terminal
        self.waiter = waiter
    }

    /// Waits for the container's init process to exit and returns how it ended.
    ///
    /// Only valid in the process that created the container (it is that process's child);
    /// may be called any number of times and concurrently.
    public func wait() async throws(IntermodalError) -> ExitStatus {
        await waiter.wait()
    }

    /// For a process about to execve() a program that reaps the container's init itself (the
    /// engine's small detached monitor): from now on this process never reaps it, and ``wait()``
    /// must not be called. Returns the exit status instead when the init has already exited;
    /// then nothing was handed over and the caller finishes the container itself.
    public func handOverReaping() async -> ExitStatus? {
        if waiter.handOver() { return nil }
        return await waiter.wait()
    }
}
