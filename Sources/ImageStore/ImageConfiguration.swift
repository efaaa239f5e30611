import IntermodalCore

/// The OCI image configuration (`application/vnd.oci.image.config.v1+json`), field names as in the
/// image-spec, so that what we write is read by skopeo, umoci, podman and Docker.
public struct ImageConfiguration: Codable, Sendable, Equatable {
    /// RFC 3339 creation time.
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    /// How a container from this image runs (`Env`, `Cmd`, ...).
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [HistoryEntry]?

    public init(
        created: String? = nil, author: String? = nil, architecture: String = ImageConfiguration.hostArchitecture,
        os: String = "linux", variant: String? = nil, config: ContainerConfig? = ContainerConfig(),
        rootfs: RootFS = RootFS(diffIDs: []), history: [HistoryEntry]? = []
    ) {
        self.created = created
        self.author = author
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    /// The container defaults of an image (the image-spec's `config` object).
    public struct ContainerConfig: Codable, Sendable, Equatable {
        public var user: String?
        public var exposedPorts: [String: EmptyObject]?
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var volumes: [String: EmptyObject]?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?

        public init(
            user: String? = nil, exposedPorts: [String: EmptyObject]? = nil, env: [String]? = nil,
            entrypoint: [String]? = nil, cmd: [String]? = nil, volumes: [String: EmptyObject]? = nil,
            workingDir: String? = nil, labels: [String: String]? = nil, stopSignal: String? = nil
        ) {
            self.user = user
            self.exposedPorts = exposedPorts
            self.env = env
            self.entrypoint = entrypoint
            self.cmd = cmd
            self.volumes = volumes
            self.workingDir = workingDir
            self.labels = labels
            self.stopSignal = stopSignal
        }

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint"
            case cmd = "Cmd", volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels"
            case stopSignal = "StopSignal"
        }
    }

    /// `rootfs`: the uncompressed digests (diff IDs) of the layers, lowest first.
    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String
        public var diffIDs: [String]

        public init(type: String = "layers", diffIDs: [String]) {
            self.type = type
            self.diffIDs = diffIDs
        }

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    /// `{}` in JSON (the image-spec's sets, like `ExposedPorts`).
    public struct EmptyObject: Codable, Sendable, Equatable {
        public init() {}
    }

    /// The architecture of this host in OCI/Go terms.
    public static var hostArchitecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }
}

/// One line of an image's history: which instruction made a layer (or changed only the config).
public struct HistoryEntry: Codable, Sendable, Equatable {
    /// RFC 3339 time.
    public var created: String?
    /// The instruction, e.g. `/bin/sh -c apt-get update` or `intermodal image bootstrap busybox`.
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    /// True when the step changed only the configuration and made no layer.
    public var emptyLayer: Bool?

    public init(created: String? = nil, createdBy: String? = nil, author: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.author = author
        self.comment = comment
        self.emptyLayer = emptyLayer
    }

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }
}
