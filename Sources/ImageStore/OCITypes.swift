import IntermodalCore

/// Media types of the OCI image-spec and their Docker schema 2 equivalents (which registries and
/// `docker save` still produce, and which we read).
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    static func isIndex(_ t: String?) -> Bool { t == ociIndex || t == dockerManifestList }
    static func isManifest(_ t: String?) -> Bool { t == ociManifest || t == dockerManifest }
}

/// The annotation that names an image inside an OCI layout's `index.json`.
public let refNameAnnotation = "org.opencontainers.image.ref.name"

/// An OCI content descriptor.
public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: String
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: Platform?

    public init(mediaType: String, digest: String, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    public struct Platform: Codable, Sendable, Equatable {
        public var architecture: String
        public var os: String
        public var variant: String?
        public init(architecture: String, os: String, variant: String? = nil) {
            self.architecture = architecture
            self.os = os
            self.variant = variant
        }
    }
}

/// An image manifest (OCI, or Docker schema 2: the same shape).
public struct Manifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index (`index.json` of a layout, or a multi-platform list from a registry).
public struct ImageIndex: Codable, Sendable, Equatable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociIndex, manifests: [Descriptor] = [], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// One layer of an image: the stored blob (usually gzip) and the digest of its uncompressed tar.
public struct LayerDescriptor: Sendable, Hashable {
    /// Digest of the blob as stored and transferred (`sha256:...`).
    public var digest: String
    /// Blob size in bytes.
    public var size: Int64
    public var mediaType: String
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    public var diffID: String

    public init(digest: String, size: Int64, mediaType: String, diffID: String) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
        self.diffID = diffID
    }
}

/// An image in the store: its names, its manifest, its configuration and its layers.
public struct Image: Sendable {
    /// The name it was resolved by (nil when resolved by ID or when untagged).
    public var reference: ImageReference?
    /// Every local name this image has.
    public var names: [ImageReference]
    /// Digest of the manifest (`sha256:...`).
    public var manifestDigest: String
    /// Digest of the configuration blob: the image ID, as Docker shows it.
    public var configDigest: String
    public var configuration: ImageConfiguration
    /// Layers, lowest first.
    public var layers: [LayerDescriptor]

    public init(reference: ImageReference?, names: [ImageReference] = [], manifestDigest: String, configDigest: String, configuration: ImageConfiguration, layers: [LayerDescriptor]) {
        self.reference = reference
        self.names = names
        self.manifestDigest = manifestDigest
        self.configDigest = configDigest
        self.configuration = configuration
        self.layers = layers
    }

    /// The short image ID (12 hex digits of the config digest), as `images` prints it.
    public var shortID: String { String(Digest.hex(configDigest).prefix(12)) }

    /// Sum of the layers' blob sizes (what this image costs alone, counting shared layers).
    public var size: Int64 { layers.reduce(0) { $0 + $1.size } }
}
