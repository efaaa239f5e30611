/// A seccomp filter as the OCI spec's `linux.seccomp` describes it, with the spec's names as
/// strings ("SCMP_ACT_ERRNO", "SCMP_ARCH_X86_64", "SCMP_CMP_MASKED_EQ"). Independent of the
/// runtime's Spec types; ``compile()`` turns it into a BPF program.
public struct SeccompProfile: Sendable, Hashable {
    /// The action for every syscall no rule matches.
    public var defaultAction: String
    /// The errno for a default action of SCMP_ACT_ERRNO or SCMP_ACT_TRACE (EPERM if nil).
    public var defaultErrnoRet: UInt32?
    /// Extra architectures to accept ("SCMP_ARCH_X86", "SCMP_ARCH_X32"); the native one always is.
    public var architectures: [String]
    /// seccomp(2) flags ("SECCOMP_FILTER_FLAG_LOG", ...), passed through in ``SeccompProgram/flags``.
    public var flags: [String]
    /// The rules, in order.
    public var syscalls: [Rule]

    public init(
        defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String] = [],
        flags: [String] = [], syscalls: [Rule] = []
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.syscalls = syscalls
    }

    /// One `syscalls[]` entry: an action for some syscalls, optionally only when arguments match.
    public struct Rule: Sendable, Hashable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        /// All must hold (AND), except that several conditions on the same argument index are
        /// added as separate rules (OR), as runc does.
        public var args: [Arg]

        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [Arg] = []) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    /// A comparison of one syscall argument. For SCMP_CMP_MASKED_EQ, `value` is the mask and
    /// `valueTwo` the value the masked argument must equal.
    public struct Arg: Sendable, Hashable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64
        public var op: String

        public init(index: UInt32, value: UInt64, valueTwo: UInt64 = 0, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }
}

/// A compiled filter: classic BPF ready for `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog)`
/// or `seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog)` in the container's child.
public struct SeccompProgram: Sendable, Equatable {
    /// The `struct sock_filter` array, 8 bytes per instruction, in host byte order.
    public var bpf: [UInt8]
    /// seccomp(2) flags from the profile (SECCOMP_FILTER_FLAG_*); 0 means plain prctl is enough.
    public var flags: UInt32
    /// Syscall names libseccomp did not know and that were therefore left out (as runc does).
    public var skippedSyscalls: [String]

    /// Number of BPF instructions (`sock_fprog.len`).
    public var instructionCount: Int { bpf.count / 8 }

    public init(bpf: [UInt8], flags: UInt32 = 0, skippedSyscalls: [String] = []) {
        self.bpf = bpf
        self.flags = flags
        self.skippedSyscalls = skippedSyscalls
    }
}
