/// The OCI runtime-spec `config.json` (version 1.x), as a Codable value.
///
/// Every field is optional as in the specification; ``Spec/load(bundle:)`` validates what a
/// container needs. Unknown properties are ignored, as the specification requires of runtimes
/// ("MUST ignore unknown properties"); values this runtime cannot honour are rejected by name.
/// Construct values with `init()` and assign the fields you need.
public struct Spec: Codable, Sendable, Equatable {
    public var ociVersion: String = "1.2.0"
    public var process: Process? = nil
    public var root: Root? = nil
    public var hostname: String? = nil
    public var domainname: String? = nil
    public var mounts: [Mount]? = nil
    public var hooks: Hooks? = nil
    public var annotations: [String: String]? = nil
    public var linux: Linux? = nil

    public init() {}

    /// The container process (`process`).
    public struct Process: Codable, Sendable, Equatable {
        public var terminal: Bool? = nil
        public var consoleSize: ConsoleSize? = nil
        public var user: User = User()
        public var args: [String]? = nil
        public var env: [String]? = nil
        public var cwd: String = "/"
        public var capabilities: Capabilities? = nil
        public var rlimits: [Rlimit]? = nil
        public var noNewPrivileges: Bool? = nil
        public var apparmorProfile: String? = nil
        public var oomScoreAdj: Int? = nil
        public var selinuxLabel: String? = nil
        public var scheduler: Scheduler? = nil
        public var ioPriority: IOPriority? = nil
        public var execCPUAffinity: ExecCPUAffinity? = nil

        public init() {}

        /// A process running `args` with `env` in `cwd`.
        public init(args: [String], env: [String]? = nil, cwd: String = "/") {
            self.args = args
            self.env = env
            self.cwd = cwd
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            terminal = try c.decodeIfPresent(Bool.self, forKey: .terminal)
            consoleSize = try c.decodeIfPresent(ConsoleSize.self, forKey: .consoleSize)
            user = try c.decodeIfPresent(User.self, forKey: .user) ?? User()
            args = try c.decodeIfPresent([String].self, forKey: .args)
            env = try c.decodeIfPresent([String].self, forKey: .env)
            cwd = try c.decodeIfPresent(String.self, forKey: .cwd) ?? "/"
            capabilities = try c.decodeIfPresent(Capabilities.self, forKey: .capabilities)
            rlimits = try c.decodeIfPresent([Rlimit].self, forKey: .rlimits)
            noNewPrivileges = try c.decodeIfPresent(Bool.self, forKey: .noNewPrivileges)
            apparmorProfile = try c.decodeIfPresent(String.self, forKey: .apparmorProfile)
            oomScoreAdj = try c.decodeIfPresent(Int.self, forKey: .oomScoreAdj)
            selinuxLabel = try c.decodeIfPresent(String.self, forKey: .selinuxLabel)
            scheduler = try c.decodeIfPresent(Scheduler.self, forKey: .scheduler)
            ioPriority = try c.decodeIfPresent(IOPriority.self, forKey: .ioPriority)
            execCPUAffinity = try c.decodeIfPresent(ExecCPUAffinity.self, forKey: .execCPUAffinity)
        }
    }

    public struct ConsoleSize: Codable, Sendable, Equatable {
        public var height: UInt
        public var width: UInt
        public init(height: UInt, width: UInt) { self.height = height; self.width = width }
    }

    /// `process.user`: numeric IDs as seen inside the container.
    public struct User: Codable, Sendable, Equatable {
        public var uid: UInt32 = 0
        public var gid: UInt32 = 0
        public var umask: UInt32? = nil
        public var additionalGids: [UInt32]? = nil
        public var username: String? = nil

