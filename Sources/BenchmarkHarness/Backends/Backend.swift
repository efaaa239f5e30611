import BenchmarkResults
import ImageStore
import IntermodalCore
import SystemPackage

/// What kind of instance a backend starts: the reference, ours, a peer's, or a guest.
public enum BackendKind: String, Sendable, Codable {
    case native, container, peer, vm
}

/// One way to run an image: natively by chroot, in our containers, in a peer runtime, in a guest.
///
/// A backend knows how to start and stop one kind of instance, and nothing of statistics or
/// files. Every backend runs the same image and the same process (``InstanceProcess``), and is
/// timed the same way: the headline figures are spawn to exit (or to first output) as seen from
/// outside; a library backend adds the phases its library records (``PhaseTimestamps``).
public protocol Backend: Actor {
    /// The name in suites and results (`native`, `intermodal`, `runc`, `vm`, ...).
    nonisolated var name: String { get }
    nonisolated var kind: BackendKind { get }

    /// Checks that the backend works here and prepares the image for it (a bundle, an imported
    /// image, a guest disk). Throws with the reason when it cannot run: the backend is skipped.
    func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness

    /// Runs `arguments` in a new instance of the image, to completion.
    func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun

    /// Starts an instance that idles (`sleep`), for the memory workload; returns once it runs.
    func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance

    /// Ends an idle instance and removes everything it used.
    func stopIdle(_ instance: IdleInstance) async

    /// The bytes this backend keeps on disk for the image and per instance.
    func footprint() async -> [FootprintItem]

    /// Removes whatever ``prepare(_:)`` made. Always called, also after failures.
    func cleanup() async
}

/// What every backend is given: the image, where to keep its files, the suite's limits.
public struct BenchContext: Sendable {
    /// The harness's own store (`intermodal --root`), holding the image.
    public var storeRoot: FilePath
    public var store: ImageStore
    public var image: Image
    /// The image's name in the store (`busybox:latest`, `workload:0123456789ab`).
    public var imageName: String
    /// A directory for this backend's files for this run (bundles, root file systems).
    public var workDirectory: FilePath
    public var suite: Suite
    /// The `intermodal` executable (for the CLI backend and detached containers' monitors).
    public var intermodalExecutable: FilePath
    public var journal: Journal
    public var timeout: Duration { .seconds(suite.timeoutSeconds) }
}

/// A backend that is ready, and what a reader must know about how it runs here.
public struct Readiness: Sendable {
    public var version: String?
    public var accelerator: String?
    public var adjustments: [String]
    public init(version: String?, accelerator: String? = nil, adjustments: [String] = []) {
        self.version = version
        self.accelerator = accelerator
        self.adjustments = adjustments
    }
}

/// One instance run to completion.
public struct InstanceRun: Sendable {
    public var status: ExitStatus
    public var output: [UInt8]
    /// From the spawn (or library call) to the exit as seen by its parent (or the call's return).
    public var spawnToExit: Duration
    /// From the spawn to the first byte of output, when there was output.
    public var spawnToFirstOutput: Duration?
    /// The library's phases, milliseconds after the spawn.
    public var phases: [String: Double]

    public init(status: ExitStatus, output: [UInt8], spawnToExit: Duration, spawnToFirstOutput: Duration?, phases: [String: Double] = [:]) {
        self.status = status
        self.output = output
        self.spawnToExit = spawnToExit
        self.spawnToFirstOutput = spawnToFirstOutput
        self.phases = phases
    }

    /// The phases of `timestamps` as milliseconds after `origin`.
    public static func phases(_ timestamps: PhaseTimestamps, since origin: MonotonicInstant) -> [String: Double] {
        var out: [String: Double] = [:]
        for (name, instant) in timestamps.marks { out[name] = instant.duration(since: origin).milliseconds }
        return out
    }
}

/// A running idle instance: the host processes it costs, each with its role.
public struct IdleInstance: Sendable {
    public struct Process: Sendable {
        /// `container` (the instance's own processes), `monitor`, `conmon`, `shim`, `qemu`, ...
        public var component: String
        public var pid: Int32
        public init(component: String, pid: Int32) {
            self.component = component
            self.pid = pid
        }
    }
    public var id: String
    public var processes: [Process]
    /// The instance's memory cgroup usage file (`memory.current` or `memory.usage_in_bytes`).
    public var cgroupMemoryFile: FilePath?
    /// The guest's own view (KiB), from its /proc/meminfo.
    public var guestMemTotalKiB: Int64?
    public var guestMemAvailableKiB: Int64?
    /// Backend-private handle (a container name, a task).
    public var handle: String

    public init(id: String, processes: [Process], cgroupMemoryFile: FilePath? = nil, handle: String = "") {
        self.id = id
        self.processes = processes
        self.cgroupMemoryFile = cgroupMemoryFile
        self.handle = handle
    }
}

/// Bytes on disk: what one thing of a backend costs.
public struct FootprintItem: Sendable {
    /// `image`, `image (shared layers once)`, `writable layer per instance`, `base disk`, ...
    public var what: String
    /// Allocated bytes (blocks), not apparent sizes.
    public var bytes: Int64
    /// Shared by all instances (the image) or paid per instance.
    public var perInstance: Bool
    public init(what: String, bytes: Int64, perInstance: Bool) {
        self.what = what
        self.bytes = bytes
        self.perInstance = perInstance
    }
}

extension Duration {
    /// In milliseconds, as a real number.
    public var milliseconds: Double {
        let c = components
        return Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15
    }
}
