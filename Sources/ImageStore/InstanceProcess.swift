import IntermodalCore

/// What an instance of an image runs: arguments, environment, working directory, user, host name
/// and terminal, resolved once by Docker's rules from the image's configuration and the caller's
/// overrides. Containers (the engine's bundle generator), guests (the init's configuration) and
/// the benchmark harness (native runs, peer bundles) all take it from here, so that one image and
/// one set of flags run the same program everywhere.
public struct InstanceProcess: Sendable, Equatable {
    /// The default `PATH` when the image sets none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// What the caller changes (`run`'s `--entrypoint`, the command, `-e`, `-w`, `-u`, `-t`).
    public struct Overrides: Sendable, Equatable {
        public var command: [String]
        public var entrypoint: [String]?
        /// `NAME=VALUE` entries replacing the image's by name; a bare `NAME` takes the host's value.
        public var environment: [String]
        public var workingDirectory: String?
        public var user: String?
        public var terminal: Bool

        public init(command: [String] = [], entrypoint: [String]? = nil, environment: [String] = [],
                    workingDirectory: String? = nil, user: String? = nil, terminal: Bool = false) {
            self.command = command
            self.entrypoint = entrypoint
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.user = user
            self.terminal = terminal
        }
    }

    /// The image's Entrypoint, unless overridden.
    public var entrypoint: [String]
    /// The given command, else the image's Cmd (dropped when the entrypoint is overridden).
    public var command: [String]
    public var environment: [String]
    /// Absolute.
    public var workingDirectory: String
    /// As given (`name`, `uid`, `uid:gid`, `name:group`); nil when neither sets one (root). Resolved against the
    /// instance's own `/etc/passwd` by whoever starts it (the engine, the guest's init).
    public var user: String?
    public var hostname: String
    public var terminal: Bool

    /// entrypoint + command: the argument vector.
    public var arguments: [String] { entrypoint + command }

    /// Docker's rules: a given entrypoint replaces the image's and drops its Cmd; a given command
    /// replaces Cmd; Env is the image's, then `PATH` if missing, `HOSTNAME`, `TERM` with a
    /// terminal, then the overrides by name; `-w` else WorkingDir else `/`; `-u` else User.
    public static func resolve(
        image: ImageConfiguration, overrides: Overrides, hostname: String
    ) throws(IntermodalError) -> InstanceProcess {
        let config = image.config
        let entrypoint = overrides.entrypoint ?? config?.entrypoint ?? []
        var command = overrides.command
        if command.isEmpty && overrides.entrypoint == nil { command = config?.cmd ?? [] }
        guard !(entrypoint + command).isEmpty else {
            throw IntermodalError(.invalidArgument, "no command specified: the image has no Entrypoint or Cmd; give one after the image name")
        }
        var env = EnvironmentList(config?.env ?? [])
        if env["PATH"] == nil { env["PATH"] = defaultPath }
        env["HOSTNAME"] = hostname
        if overrides.terminal && env["TERM"] == nil { env["TERM"] = "xterm" }
        for item in overrides.environment {
            if let eq = item.firstIndex(of: "=") {
                env[String(item[..<eq])] = String(item[item.index(after: eq)...])
            } else if let value = getenvString(item) {
                env[item] = value     // `-e NAME` passes the host's value, as Docker does
            }
        }
        var cwd = overrides.workingDirectory ?? config?.workingDir ?? "/"
        if cwd.isEmpty { cwd = "/" }
        if !cwd.hasPrefix("/") { cwd = "/" + cwd }
        var user = overrides.user ?? config?.user
        if user?.isEmpty == true { user = nil }
        return InstanceProcess(
            entrypoint: entrypoint, command: command, environment: env.entries, workingDirectory: cwd,
            user: user, hostname: hostname, terminal: overrides.terminal)
    }
}

/// `KEY=VALUE` entries that keep their order and replace by key.
public struct EnvironmentList: Sendable, Equatable {
    public private(set) var entries: [String]

    public init(_ entries: [String]) {
        self.entries = []
        for e in entries {
            let key = e.split(separator: "=", maxSplits: 1).first.map(String.init) ?? e
            self[key] = e.contains("=") ? String(e.drop { $0 != "=" }.dropFirst()) : ""
        }
    }

    public subscript(key: String) -> String? {
        get {
            for e in entries where e.hasPrefix(key + "=") { return String(e.dropFirst(key.count + 1)) }
            return nil
        }
        set {
            let i = entries.firstIndex { $0.hasPrefix(key + "=") }
            switch (i, newValue) {
            case (let i?, let v?): entries[i] = key + "=" + v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append(key + "=" + v)
            case (nil, nil): break
            }
        }
    }

    /// As a dictionary (variable expansion in `build`).
    public var dictionary: [String: String] {
        var d: [String: String] = [:]
        for e in entries {
            let parts = e.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            d[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return d
    }
}
