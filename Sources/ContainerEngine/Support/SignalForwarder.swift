#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import Dispatch

/// While a foreground container runs, signals that would end the CLI go to the container instead
/// (Docker's `--sig-proxy`), so Ctrl-C stops the container and the normal cleanup path still runs.
final class SignalForwarder {
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    private let sources: [any DispatchSourceSignal]

    init(runtime: Runtime, containerID: String) {
        var sources: [any DispatchSourceSignal] = []
        for sig in Self.forwarded {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { try? runtime.kill(id: containerID, signal: sig) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Stops forwarding and restores the default dispositions.
    func cancel() {
        for source in sources { source.cancel() }
        for sig in Self.forwarded { signal(sig, SIG_DFL) }
    }
}
