/// The OCI runtime state of a container (what `state` prints and hooks read on stdin).
public struct ContainerState: Codable, Sendable, Equatable {
    /// The lifecycle status as defined by the runtime specification.
    public enum Status: String, Codable, Sendable {
        case creating, created, running, stopped
        /// Running with every process frozen (`pause`): runc's fifth status.
        case paused
    }

    public var ociVersion: String
    public var id: String
    public var status: Status
    /// The container's init process as seen from the host; absent once stopped.
    public var pid: Int32?
    /// Absolute path of the bundle.
    public var bundle: String
    public var annotations: [String: String]?

    public init(ociVersion: String = "1.2.0", id: String, status: Status, pid: Int32?, bundle: String,
                annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}
