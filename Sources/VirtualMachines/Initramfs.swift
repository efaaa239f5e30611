import IntermodalCore
import SystemPackage

/// Writes a Linux initramfs: an uncompressed `newc` cpio archive.
///
/// Uncompressed because the guest unpacks it on every boot and, under TCG, decompression is
/// the slowest thing it could do; the archive is a few MB. The kernel accepts several archives
/// concatenated, which is how a run's own small configuration rides after the cached base.
public struct InitramfsWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var inode: UInt32 = 1

    public init() {}

    /// Adds a directory (give parents first).
    public mutating func addDirectory(_ path: String, mode: UInt32 = 0o755) {
        append(name: path, mode: 0o040000 | mode, data: [])
    }

    /// Adds a regular file.
    public mutating func addFile(_ path: String, contents: some Collection<UInt8>, mode: UInt32 = 0o644) {
        append(name: path, mode: 0o100000 | mode, data: Array(contents))
    }

    /// Adds a symbolic link.
    public mutating func addSymlink(_ path: String, target: String) {
        append(name: path, mode: 0o120777, data: Array(target.utf8))
    }

    /// Adds a character device node.
    public mutating func addCharacterDevice(_ path: String, major: UInt32, minor: UInt32, mode: UInt32 = 0o600) {
        append(name: path, mode: 0o020000 | mode, data: [], rdevMajor: major, rdevMinor: minor)
    }

    /// Ends the archive with the `TRAILER!!!` entry; returns the bytes.
    public mutating func finish() -> [UInt8] {
        append(name: "TRAILER!!!", mode: 0, data: [], isTrailer: true)
        return bytes
    }

    private mutating func append(
        name: String, mode: UInt32, data: [UInt8], rdevMajor: UInt32 = 0, rdevMinor: UInt32 = 0,
        isTrailer: Bool = false
    ) {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [
            isTrailer ? 0 : inode, mode, 0, 0, 1, 0, UInt32(data.count),
            0, 0, rdevMajor, rdevMinor, UInt32(nameBytes.count), 0,
        ]
        if !isTrailer { inode += 1 }
        bytes.append(contentsOf: Array("070701".utf8))
        for f in fields { bytes.append(contentsOf: Array(String(f, radix: 16, uppercase: true).leftPadded(to: 8).utf8)) }
        bytes.append(contentsOf: nameBytes)
        pad()
        bytes.append(contentsOf: data)
        pad()
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
