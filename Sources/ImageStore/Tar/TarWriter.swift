import IntermodalCore

/// Writes ustar archives, switching to a PAX header for what ustar cannot hold (long or non-ASCII
/// names, big sizes or IDs, extended attributes). Output is deterministic: no atime/ctime, no
/// user or group names, so the same entries always give the same bytes.
final class TarWriter {
    private let sink: (UnsafeRawBufferPointer) throws(IntermodalError) -> Void

    init(sink: @escaping (UnsafeRawBufferPointer) throws(IntermodalError) -> Void) {
        self.sink = sink
    }

    /// Writes the header of `entry`; a regular file's data must follow through ``writeData(_:)``
    /// (exactly `entry.size` bytes in total), then ``finishData(size:)``.
    func writeHeader(_ entry: TarEntry) throws(IntermodalError) {
        var pax: [(String, [UInt8])] = []
        let nameBytes = Array(entry.path.utf8)
        let linkBytes = Array(entry.linkName.utf8)
        let needsPaxName = nameBytes.count > 100 || nameBytes.contains { $0 >= 0x80 }
        if needsPaxName { pax.append(("path", nameBytes)) }
        if linkBytes.count > 100 || linkBytes.contains(where: { $0 >= 0x80 }) { pax.append(("linkpath", linkBytes)) }
        if entry.size > 0o77777777777 { pax.append(("size", Array(String(entry.size).utf8))) }
        if entry.uid > 0o7777777 { pax.append(("uid", Array(String(entry.uid).utf8))) }
        if entry.gid > 0o7777777 { pax.append(("gid", Array(String(entry.gid).utf8))) }
        if entry.mtime < 0 || entry.mtime > 0o77777777777 { pax.append(("mtime", Array(String(entry.mtime).utf8))) }
        for key in entry.xattrs.keys.sorted() { pax.append(("SCHILY.xattr." + key, entry.xattrs[key]!)) }
        if !pax.isEmpty {
            var data: [UInt8] = []
            for (key, value) in pax { data += Self.paxRecord(key, value) }
            var h = TarEntry(path: "PaxHeaders/" + String(entry.path.utf8.suffix(60).filter { $0 < 0x80 }.map { Character(Unicode.Scalar($0)) }), kind: .regular, mode: 0o644, size: Int64(data.count))
            if h.path.hasSuffix("/") { h.path.removeLast() }
            try writeData(header(h, typeflag: UInt8(ascii: "x")))
            try writeData(data)
            try finishData(size: Int64(data.count))
        }
        let typeflag: UInt8 = switch entry.kind {
        case .regular: UInt8(ascii: "0")
        case .hardLink: UInt8(ascii: "1")
        case .symbolicLink: UInt8(ascii: "2")
        case .characterDevice: UInt8(ascii: "3")
        case .blockDevice: UInt8(ascii: "4")
        case .directory: UInt8(ascii: "5")
        case .fifo: UInt8(ascii: "6")
        }
        try writeData(header(entry, typeflag: typeflag))
    }

    func writeData(_ bytes: [UInt8]) throws(IntermodalError) {
        try withBytes(bytes) { (raw) throws(IntermodalError) in try sink(raw) }
    }

    func writeData(_ bytes: UnsafeRawBufferPointer) throws(IntermodalError) {
        try sink(bytes)
    }

    /// Pads the data of a `size`-byte entry to the block boundary.
    func finishData(size: Int64) throws(IntermodalError) {
        let padding = Int((512 - size % 512) % 512)
        if padding > 0 { try writeData([UInt8](repeating: 0, count: padding)) }
    }

    /// The two zero blocks that end an archive.
    func finish() throws(IntermodalError) {
        try writeData([UInt8](repeating: 0, count: 1024))
    }

    private func header(_ e: TarEntry, typeflag: UInt8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: some Collection<UInt8>, _ at: Int, _ max: Int) {
            for (i, b) in bytes.prefix(max).enumerated() { h[at + i] = b }
        }
        func octal(_ v: Int64, _ at: Int, _ width: Int) {
            let clamped = max(0, min(v, Int64(1) << (3 * Int64(width - 1)) - 1))
            var s = Array(String(clamped, radix: 8).utf8)
            s = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - s.count)) + s
            put(s, at, width - 1)
        }
        put(e.path.utf8, 0, 100)
        octal(Int64(e.mode & 0o7777), 100, 8)
        octal(Int64(e.uid), 108, 8)
        octal(Int64(e.gid), 116, 8)
        octal(e.kind == .regular ? e.size : 0, 124, 12)
        octal(Int64(e.mtime), 136, 12)
        h[156] = typeflag
        put(e.linkName.utf8, 157, 100)
        put("ustar\0".utf8, 257, 6)
        put("00".utf8, 263, 2)
        if e.kind == .characterDevice || e.kind == .blockDevice {
            octal(Int64(e.deviceMajor), 329, 8)
            octal(Int64(e.deviceMinor), 337, 8)
        }
        for i in 148..<156 { h[i] = UInt8(ascii: " ") }
        let sum = h.reduce(0) { $0 + Int64($1) }
        var s = Array(String(sum, radix: 8).utf8)
        s = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 6 - s.count)) + s
        put(s + [0, UInt8(ascii: " ")], 148, 8)
        return h
    }

    /// One PAX record; its length prefix counts itself.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [UInt8(ascii: "\n")]
        var length = body.count + 1
        while String(length).utf8.count + body.count != length { length = String(length).utf8.count + body.count }
        return Array(String(length).utf8) + body
    }
}