        public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.umask = umask
            self.additionalGids = additionalGids
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            uid = try c.decodeIfPresent(UInt32.self, forKey: .uid) ?? 0
            gid = try c.decodeIfPresent(UInt32.self, forKey: .gid) ?? 0
            umask = try c.decodeIfPresent(UInt32.self, forKey: .umask)
            additionalGids = try c.decodeIfPresent([UInt32].self, forKey: .additionalGids)
            username = try c.decodeIfPresent(String.self, forKey: .username)
        }
    }

    /// `process.capabilities`: capability names such as `CAP_NET_RAW` per set.
    public struct Capabilities: Codable, Sendable, Equatable {
        public var bounding: [String]? = nil
        public var effective: [String]? = nil
        public var inheritable: [String]? = nil
        public var permitted: [String]? = nil
        public var ambient: [String]? = nil
        public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                    permitted: [String]? = nil, ambient: [String]? = nil) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    /// `process.rlimits[]`: `type` is `RLIMIT_NOFILE` and friends.
    public struct Rlimit: Codable, Sendable, Equatable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64
        public init(type: String, hard: UInt64, soft: UInt64) { self.type = type; self.hard = hard; self.soft = soft }
    }

    public struct Scheduler: Codable, Sendable, Equatable {
        public var policy: String
        public var nice: Int32? = nil
        public var priority: Int32? = nil
        public var flags: [String]? = nil
        public var runtime: UInt64? = nil
        public var deadline: UInt64? = nil
        public var period: UInt64? = nil
        public init(policy: String) { self.policy = policy }
    }

    public struct IOPriority: Codable, Sendable, Equatable {
        public var `class`: String
        public var priority: Int32? = nil
        public init(class: String, priority: Int32? = nil) { self.class = `class`; self.priority = priority }
    }

    public struct ExecCPUAffinity: Codable, Sendable, Equatable {
        public var initial: String? = nil
        public var final: String? = nil
        public init() {}
    }

    /// `root`: the container's root file system, relative to the bundle unless absolute.
    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool? = nil
        public init(path: String, readonly: Bool? = nil) { self.path = path; self.readonly = readonly }
    }

    /// `mounts[]`.
    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String? = nil
        public var source: String? = nil
        public var options: [String]? = nil
        public var uidMappings: [IDMapping]? = nil
        public var gidMappings: [IDMapping]? = nil
        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    /// `hooks`: programs the runtime runs at points of the lifecycle, with the state on stdin.
    public struct Hooks: Codable, Sendable, Equatable {
        /// Deprecated by the specification in favour of the three below; still honoured.
        public var prestart: [Hook]? = nil
        public var createRuntime: [Hook]? = nil
        public var createContainer: [Hook]? = nil
        public var startContainer: [Hook]? = nil
        public var poststart: [Hook]? = nil
        public var poststop: [Hook]? = nil
        public init() {}
    }

    public struct Hook: Codable, Sendable, Equatable {
        public var path: String
        public var args: [String]? = nil
        public var env: [String]? = nil
        /// Seconds; must be greater than zero when present.
        public var timeout: Int? = nil
        public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
            self.path = path
            self.args = args
            self.env = env
            self.timeout = timeout
        }
    }

    /// `linux`: everything Linux-specific.
    public struct Linux: Codable, Sendable, Equatable {
        public var namespaces: [Namespace]? = nil
        public var uidMappings: [IDMapping]? = nil
        public var gidMappings: [IDMapping]? = nil
        public var timeOffsets: [String: TimeOffset]? = nil
        public var devices: [Device]? = nil
        public var cgroupsPath: String? = nil
        public var resources: LinuxResources? = nil
        public var rootfsPropagation: String? = nil
        public var seccomp: Seccomp? = nil
        public var sysctl: [String: String]? = nil
        public var maskedPaths: [String]? = nil
        public var readonlyPaths: [String]? = nil
        public var mountLabel: String? = nil
        public var intelRdt: IntelRdt? = nil
        public var personality: Personality? = nil
        public init() {}
    }

    /// `linux.namespaces[]`: `type` is pid, network, mount, ipc, uts, user, cgroup or time;
    /// with `path`, the container joins that namespace instead of getting a new one.
    public struct Namespace: Codable, Sendable, Equatable {
        public var type: String
        public var path: String? = nil
        public init(type: String, path: String? = nil) { self.type = type; self.path = path }
    }

    public struct IDMapping: Codable, Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    public struct TimeOffset: Codable, Sendable, Equatable {
        public var secs: Int64? = nil
        public var nanosecs: UInt32? = nil
        public init() {}
    }

    /// `linux.devices[]`: a node created in the container's `/dev`.
    public struct Device: Codable, Sendable, Equatable {
        /// `c`, `b`, `u` or `p`.
        public var type: String
        public var path: String
        public var major: Int64? = nil
        public var minor: Int64? = nil
        public var fileMode: UInt32? = nil
        public var uid: UInt32? = nil
        public var gid: UInt32? = nil
        public init(type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil) {
            self.type = type
            self.path = path
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
        }
    }

    /// `linux.resources`: cgroup limits.
    public struct LinuxResources: Codable, Sendable, Equatable {
        public var devices: [DeviceCgroup]? = nil
        public var memory: Memory? = nil
        public var cpu: CPU? = nil
        public var pids: Pids? = nil
        public var blockIO: BlockIO? = nil
        public var hugepageLimits: [HugepageLimit]? = nil
        public var network: Network? = nil
        public var rdma: [String: Rdma]? = nil
        public var unified: [String: String]? = nil
        public init() {}
    }

    public struct DeviceCgroup: Codable, Sendable, Equatable {
        public var allow: Bool
        public var type: String? = nil
        public var major: Int64? = nil
        public var minor: Int64? = nil
        public var access: String? = nil
        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        public var limit: Int64? = nil
        public var reservation: Int64? = nil
        public var swap: Int64? = nil
        public var kernel: Int64? = nil
        public var kernelTCP: Int64? = nil
        public var swappiness: UInt64? = nil
        public var disableOOMKiller: Bool? = nil
        public var useHierarchy: Bool? = nil
        public var checkBeforeUpdate: Bool? = nil
        public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil) {
            self.limit = limit
            self.reservation = reservation
            self.swap = swap
        }
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var shares: UInt64? = nil
        public var quota: Int64? = nil
        public var burst: UInt64? = nil
        public var period: UInt64? = nil
        public var realtimeRuntime: Int64? = nil
        public var realtimePeriod: UInt64? = nil
        public var cpus: String? = nil
        public var mems: String? = nil
        public var idle: Int64? = nil
        public init() {}
    }

    public struct Pids: Codable, Sendable, Equatable {
        public var limit: Int64
        public init(limit: Int64) { self.limit = limit }
    }

    public struct BlockIO: Codable, Sendable, Equatable {
        public var weight: UInt16? = nil
        public var leafWeight: UInt16? = nil
        public var weightDevice: [WeightDevice]? = nil
        public var throttleReadBpsDevice: [ThrottleDevice]? = nil
        public var throttleWriteBpsDevice: [ThrottleDevice]? = nil
        public var throttleReadIOPSDevice: [ThrottleDevice]? = nil
        public var throttleWriteIOPSDevice: [ThrottleDevice]? = nil
        public init(weight: UInt16? = nil) { self.weight = weight }
    }

    public struct WeightDevice: Codable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16? = nil
        public var leafWeight: UInt16? = nil
    }

    public struct ThrottleDevice: Codable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64
    }

    public struct HugepageLimit: Codable, Sendable, Equatable {
        public var pageSize: String
        public var limit: UInt64
        public init(pageSize: String, limit: UInt64) { self.pageSize = pageSize; self.limit = limit }
    }

    public struct Network: Codable, Sendable, Equatable {
        public var classID: UInt32? = nil
        public var priorities: [InterfacePriority]? = nil
    }

    public struct InterfacePriority: Codable, Sendable, Equatable {
        public var name: String
        public var priority: UInt32
    }

    public struct Rdma: Codable, Sendable, Equatable {
        public var hcaHandles: UInt32? = nil
        public var hcaObjects: UInt32? = nil
    }

    /// `linux.seccomp`: action names as in the specification (`SCMP_ACT_ERRNO`, ...).
    public struct Seccomp: Codable, Sendable, Equatable {
        public var defaultAction: String
        public var defaultErrnoRet: UInt32? = nil
        public var architectures: [String]? = nil
        public var flags: [String]? = nil
        public var listenerPath: String? = nil
        public var listenerMetadata: String? = nil
        public var syscalls: [Syscall]? = nil
        public init(defaultAction: String) { self.defaultAction = defaultAction }
    }

    public struct Syscall: Codable, Sendable, Equatable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32? = nil
        public var args: [SyscallArg]? = nil
        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    public struct SyscallArg: Codable, Sendable, Equatable {
        public var index: UInt
        public var value: UInt64
        public var valueTwo: UInt64? = nil
        /// `SCMP_CMP_EQ`, `SCMP_CMP_MASKED_EQ`, ...
        public var op: String
        public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    public struct IntelRdt: Codable, Sendable, Equatable {
        public var closID: String? = nil
        public var l3CacheSchema: String? = nil
        public var memBwSchema: String? = nil
    }

    public struct Personality: Codable, Sendable, Equatable {
        public var domain: String
        public var flags: [String]? = nil
    }
}
