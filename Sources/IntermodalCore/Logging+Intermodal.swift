import Logging

/// Loggers for the libraries; the CLI chooses the handler and level once at start-up.
public enum IntermodalLog {
    /// A logger labelled `intermodal.<subsystem>`.
    public static func logger(_ subsystem: String) -> Logger {
        Logger(label: "intermodal.\(subsystem)")
    }
}
