import CZlib
import IntermodalCore

/// Streaming gzip compression over zlib: bytes in, compressed bytes out to a sink.
final class GzipCompressor {
    private var stream = z_stream()
    private let output = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 18)
    private let outputSize = 1 << 18
    private let sink: (UnsafeRawBufferPointer) throws(IntermodalError) -> Void

    init(level: Int32 = Z_DEFAULT_COMPRESSION, sink: @escaping (UnsafeRawBufferPointer) throws(IntermodalError) -> Void) throws(IntermodalError) {
        self.sink = sink
        guard czlib_deflate_init_gzip(&stream, level) == Z_OK else {
            output.deallocate()
            throw IntermodalError(.internalError, "zlib deflateInit2 failed")
        }
    }

    deinit {
        deflateEnd(&stream)
        output.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(IntermodalError) {
        guard bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        while stream.avail_in > 0 {
            try pump(flush: Z_NO_FLUSH)
        }
    }

    /// Ends the gzip stream (trailer with CRC and length).
    func finish() throws(IntermodalError) {
        stream.next_in = nil
        stream.avail_in = 0
        while try pump(flush: Z_FINISH) != Z_STREAM_END {}
    }

    @discardableResult
    private func pump(flush: Int32) throws(IntermodalError) -> Int32 {
        stream.next_out = output
        stream.avail_out = UInt32(outputSize)
        let rc = deflate(&stream, flush)
        guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
            throw IntermodalError(.internalError, "zlib deflate failed (\(rc))")
        }
        let produced = outputSize - Int(stream.avail_out)
        if produced > 0 { try sink(UnsafeRawBufferPointer(start: output, count: produced)) }
        return rc
    }
}

/// Streaming gzip decompression: feed compressed chunks, receive the plain bytes.
final class GzipDecompressor {
    private var stream = z_stream()
    private let output = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 18)
    private let outputSize = 1 << 18
    private(set) var finished = false
    /// What is being read, for error messages (a layer digest, a file).
    let name: String

    init(name: String) throws(IntermodalError) {
        self.name = name
        guard czlib_inflate_init_gzip(&stream) == Z_OK else {
            output.deallocate()
            throw IntermodalError(.internalError, "zlib inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(&stream)
        output.deallocate()
    }

    /// Decompresses `bytes`, handing every produced chunk to `body`.
    func feed(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(IntermodalError) -> Void) throws(IntermodalError) {
        guard bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        while stream.avail_in > 0 {
            if finished {
                // Concatenated gzip members are legal (pigz, some registries): start the next one.
                if inflateReset(&stream) != Z_OK { throw corrupted("cannot restart after a gzip member") }
                finished = false
            }
            stream.next_out = output
            stream.avail_out = UInt32(outputSize)
            let rc = inflate(&stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: finished = true
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw corrupted("invalid gzip data (\(detail))")
            }
            let produced = outputSize - Int(stream.avail_out)
            if produced > 0 { try body(UnsafeRawBufferPointer(start: output, count: produced)) }
            if rc == Z_BUF_ERROR && produced == 0 { break }
        }
    }

    /// Throws unless the gzip stream ended properly (a truncated download or file fails here).
    func finish() throws(IntermodalError) {
        guard finished else { throw corrupted("truncated gzip stream (ended before the gzip trailer)") }
    }

    private func corrupted(_ what: String) -> IntermodalError {
        IntermodalError(.corrupted, "\(name): \(what)")
    }
}
