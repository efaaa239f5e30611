#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// How `exec` starts its process, beyond the process itself: runc's `exec` flags.
public struct ExecOptions: Sendable, Equatable {
    /// Descriptors 3 ..< 3 + n of the caller pass into the process (`--preserve-fds n`).
    public var preserveFDs = 0
    /// Capabilities added to the bounding, effective and permitted sets (`--cap`), even beyond
    /// the container's own: the caller's explicit grant.
    public var addedCapabilities: [String] = []
    /// Exec in a frozen container too (`--ignore-paused`); the process runs once it is resumed.
    public var ignorePaused = false

    public init(preserveFDs: Int = 0, addedCapabilities: [String] = [], ignorePaused: Bool = false) {
        self.preserveFDs = preserveFDs
        self.addedCapabilities = addedCapabilities
        self.ignorePaused = ignorePaused
    }
}

extension Runtime {
    /// Starts `process` in the running container `id` and returns its pid once it has executed
    /// its program, leaving it running (`runc exec --detach`): this process never reaps it, so
    /// its exit status goes to whoever adopts it when this process exits (conmon and
    /// containerd's shim are child subreapers for that). Written to `pidFile` as `create` does.
    public func execDetached(id: String, process: Spec.Process, io: ProcessIO = .inherit, options: ExecOptions = ExecOptions(),
                             pidFile: FilePath? = nil) throws(IntermodalError) -> Int32 {
        let pid = try launchExec(id: id, process: process, io: io, options: options, detach: true).launched.pid
        if let pidFile {
            do throws(IntermodalError) { try FileSystem.writeAtomically("\(pid)", to: pidFile) } catch {
                Glibc.kill(pid, SIGKILL)
                var s: Int32 = 0
                _ = waitpid(pid, &s, __WALL)
                throw error
            }
        }
        return pid
    }
}
