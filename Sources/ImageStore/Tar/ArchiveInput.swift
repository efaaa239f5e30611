import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The bytes of an archive as they stream in from a file (or memory): gzip is detected by its
/// magic and decompressed on the fly, and the raw bytes are hashed so that the blob's digest can be
/// checked once the whole stream has been read.
final class ArchiveInput {
    private let fd: CInt
    private let ownsFD: Bool
    private var memory: [UInt8]?
    private var memoryOffset = 0
    private var rawDigest = StreamingDigest()
    private var decompressor: GzipDecompressor?
    private var sniffed = false
    private var rawEOF = false
    private var buffer: [UInt8] = []
    private var bufferOffset = 0
    private let rawChunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    /// Names the archive in errors ("layer sha256:abc…", a file path).
    let name: String
    /// Bytes of uncompressed tar handed out so far.
    private(set) var offset: Int64 = 0
    /// The most uncompressed bytes the archive may expand to (a gzip bomb stops here, with an error).
    let sizeLimit: Int64
    /// Uncompressed bytes produced so far (read ahead of ``offset``).
    private var produced: Int64 = 0

    init(file: FilePath, name: String? = nil, sizeLimit: Int64 = LayerSizeLimit.default) throws(IntermodalError) {
        let fd = open(file.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(file)") }
        self.fd = fd
        self.ownsFD = true
        self.name = name ?? file.string
        self.sizeLimit = sizeLimit
    }

    init(bytes: [UInt8], name: String, sizeLimit: Int64 = LayerSizeLimit.default) {
        self.fd = -1
        self.ownsFD = false
        self.memory = bytes
        self.name = name
        self.sizeLimit = sizeLimit
    }

    /// Counts `count` more uncompressed bytes against ``sizeLimit``.
    private func produce(_ count: Int) throws(IntermodalError) {
        produced += Int64(count)
        guard produced <= sizeLimit else {
            throw IntermodalError(
                .invalidArgument,
                "\(name) expands to more than \(ByteSize.describe(sizeLimit)) uncompressed, the limit for one layer "
                    + "(--max-layer-size raises it)")
        }
    }

    deinit {
        if ownsFD { close(fd) }
        rawChunk.deallocate()
    }

    /// Whether the stream is gzip (known after the first read).
    var isCompressed: Bool { decompressor != nil }

    /// Reads raw bytes until at least `count` uncompressed bytes are buffered or the stream ends.
    private func fill(_ count: Int) throws(IntermodalError) {
        while buffer.count - bufferOffset < count && !rawEOF {
            try Interruption.check("while reading \(name)")
            if bufferOffset > 0 && bufferOffset >= buffer.count / 2 {
                buffer.removeFirst(bufferOffset)
                bufferOffset = 0
            }
            let n: Int
            if let mem = memory {
                n = min(rawChunk.count, mem.count - memoryOffset)
                if n > 0 {
                    mem.withUnsafeBytes { src in
                        rawChunk.baseAddress!.copyMemory(from: src.baseAddress! + memoryOffset, byteCount: n)
                    }
                    memoryOffset += n
                }
            } else {
                var r: Int
                repeat { r = read(fd, rawChunk.baseAddress, rawChunk.count) } while r < 0 && errno == EINTR
                guard r >= 0 else { throw .system("cannot read \(name)") }
                n = r
            }
            if n == 0 {
                rawEOF = true
                break
            }
            let chunk = UnsafeRawBufferPointer(rebasing: rawChunk[0..<n])
            rawDigest.update(chunk)
            if !sniffed {
                sniffed = true
                if n >= 2 && chunk[0] == 0x1f && chunk[1] == 0x8b {
                    decompressor = try GzipDecompressor(name: name)
                } else if n >= 4 && chunk[0] == 0x28 && chunk[1] == 0xb5 && chunk[2] == 0x2f && chunk[3] == 0xfd {
                    throw IntermodalError(.unsupported, "\(name): zstd-compressed layers are not supported (gzip or plain tar only)")
                }
            }
            if let d = decompressor {
                try d.feed(chunk) { out throws(IntermodalError) in
                    try produce(out.count)
                    buffer.append(contentsOf: out)
                }
            } else {
                try produce(chunk.count)
                buffer.append(contentsOf: chunk)
            }
        }
    }

    /// Exactly `count` bytes, or nil at a clean end of stream (no bytes at all); a partial read is an error.
    func readBlock(_ count: Int) throws(IntermodalError) -> ArraySlice<UInt8>? {
        try fill(count)
        let available = buffer.count - bufferOffset
        if available == 0 { return nil }
        guard available >= count else {
            throw IntermodalError(.corrupted, "\(name): truncated archive (ended inside a tar header at byte \(offset))")
        }
        let slice = buffer[bufferOffset..<bufferOffset + count]
        bufferOffset += count
        offset += Int64(count)
        return slice
    }

    /// Streams `count` bytes to `body` in chunks; the stream ending early is an error.
    func stream(_ count: Int64, what: String, _ body: (UnsafeRawBufferPointer) throws(IntermodalError) -> Void) throws(IntermodalError) {
        var left = count
        while left > 0 {
            try fill(1)
            let available = buffer.count - bufferOffset
            guard available > 0 else {
                throw IntermodalError(.corrupted, "\(name): truncated archive (data of '\(what)' ends early)")
            }
            let n = Int(min(Int64(available), left))
            let start = bufferOffset
            try withBytes(buffer) { (raw) throws(IntermodalError) in
                try body(UnsafeRawBufferPointer(rebasing: raw[start..<start + n]))
            }
            bufferOffset += n
            offset += Int64(n)
            left -= Int64(n)
        }
    }

    /// Reads the rest of the raw stream (trailing zero blocks, padding) so the digest covers it all,
    /// checks the gzip trailer and returns the digest of the raw bytes and their count.
    func finish() throws(IntermodalError) -> (digest: String, size: Int64) {
        while !rawEOF {
            bufferOffset = buffer.count
            try fill(buffer.count - bufferOffset + 1)
        }
        if let d = decompressor { try d.finish() }
        return (rawDigest.finalize(), rawDigest.count)
    }
}

/// How large one layer may be once decompressed: a bound on what an archive may cost on disk
/// (a 46 MB gzip can expand to 10 GB of zeros), checked while it streams.
public enum LayerSizeLimit {
    /// 16 GiB: above the largest layers of common images (a few GiB), far below a full disk.
    public static let `default`: Int64 = 16 << 30
}
