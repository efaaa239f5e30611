import IntermodalCore

/// A mount's `options` split into mount(2) flags, propagation flags and file-system data,
/// as runc interprets them.
struct MountOptions: Equatable {
    var flags: UInt = 0
    var clearFlags: UInt = 0
    var propagation: [UInt] = []
    var data: [String] = []
    var bind = false
    var recursive = false

    static let rdonly: UInt = 1, nosuid: UInt = 2, nodev: UInt = 4, noexec: UInt = 8
    static let synchronous: UInt = 16, remount: UInt = 32, mandlock: UInt = 64, dirsync: UInt = 128
    static let nosymfollow: UInt = 256, noatime: UInt = 1024, nodiratime: UInt = 2048
    static let msBind: UInt = 4096, rec: UInt = 16384
    static let unbindable: UInt = 1 << 17, msPrivate: UInt = 1 << 18, slave: UInt = 1 << 19, shared: UInt = 1 << 20
    static let relatime: UInt = 1 << 21, strictatime: UInt = 1 << 24, lazytime: UInt = 1 << 25

    /// Flag options: (set?, flag).
    private static let flagOptions: [String: (Bool, UInt)] = [
        "ro": (true, rdonly), "rw": (false, rdonly),
        "nosuid": (true, nosuid), "suid": (false, nosuid),
        "nodev": (true, nodev), "dev": (false, nodev),
        "noexec": (true, noexec), "exec": (false, noexec),
        "sync": (true, synchronous), "async": (false, synchronous),
        "dirsync": (true, dirsync), "remount": (true, remount),
        "mand": (true, mandlock), "nomand": (false, mandlock),
        "atime": (false, noatime), "noatime": (true, noatime),
        "diratime": (false, nodiratime), "nodiratime": (true, nodiratime),
        "relatime": (true, relatime), "norelatime": (false, relatime),
        "strictatime": (true, strictatime), "nostrictatime": (false, strictatime),
        "lazytime": (true, lazytime), "nolazytime": (false, lazytime),
        "symfollow": (false, nosymfollow), "nosymfollow": (true, nosymfollow),
        "defaults": (false, 0),
    ]

    private static let propagationOptions: [String: UInt] = [
        "private": msPrivate, "rprivate": msPrivate | rec, "shared": shared, "rshared": shared | rec,
        "slave": slave, "rslave": slave | rec, "unbindable": unbindable, "runbindable": unbindable | rec,
    ]

    /// Every option ``parse(_:)`` honours (what `features` lists), sorted.
    static var supported: [String] {
        (Array(flagOptions.keys) + Array(propagationOptions.keys) + ["bind", "rbind"]).sorted()
    }

    /// Options this runtime recognises but cannot honour (they need mount_setattr or copy-up).
    private static let unsupported: Set<String> = [
        "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnodiratime",
        "rdiratime", "rrelatime", "rnorelatime", "rnoatime", "ratime", "rstrictatime",
        "rnostrictatime", "rnosymfollow", "rsymfollow", "tmpcopyup", "idmap", "ridmap",
    ]

    static func parse(_ options: [String]) throws(IntermodalError) -> MountOptions {
        var o = MountOptions()
        for option in options {
            if let (set, flag) = flagOptions[option] {
                if set { o.flags |= flag; o.clearFlags &= ~flag } else { o.flags &= ~flag; o.clearFlags |= flag }
            } else if let p = propagationOptions[option] {
                o.propagation.append(p)
            } else if option == "bind" {
                o.bind = true
            } else if option == "rbind" {
                o.bind = true
                o.recursive = true
            } else if unsupported.contains(option) {
                throw IntermodalError(.unsupported, "option \"\(option)\" is not supported by this runtime")
            } else {
                o.data.append(option)
            }
        }
        return o
    }
}
