import IntermodalCore

/// What the engine knows about one container, kept as `record.json` in `<root>/containers/<id>/`.
///
/// Every `intermodal` process reads and writes these records (the foreground `run`, the detached
/// monitor, `ps`, `stop`, `rm`), so they are the single source of truth; each write is atomic.
public struct ContainerRecord: Codable, Sendable, Equatable {
    /// Lifecycle of a container as `ps` shows it.
    public enum Status: String, Codable, Sendable {
        /// Snapshot and bundle exist; the process has not been started (or failed to start).
        case created
        /// The process runs; `pid` and `ownerPID` are set.
        case running
        /// The process has exited; `exitCode` is set. The writable layer is kept for `commit`.
        case exited
    }

    /// How the root file system was made.
    public enum RootfsMode: String, Codable, Sendable {
        /// overlayfs: image layers as lower dirs, `upper/` holds the container's changes.
        case overlay
        /// A flattened copy of the image in `rootfs/` (when overlayfs is unusable).
        case copy
    }

    /// The 64-hex-digit ID (also the runtime's container ID).
    public var id: String
    public var name: String
    /// The image as the user named it.
    public var image: String
    /// The image's config digest (its ID), so a retagged name does not change what ran.
    public var imageID: String
    public var entrypoint: [String]
    public var command: [String]
    /// RFC 3339 creation time and the same as Unix seconds (for "2 minutes ago").
    public var created: String
    public var createdUnix: Double
    public var startedUnix: Double?
    public var finishedUnix: Double?
    public var status: Status
    public var exitCode: Int32?
    /// Why the container failed to start, when it did (`exec: "ping": executable file not found in $PATH`).
    public var error: String?
    /// The container's init process on the host.
    public var pid: Int32?
    /// The process that created the container and waits for it: the foreground `run`, or for a
    /// detached container its monitor (the small `intermodal-monitor` while the container runs:
    /// the per-container helper whose memory the density benchmark counts).
    public var ownerPID: Int32?
    public var network: NetworkMode
    /// The bridge address (`10.213.0.5`) and host-side veth (`imv0123456789ab`) with `--network bridge`.
    public var address: String?
    public var hostInterface: String?
    public var logPath: String
    public var rootfsMode: RootfsMode
    /// Remove everything when the container exits (`run --rm`).
    public var autoRemove: Bool
    /// Built by `build` for one step: hidden from `ps`, removed by the builder.
    public var buildStep: Bool
    /// The options the container was made with (for `inspect` and `commit`).
    public var options: RunOptions
    /// The phases of the last run: snapshot, create, start, firstOutput, exit, cleanup.
    public var timestamps: PhaseTimestamps

    /// The first 12 hex digits, as `ps` shows.
    public var shortID: String { String(id.prefix(12)) }
}
