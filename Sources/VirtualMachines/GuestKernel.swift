#if canImport(Glibc)
import Glibc
#endif
import Crypto
import IntermodalCore
import SystemPackage

/// The Linux kernel a guest boots: the host's own (newest `/boot/vmlinuz-*`) unless one is named.
public struct GuestKernel: Sendable, Hashable {
    /// The compressed kernel image (bzImage) as installed.
    public var path: FilePath
    /// The release string, e.g. `6.1.0-56-amd64` (from the file name, else "unknown").
    public var version: String

    public init(path: FilePath, version: String) {
        self.path = path
        self.version = version
    }

    /// The kernel at `preferred`, or the newest `/boot/vmlinuz-*` by version order.
    public static func locate(preferred: FilePath? = nil) throws(IntermodalError) -> GuestKernel {
        if let preferred {
            guard access(preferred.string, R_OK) == 0 else {
                throw IntermodalError(.notFound, "guest kernel \(preferred) does not exist or is not readable")
            }
            let name = preferred.lastComponent?.string ?? ""
            let version = name.hasPrefix("vmlinuz-") ? String(name.dropFirst("vmlinuz-".count)) : "unknown"
            return GuestKernel(path: preferred, version: version)
        }
        let names = (try? FileSystem.list("/boot")) ?? []
        let versions = names.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
        guard let newest = versions.max(by: { versionLess($0, $1) }) else {
            throw IntermodalError(
                .notFound, "no guest kernel: /boot has no vmlinuz-* (install Debian's linux-image-amd64, or name one with --kernel)")
        }
        return GuestKernel(path: FilePath("/boot/vmlinuz-\(newest)"), version: newest)
    }

    /// Orders "6.1.0-56-amd64" before "6.1.0-100-amd64": numeric runs compare as numbers.
    static func versionLess(_ a: String, _ b: String) -> Bool {
        func parts(_ s: String) -> [Either] {
            var out: [Either] = []
            var digits = ""
            var text = ""
            for ch in s {
                if ch.isNumber {
                    if !text.isEmpty { out.append(.text(text)); text = "" }
                    digits.append(ch)
                } else {
                    if !digits.isEmpty { out.append(.number(Int(digits) ?? 0)); digits = "" }
                    text.append(ch)
                }
            }
            if !digits.isEmpty { out.append(.number(Int(digits) ?? 0)) }
            if !text.isEmpty { out.append(.text(text)) }
            return out
        }
        let pa = parts(a), pb = parts(b)
        for (x, y) in zip(pa, pb) where x != y { return x < y }
        return pa.count < pb.count
    }

    enum Either: Equatable, Comparable {
        case number(Int), text(String)
        static func < (l: Either, r: Either) -> Bool {
            switch (l, r) {
            case (.number(let a), .number(let b)): a < b
            case (.text(let a), .text(let b)): a < b
            case (.number, .text): false
            case (.text, .number): true
            }
        }
    }

    /// The kernel's module directory, `/lib/modules/<version>`.
    public var moduleDirectory: FilePath { FilePath("/lib/modules/\(version)") }

    /// The kernel build configuration, `/boot/config-<version>`, when installed.
    public var configPath: FilePath {
        (path.removingLastComponent()).appending("config-\(version)")
    }

    /// SHA-256 of the kernel image, remembered in a stamp under `cacheRoot` next to the file's
    /// size, mtime and inode: hashing 8 MB on every boot would cost more than the stat.
    public func contentHash(cacheRoot: FilePath) throws(IntermodalError) -> String {
        let identity = FileIdentity(path)
        let stamp = cacheRoot.appending("vm/kernels/\(version).stamp")
        if let identity, let text = try? FileSystem.readString(stamp) {
            let parts = text.split(separator: " ")
            if parts.count == 2, parts[0] == identity.description { return String(parts[1]) }
        }
        let hash = try contentHash()
        if let identity {
            try? FileSystem.createDirectory(stamp.removingLastComponent())
            try? FileSystem.writeAtomically("\(identity) \(hash)", to: stamp)
        }
        return hash
    }

    /// SHA-256 of the kernel image (hex): the key of everything cached from it.
    public func contentHash() throws(IntermodalError) -> String {
        let bytes = try FileSystem.readBytes(path)
        return Hex.lowercase(SHA256.hash(data: bytes))
    }

    /// The decompressed kernel ELF (vmlinux), extracted once from the xz payload inside the
    /// bzImage and cached under the cache root keyed by the image's hash.
    ///
    /// QEMU boots that ELF through its PVH entry point (`CONFIG_PVH=y`), skipping the firmware's
    /// real-mode set-up and the in-guest decompression: about 2 s instead of 5 s under TCG here.
    public func decompressedELF(cacheRoot: FilePath = IntermodalPaths.cacheRoot) async throws(IntermodalError) -> FilePath {
        let hash = try contentHash(cacheRoot: cacheRoot)
        let dir = cacheRoot.appending("vm/kernels")
        let target = dir.appending("vmlinux-\(version)-\(hash.prefix(16))")
        if FileSystem.exists(target) { return target }
        try FileSystem.createDirectory(dir)
        // Concurrent boots (threads or processes) wait for one decompression.
        return try await FileLock(FilePath(target.string + ".lock")).withLock { () async throws(IntermodalError) -> FilePath in
            if FileSystem.exists(target) { return target }
            return try await decompress(to: target)
        }
    }

    private func decompress(to target: FilePath) async throws(IntermodalError) -> FilePath {
        let bytes = try FileSystem.readBytes(path)
        let magic: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
        guard let offset = Self.find(magic, in: bytes) else {
            throw IntermodalError(
                .unsupported,
                "\(path) has no xz payload (only xz-compressed kernels can be unpacked for PVH boot)")
        }
        let tmp = FilePath(target.string + ".tmp")
        defer { unlink(tmp.string) }
        // --single-stream stops at the end of the payload and ignores the bzImage trailer after it.
        try await HostCommand.check(
            "sh", ["-c", "tail -c +\(offset + 1) \"$1\" | xz -dc --single-stream > \"$2\"", "sh", path.string, tmp.string])
        let head = try FileSystem.readBytes(tmp).prefix(4)
        guard Array(head) == [0x7F, 0x45, 0x4C, 0x46] else {
            throw IntermodalError(.corrupted, "the payload unpacked from \(path) is not an ELF kernel")
        }
        guard rename(tmp.string, target.string) == 0 else { throw .system("cannot move the kernel ELF to \(target)") }
        return target
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { h -> Int? in
            var i = 0
            let last = h.count - needle.count
            while i <= last {
                if h[i] == needle[0] {
                    var j = 1
                    while j < needle.count && h[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i }
                }
                i += 1
            }
            return nil
        }
    }
}

/// A file's size, modification time and inode: changes when the file is replaced or rewritten.
struct FileIdentity: CustomStringConvertible, Equatable {
    var size: Int64, mtimeSeconds: Int, mtimeNanoseconds: Int, inode: UInt64

    init?(_ path: FilePath) {
        var st = stat()
        guard stat(path.string, &st) == 0 else { return nil }
        size = Int64(st.st_size)
        mtimeSeconds = st.st_mtim.tv_sec
        mtimeNanoseconds = st.st_mtim.tv_nsec
        inode = UInt64(st.st_ino)
    }

    var description: String { "\(size)-\(mtimeSeconds).\(mtimeNanoseconds)-\(inode)" }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
