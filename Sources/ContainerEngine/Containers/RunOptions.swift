#if canImport(Glibc)
import Glibc
#endif
import ImageStore
import IntermodalCore

/// How a container's network is set up.
public enum NetworkMode: String, Codable, Sendable, CaseIterable {
    /// A new network namespace with only the loopback interface, up.
    case none
    /// The host's network namespace (no isolation; what `build` uses for `RUN`).
    case host
    /// A new namespace with a veth pair on the project bridge `intermodal0` and an address on it.
    case bridge
}

/// A bind mount from the host (`-v HOST:CONTAINER[:ro]`).
public struct VolumeMount: Codable, Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }

    /// Parses `HOST:CONTAINER[:ro|rw]`; both paths must be absolute.
    public static func parse(_ text: String) throws(IntermodalError) -> VolumeMount {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw IntermodalError(.invalidArgument, "invalid volume '\(text)': expected HOST:CONTAINER[:ro]")
        }
        guard parts[0].hasPrefix("/"), parts[1].hasPrefix("/") else {
            throw IntermodalError(.invalidArgument, "invalid volume '\(text)': both paths must be absolute")
        }
        var readOnly = false
        if parts.count == 3 {
            switch parts[2] {
            case "ro": readOnly = true
            case "rw": readOnly = false
            default: throw IntermodalError(.invalidArgument, "invalid volume mode '\(parts[2])' in '\(text)' (ro or rw)")
            }
        }
        return VolumeMount(source: parts[0], destination: parts[1], readOnly: readOnly)
    }
}

/// Everything `run` accepts besides the image, as a value the harness can build in-process.
public struct RunOptions: Codable, Sendable, Equatable {
    /// A name for the container; generated when nil.
    public var name: String?
    /// Replaces the image's `Cmd` when non-empty.
    public var command: [String]
    /// Replaces the image's `Entrypoint` when set (an empty array clears it).
    public var entrypoint: [String]?
    /// `KEY=VALUE` (or `KEY` to take the host's value), after the image's `Env`.
    public var environment: [String]
    public var workingDirectory: String?
    /// `name`, `uid`, `name:group` or `uid:gid`, resolved in the image's `/etc/passwd` and `/etc/group`.
    public var user: String?
    public var volumes: [VolumeMount]
    /// Memory limit in bytes (`-m 256m`).
    public var memoryLimit: Int64?
    /// CPUs as a fraction (`--cpus 1.5` -> quota 150000 per 100000 µs period).
    public var cpus: Double?
    public var pidsLimit: Int64?
    public var network: NetworkMode
    /// Ports published on the host (`-p`), stored only when there are any (so records made
    /// before `-p` existed read the same). Use ``ports``.
    public var publishedPorts: [PortMapping]?
    /// Keep standard input open (`-i`).
    public var interactive: Bool
    /// Give the process a terminal (`-t`).
    public var tty: Bool
    /// Remove the container when it exits (`--rm`).
    public var autoRemove: Bool
    /// Do not write a log file (build steps stream to the builder instead).
    public var discardLog: Bool

    public init(
        name: String? = nil, command: [String] = [], entrypoint: [String]? = nil, environment: [String] = [],
        workingDirectory: String? = nil, user: String? = nil, volumes: [VolumeMount] = [],
        memoryLimit: Int64? = nil, cpus: Double? = nil, pidsLimit: Int64? = nil,
        network: NetworkMode = .none, ports: [PortMapping] = [], interactive: Bool = false, tty: Bool = false,
        autoRemove: Bool = false, discardLog: Bool = false
    ) {
        self.name = name
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.volumes = volumes
        self.memoryLimit = memoryLimit
        self.cpus = cpus
        self.pidsLimit = pidsLimit
        self.network = network
        self.publishedPorts = ports.isEmpty ? nil : ports
        self.interactive = interactive
        self.tty = tty
        self.autoRemove = autoRemove
        self.discardLog = discardLog
    }

    /// Ports published on the host (`-p HOST:CONTAINER`); they need ``NetworkMode/bridge``.
    public var ports: [PortMapping] {
        get { publishedPorts ?? [] }
        set { publishedPorts = newValue.isEmpty ? nil : newValue }
    }

    /// Refuses limits the kernel cannot apply as given, instead of writing none or a wrong one:
    /// `--cpus` must be a finite number from 0.01 (a quota of 1 ms per 100 ms period, the kernel's
    /// minimum) up to the CPUs online (Docker's range). Published ports need the bridge network
    /// and must not take one host port twice.
    public func validate() throws(IntermodalError) {
        if !ports.isEmpty && network != .bridge {
            throw IntermodalError(
                .invalidArgument,
                "-p \(ports[0]) needs --network bridge: with --network \(network.rawValue) the container has no address to forward to")
        }
        for (i, port) in ports.enumerated() {
            if let other = ports[..<i].first(where: { $0.conflicts(with: port) }) {
                throw IntermodalError(.invalidArgument, "-p \(port) and -p \(other) take the same host port")
            }
        }
        if let cpus {
            let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            guard cpus.isFinite, cpus >= 0.01, cpus <= Double(online) else {
                throw IntermodalError(
                    .invalidArgument,
                    "--cpus \(cpus): the range is from 0.01 to \(online).00, as there \(online == 1 ? "is" : "are") \(online) CPU\(online == 1 ? "" : "s") online")
            }
        }
    }

    /// Parses a memory size like Docker (``ByteSize``): `256m`, `1g`, `512k`, `1048576` (bytes), `64mb`.
    public static func parseMemory(_ text: String) throws(IntermodalError) -> Int64 {
        guard let bytes = ByteSize.parse(text) else {
            throw IntermodalError(.invalidArgument, "invalid memory size '\(text)' (e.g. 256m, 1g)")
        }
        guard bytes >= 6 << 20 else {
            throw IntermodalError(.invalidArgument, "memory limit '\(text)' is below the minimum of 6m")
        }
        return bytes
    }
}

extension RunOptions {
    /// What these flags change in the process an image runs.
    public var processOverrides: InstanceProcess.Overrides {
        InstanceProcess.Overrides(
            command: command, entrypoint: entrypoint, environment: environment,
            workingDirectory: workingDirectory, user: user, terminal: tty)
    }
}
