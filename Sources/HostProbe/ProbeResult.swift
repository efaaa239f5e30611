/// The outcome of one host check, as `intermodal doctor` prints it.
public struct ProbeResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Checked and works.
        case ok
        /// Checked; works with a limitation the user should know about.
        case warning
        /// Checked and does not work or is absent.
        case missing
    }

    /// What was checked, e.g. "namespace: user".
    public var name: String
    public var status: Status
    /// What the check found, e.g. a version or the failure's text.
    public var detail: String
    /// How to fix a missing or limited item, when we know.
    public var fix: String?
    /// Whether the quick benchmark cannot run without it.
    public var required: Bool

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil, required: Bool = false) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
        self.required = required
    }
}

/// Everything `intermodal doctor` found on this host.
public struct HostReport: Codable, Sendable {
    public var results: [ProbeResult]
    /// Seconds since the epoch when the report was made.
    public var generatedAtUnix: Int64

    /// The checks the quick benchmark needs that failed.
    public var blockers: [ProbeResult] { results.filter { $0.required && $0.status == .missing } }

    public init(results: [ProbeResult], generatedAtUnix: Int64) {
        self.results = results
        self.generatedAtUnix = generatedAtUnix
    }
}
