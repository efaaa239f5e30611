import SystemPackage

/// Where the container process's standard streams go.
public struct ProcessIO: Sendable {
    enum Mode: Sendable {
        case inherit
        case descriptors(stdin: CInt?, stdout: CInt?, stderr: CInt?)
        case consoleSocket(FilePath)
        case terminal
    }

    let mode: Mode

    /// The caller's own stdin, stdout and stderr.
    public static let inherit = ProcessIO(mode: .inherit)

    /// The given descriptors (duplicated into the container as 0, 1, 2); `nil` means `/dev/null`.
    /// The caller keeps ownership of its descriptors.
    public static func fileDescriptors(stdin: FileDescriptor?, stdout: FileDescriptor?, stderr: FileDescriptor?) -> ProcessIO {
        ProcessIO(mode: .descriptors(stdin: stdin?.rawValue, stdout: stdout?.rawValue, stderr: stderr?.rawValue))
    }

    /// A new pseudo-terminal whose master end is sent (SCM_RIGHTS) to the Unix socket at `path`,
    /// as `runc --console-socket` does. Requires `process.terminal: true`.
    public static func consoleSocket(_ path: FilePath) -> ProcessIO {
        ProcessIO(mode: .consoleSocket(path))
    }

    /// A new pseudo-terminal whose master end is returned in ``Container/terminal``.
    /// Requires `process.terminal: true`.
    public static let terminal = ProcessIO(mode: .terminal)
}

import CLinuxShim
import IntermodalCore

extension ProcessIO {
    /// A pipe whose ends are close-on-exec from the start (pipe2), for collecting a container's
    /// output: a pipe made with pipe() and marked afterwards can leak, in the moment between,
    /// into a process another thread spawns, which then holds the write end open.
    public static func pipe() throws(IntermodalError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        guard makePipe(&fds) else { throw .system("cannot create a pipe") }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }
}
