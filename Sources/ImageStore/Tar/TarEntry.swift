/// One member of a tar archive, with the PAX and GNU extensions already folded in.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, hardLink, symbolicLink, characterDevice, blockDevice, directory, fifo
    }

    /// Path as stored (relative, `/`-separated; directories may end in `/`).
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky.
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    /// Bytes of data that follow (regular files only).
    public var size: Int64
    /// Seconds since the epoch.
    public var mtime: Int
    /// Target of a symbolic or hard link.
    public var linkName: String
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes (PAX `SCHILY.xattr.*`).
    public var xattrs: [String: [UInt8]]

    public init(
        path: String, kind: Kind, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, size: Int64 = 0,
        mtime: Int = 0, linkName: String = "", deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0,
        xattrs: [String: [UInt8]] = [:]
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime = mtime
        self.linkName = linkName
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs
    }
}
