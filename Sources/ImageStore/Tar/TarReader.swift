import IntermodalCore

/// Reads ustar archives with the PAX (`x`, `g`) and GNU (`L`, `K`) extensions, one entry at a time.
///
/// Every malformed input is an ``IntermodalError`` (`.corrupted`) naming the archive and the entry;
/// sizes of extension records are bounded so a hostile archive cannot exhaust memory.
final class TarReader {
    let input: ArchiveInput
    /// Data bytes of the current entry not yet consumed, plus its padding.
    private var pendingData: Int64 = 0
    private var pendingPadding: Int = 0
    private var currentPath = ""
    private var globalPax: [String: [UInt8]] = [:]
    private var ended = false
    /// Largest PAX or GNU long-name record accepted.
    static let maxExtensionSize: Int64 = 1 << 20

    init(input: ArchiveInput) {
        self.input = input
    }

    /// The next entry, or nil at the end of the archive. Unread data of the previous entry is skipped.
    func next() throws(IntermodalError) -> TarEntry? {
        guard !ended else { return nil }
        try skipRemainingData()
        var pax: [String: [UInt8]] = [:]
        var gnuLongName: String?
        var gnuLongLink: String?
        while true {
            guard let block = try input.readBlock(512) else {
                // End of stream at a block boundary without the two zero blocks: accepted (GNU tar
                // does too); a truncated gzip stream is caught by the gzip trailer check.
                ended = true
                return nil
            }
            let header = Array(block)
            if header.allSatisfy({ $0 == 0 }) {
                ended = true
                return nil
            }
            try verifyChecksum(header)
            let typeflag = header[156]
            let size = try number(header, 124, 12, field: "size")
            guard size >= 0 else { throw corrupted("negative size") }
            switch typeflag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let record = try readExtension(size, what: "PAX header")
                let parsed = try parsePax(record)
                if typeflag == UInt8(ascii: "g") {
                    globalPax.merge(parsed) { _, new in new }
                } else {
                    pax.merge(parsed) { _, new in new }
                }
                continue
            case UInt8(ascii: "L"):
                gnuLongName = cString(try readExtension(size, what: "GNU long name"))
                continue
            case UInt8(ascii: "K"):
                gnuLongLink = cString(try readExtension(size, what: "GNU long link name"))
                continue
            default:
                break
            }
            let raw = globalPax.merging(pax) { _, new in new }
            var attributes: [String: String] = [:]
            for (k, v) in raw where !k.hasPrefix("SCHILY.xattr.") { attributes[k] = String(decoding: v, as: UTF8.self) }
            var entry = try parseHeader(header, typeflag: typeflag, size: size)
            if let p = attributes["path"] { entry.path = p } else if let p = gnuLongName { entry.path = p }
            if let l = attributes["linkpath"] { entry.linkName = l } else if let l = gnuLongLink { entry.linkName = l }
            if let s = attributes["size"] {
                guard let v = Int64(s), v >= 0 else { throw corrupted("invalid PAX size '\(s)'") }
                entry.size = v
            }
            if let s = attributes["uid"] { guard let v = Int(s), v >= 0 else { throw corrupted("invalid PAX uid") }; entry.uid = v }
            if let s = attributes["gid"] { guard let v = Int(s), v >= 0 else { throw corrupted("invalid PAX gid") }; entry.gid = v }
            if let s = attributes["mtime"] {
                let whole = s.split(separator: ".", maxSplits: 1).first.map(String.init) ?? s
                guard let v = Int(whole) else { throw corrupted("invalid PAX mtime '\(s)'") }
                entry.mtime = v
            }
            for (key, value) in raw where key.hasPrefix("SCHILY.xattr.") {
                entry.xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = value
            }
            guard !entry.path.isEmpty else { throw corrupted("entry with an empty name") }
            guard !entry.path.utf8.contains(0) && !entry.linkName.utf8.contains(0) else {
                throw corrupted("entry name contains a NUL byte")
            }
            currentPath = entry.path
            // Only regular files carry data; a size on a link or directory is skipped over.
            let dataSize = (typeflag == UInt8(ascii: "1") || typeflag == UInt8(ascii: "2")
                || typeflag == UInt8(ascii: "5") || typeflag == UInt8(ascii: "3")
                || typeflag == UInt8(ascii: "4") || typeflag == UInt8(ascii: "6")) ? 0 : entry.size
            if entry.kind != .regular { entry.size = 0 }
            pendingData = dataSize
            pendingPadding = Int((512 - dataSize % 512) % 512)
            return entry
        }
    }

    /// Streams the current entry's data to `body`.
    func readData(_ body: (UnsafeRawBufferPointer) throws(IntermodalError) -> Void) throws(IntermodalError) {
        let n = pendingData
        pendingData = 0
        try input.stream(n, what: currentPath, body)
        try skipPadding()
    }

    private func skipRemainingData() throws(IntermodalError) {
        if pendingData > 0 {
            let n = pendingData
            pendingData = 0
            try input.stream(n, what: currentPath) { _ throws(IntermodalError) in }
        }
        try skipPadding()
    }

    private func skipPadding() throws(IntermodalError) {
        if pendingPadding > 0 {
            let n = pendingPadding
            pendingPadding = 0
            // Padding missing at the very end is tolerated only if the stream ends there.
            try input.stream(Int64(n), what: currentPath) { _ throws(IntermodalError) in }
        }
    }

    private func readExtension(_ size: Int64, what: String) throws(IntermodalError) -> [UInt8] {
        guard size <= Self.maxExtensionSize else { throw corrupted("\(what) of \(size) bytes is too large") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(size))
        try input.stream(size, what: what) { chunk throws(IntermodalError) in bytes.append(contentsOf: chunk) }
        let padding = Int((512 - size % 512) % 512)
        try input.stream(Int64(padding), what: what) { _ throws(IntermodalError) in }
        return bytes
    }

    private func parseHeader(_ h: [UInt8], typeflag: UInt8, size: Int64) throws(IntermodalError) -> TarEntry {
        var name = cString(h[0..<100])
        let isUstar = h[257..<263].elementsEqual(Array("ustar\0".utf8))
        if isUstar {
            let prefix = cString(h[345..<500])
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        let mode = try number(h, 100, 8, field: "mode")
        let uid = try number(h, 108, 8, field: "uid")
        let gid = try number(h, 116, 8, field: "gid")
        let mtime = try number(h, 136, 12, field: "mtime")
        let linkName = cString(h[157..<257])
        let kind: TarEntry.Kind
        switch typeflag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
            kind = name.hasSuffix("/") ? .directory : .regular
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symbolicLink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default:
            throw corrupted("entry '\(name)' has unsupported type '\(Character(Unicode.Scalar(typeflag)))'")
        }
        var major: Int64 = 0, minor: Int64 = 0
        if kind == .characterDevice || kind == .blockDevice {
            major = try number(h, 329, 8, field: "devmajor")
            minor = try number(h, 337, 8, field: "devminor")
        }
        guard uid >= 0, gid >= 0, mode >= 0, major >= 0, minor >= 0,
              major <= Int64(UInt32.max), minor <= Int64(UInt32.max) else {
            throw corrupted("entry '\(name)' has out-of-range numeric fields")
        }
        return TarEntry(
            path: name, kind: kind, mode: UInt32(truncatingIfNeeded: mode & 0o7777), uid: Int(uid), gid: Int(gid),
            size: size, mtime: Int(mtime), linkName: linkName,
            deviceMajor: UInt32(major), deviceMinor: UInt32(minor))
    }

    private func verifyChecksum(_ h: [UInt8]) throws(IntermodalError) {
        let stored = try number(h, 148, 8, field: "checksum")
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for i in 0..<512 {
            let b = (148..<156).contains(i) ? UInt8(ascii: " ") : h[i]
            unsigned += Int64(b)
            signed += Int64(Int8(bitPattern: b))
        }
        guard stored == unsigned || stored == signed else {
            throw corrupted("bad header checksum at byte \(input.offset - 512) (not a tar archive, or damaged)")
        }
    }

    /// An octal field (NUL/space terminated) or a GNU base-256 number (high bit set).
    private func number(_ h: [UInt8], _ start: Int, _ length: Int, field: String) throws(IntermodalError) -> Int64 {
        let bytes = h[start..<start + length]
        if let first = bytes.first, first & 0x80 != 0 {
            // Base-256, big endian; the top bit of the first byte is the marker, the next is the sign.
            guard first & 0x40 == 0 else { throw corrupted("negative base-256 \(field)") }
            var v: Int64 = Int64(first & 0x3f)
            for b in bytes.dropFirst() {
                guard v <= (Int64.max >> 8) else { throw corrupted("\(field) too large") }
                v = (v << 8) | Int64(b)
            }
            return v
        }
        var v: Int64 = 0
        var seenDigit = false
        var done = false
        for b in bytes {
            if b == 0 || (b == UInt8(ascii: " ") && seenDigit) { done = true; continue }
            if b == UInt8(ascii: " ") && !seenDigit { continue }
            guard !done, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "7") else {
                throw corrupted("invalid octal \(field) field in header at byte \(input.offset - 512)")
            }
            seenDigit = true
            guard v <= (Int64.max >> 3) else { throw corrupted("\(field) too large") }
            v = v * 8 + Int64(b - UInt8(ascii: "0"))
        }
        return v
    }

    /// PAX records: `LEN key=value\n`, LEN counting the whole record.
    private func parsePax(_ data: [UInt8]) throws(IntermodalError) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        var i = 0
        while i < data.count {
            if data[i] == 0 { break }  // padding some writers leave
            var j = i
            var length = 0
            while j < data.count, data[j] >= 0x30, data[j] <= 0x39 {
                length = length * 10 + Int(data[j] - 0x30)
                guard length <= data.count else { throw corrupted("invalid PAX record length") }
                j += 1
            }
            guard j < data.count, data[j] == UInt8(ascii: " "), length > j - i + 1, i + length <= data.count,
                  data[i + length - 1] == UInt8(ascii: "\n") else {
                throw corrupted("malformed PAX record")
            }
            let record = data[(j + 1)..<(i + length - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { throw corrupted("PAX record without '='") }
            let key = String(decoding: record[record.startIndex..<eq], as: UTF8.self)
            let value = Array(record[(eq + 1)...])
            result[key] = value
            i += length
        }
        return result
    }

    private func cString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    private func corrupted(_ what: String) -> IntermodalError {
        IntermodalError(.corrupted, "\(input.name): \(what)")
    }
}
