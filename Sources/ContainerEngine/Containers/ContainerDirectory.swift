import IntermodalCore
import SystemPackage

/// The files of one container under `<root>/containers/<id>/`.
///
/// The directory is also the OCI bundle: `config.json` beside `rootfs/`, so the runtime reads it as is.
public struct ContainerDirectory: Sendable {
    public let path: FilePath

    public var record: FilePath { path.appending("record.json") }
    /// The inode a record update replaced, reused by the next one (``VolatileFile``).
    var recordSpare: FilePath { path.appending(".record.json.spare") }
    public var config: FilePath { path.appending("config.json") }
    /// The overlay mount point (or the flattened copy).
    public var rootfs: FilePath { path.appending("rootfs") }
    /// overlayfs upper dir: everything the container changed; what `commit` turns into a layer.
    public var upper: FilePath { path.appending("upper") }
    public var work: FilePath { path.appending("work") }
    /// Files bind-mounted over the init layer's mount points.
    public var hosts: FilePath { path.appending("hosts") }
    public var hostname: FilePath { path.appending("hostname") }
    public var resolvConf: FilePath { path.appending("resolv.conf") }
    /// Standard output and error of the container (`logs`).
    public var log: FilePath { path.appending("container.log") }
    /// Diagnostics of the detached monitor process.
    public var monitorLog: FilePath { path.appending("monitor.log") }
}
