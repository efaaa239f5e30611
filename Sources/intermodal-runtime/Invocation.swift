#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// What a lifecycle command line (create, start, state, kill, delete, run) asks for, whichever
/// parser read it: the fast one (FastPath.swift) or ArgumentParser's (Commands.swift). Both end
/// in ``execute()``, so that they can only differ in how they read the arguments, and the test
/// of that (`INTERMODAL_RUNTIME_PARSE_CHECK`, see ParseCheck.swift) compares these values.
struct Invocation: Equatable {
    var command: String
    var id: String
    var bundle: String = "."
    var pidFile: String?
    var consoleSocket: String?
    var all = false
    var force = false
    var detach = false
    var signal = "TERM"
    var preserveFDs = 0

    /// One line naming every field (compared by the parse check).
    var summary: String {
        "\(command) id=\(id) bundle=\(bundle) pid-file=\(pidFile ?? "-") console-socket=\(consoleSocket ?? "-") all=\(all) force=\(force) detach=\(detach) signal=\(signal) preserve-fds=\(preserveFDs)"
    }

    /// Runs the command; errors are reported like runc (one line, exit status 1).
    func execute() {
        let rt = Global.runtime
        let io: ProcessIO = consoleSocket.map { .consoleSocket(FilePath($0)) } ?? .inherit
        let pidFile = pidFile.map { FilePath($0) }
        do throws(IntermodalError) {
            switch command {
            case "create":
                _ = try rt.createSync(id: id, bundle: FilePath(bundle), io: io, pidFile: pidFile, preserveFDs: preserveFDs)
            case "start":
                try rt.startSync(id: id)
            case "state":
                let s = try rt.state(id: id)
                StandardStreams.writeOutput(String(decoding: try Runtime.stateJSON(s, pretty: true), as: UTF8.self) + "\n")
            case "kill":
                try rt.kill(id: id, signal: try Signals.parse(signal), all: all)
            case "delete":
                try rt.deleteSync(id: id, force: force)
            case "run":
                let container = try rt.createSync(id: id, bundle: FilePath(bundle), io: io, pidFile: pidFile, preserveFDs: preserveFDs)
                do throws(IntermodalError) { try rt.startSync(id: id) } catch {
                    try? rt.deleteSync(id: id, force: true)
                    throw error
                }
                guard !detach else { return }
                // Forward the usual terminating signals to the container while waiting for it.
                Signals.forward(to: container.pid)
                let status = container.waitSync()
                try? rt.deleteSync(id: id, force: true)
                exit(status.code)
            default:
                throw IntermodalError(.internalError, "unknown lifecycle command \(command)")
            }
        } catch {
            Global.fail(error)
        }
    }
}
