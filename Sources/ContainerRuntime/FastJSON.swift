import IntermodalCore

/// The runtime's start-path reader for ``JSON/decode(_:from:what:code:reader:)``: a small JSON
/// parser and `Decoder` for config.json and state.json.
///
/// FoundationEssentials' JSONDecoder asks the Swift runtime, for every type it meets, whether it
/// conforms to some marker protocols; each first such question scans every conformance record of
/// the (static) binary. In a short-lived CLI that costs more than the parse. This decoder makes
/// no dynamic casts. Errors are `DecodingError`s with the coding path, as JSONDecoder's are.
enum FastJSON: JSONReader {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONValueDecoder.decode(type, from: bytes)
    }
}

enum JSONValue {
    case null
    case bool(Bool)
    /// The literal text, converted on demand (keeps UInt64 and Int64 exact).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

struct JSONParser {
    private let bytes: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var p = JSONParser(bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }

    private func error(_ what: String) -> DecodingError {
        // Line and column make a hand-edited config.json easy to fix.
        var line = 1, col = 1
        for b in bytes[0..<min(i, bytes.count)] { if b == 10 { line += 1; col = 1 } else { col += 1 } }
        return DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "at line \(line), column \(col): \(what)"))
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw error("nested too deeply") }
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var dict: [String: JSONValue] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(dict) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
                i += 1
                skipSpace()
                // Parsers differ on which of two equal keys wins (Go's the last, Foundation's the
                // first): a config.json read one way by its writer and another by the runtime is
                // refused instead.
                let keyAt = i
                guard dict.updateValue(try value(depth: depth + 1), forKey: key) == nil else {
                    i = keyAt
                    throw error("duplicate key \"\(key)\" in an object")
                }
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of input in an object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(dict) }
                throw error("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of input in an array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number())
        default:
            throw error("unexpected character '\(Character(UnicodeScalar(bytes[i])))'")
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw error("invalid literal") }
        i += w.count
    }

    private func digit(at k: Int) -> Bool { k < bytes.count && bytes[k] >= 48 && bytes[k] <= 57 }

    /// RFC 8259's number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; no leading '+',
    /// no leading zeros, no bare '.' or exponent.
    private mutating func number() throws -> String {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(at: i) else { throw error("a number needs a digit after '-'") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if digit(at: i) { throw error("a number must not have a leading zero") }
        } else {
            while digit(at: i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(at: i) else { throw error("a number needs digits after '.'") }
            while digit(at: i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(at: i) else { throw error("a number needs digits in its exponent") }
            while digit(at: i) { i += 1 }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// A string after its opening quote, to the closing one. RFC 8259: no raw control characters,
    /// only the escapes \" \\ \/ \b \f \n \r \t \uXXXX, surrogates only in high-low pairs, and
    /// valid UTF-8 (the decoded text is exactly what was written, never a replacement character).
    private mutating func string() throws -> String {
        i += 1   // opening quote
        let start = i
        // Fast path: plain ASCII, no escapes.
        while i < bytes.count, bytes[i] >= 0x20, bytes[i] < 0x80, bytes[i] != UInt8(ascii: "\\"), bytes[i] != UInt8(ascii: "\"") { i += 1 }
        guard i < bytes.count else { throw error("unterminated string") }
        if bytes[i] == UInt8(ascii: "\"") {
            i += 1
            return String(decoding: bytes[start..<(i - 1)], as: UTF8.self)
        }
        var out: [UInt8] = Array(bytes[start..<i])
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string")
                }
                return text
            }
            if c < 0x20 { throw error("unescaped control character (0x\(String(c, radix: 16))) in a string") }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error("a low surrogate \\u\(String(scalar, radix: 16, uppercase: true)) without a high one")
                }
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("a high surrogate \\u\(String(scalar, radix: 16, uppercase: true)) must be followed by a low one")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw error("a high surrogate must be followed by a low one (\\uDC00-\\uDFFF), got \\u\(String(low, radix: 16, uppercase: true))")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("unknown escape '\\\(Character(UnicodeScalar(e)))' in a string")
            }
        }
        throw error("unterminated string")
    }

    /// Four hexadecimal digits (no sign, no prefix).
    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var v: UInt32 = 0
        for k in i..<(i + 4) {
            let b = bytes[k]
            let d: UInt8
            switch b {
            case 48...57: d = b - 48
            case 65...70: d = b - 55
            case 97...102: d = b - 87
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }
}

/// A `Decoder` over a parsed ``JSONValue``.
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try T(from: JSONValueDecoder(value: try JSONParser.parse(bytes), codingPath: []))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let dict) = value else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "expected an object"))
        }
        return KeyedDecodingContainer(Keyed<Key>(dict: dict, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "expected an array"))
        }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ i: Int) { intValue = i }
        init?(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { return nil }
    }

    static func mismatch(_ type: Any.Type, _ path: [any CodingKey], _ v: JSONValue) -> DecodingError {
        let found: String
        switch v {
        case .null: return DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "found null"))
        case .bool: found = "a boolean"
        case .number(let n): found = "the number \(n)"
        case .string(let s): found = "the string \"\(s)\""
        case .array: found = "an array"
        case .object: found = "an object"
        }
        return DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "found \(found)"))
    }

    /// An integer: digits as they are; a fraction or exponent (`1.0`, `1e3`) only when the value
    /// is a whole number a Double holds exactly (below 2^53), as JSONDecoder decides.
    static func unbox<T: FixedWidthInteger>(_ v: JSONValue, _ type: T.Type, _ path: [any CodingKey]) throws -> T {
        guard case .number(let text) = v else { throw mismatch(type, path, v) }
        if let n = T(text) { return n }
        if text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
           let d = Double(text), d.magnitude <= 9_007_199_254_740_992, let n = T(exactly: d) {
            return n
        }
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(text) does not fit in \(T.self)"))
    }

    /// A finite Double (`1e400` is refused, not infinity).
    static func unboxDouble(_ v: JSONValue, _ path: [any CodingKey]) throws -> Double {
        guard case .number(let text) = v, let d = Double(text) else { throw mismatch(Double.self, path, v) }
        guard d.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(text) is out of the range of a Double"))
        }
        return d
    }

    static func unboxString(_ v: JSONValue, _ path: [any CodingKey]) throws -> String {
        guard case .string(let s) = v else { throw mismatch(String.self, path, v) }
        return s
    }

    static func unboxBool(_ v: JSONValue, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = v else { throw mismatch(Bool.self, path, v) }
        return b
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let dict: [String: JSONValue]
        let codingPath: [any CodingKey]
        var allKeys: [Key] { dict.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { dict[key.stringValue] != nil }

        private func get(_ key: Key) throws -> JSONValue {
            guard let v = dict[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "required field is missing"))
            }
            return v
        }
        private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try get(key) { return true }
            return false
        }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try unboxBool(get(key), path(key)) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try unboxString(get(key), path(key)) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try unboxDouble(get(key), path(key)) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try unboxDouble(get(key), path(key))) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try unbox(get(key), type, path(key)) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try unbox(get(key), type, path(key)) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try unbox(get(key), type, path(key)) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try unbox(get(key), type, path(key)) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try unbox(get(key), type, path(key)) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try unbox(get(key), type, path(key)) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try unbox(get(key), type, path(key)) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try unbox(get(key), type, path(key)) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try unbox(get(key), type, path(key)) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try unbox(get(key), type, path(key)) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try T(from: JSONValueDecoder(value: get(key), codingPath: path(key)))
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(value: get(key), codingPath: path(key)).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(value: get(key), codingPath: path(key)).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { JSONValueDecoder(value: .object(dict), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { JSONValueDecoder(value: try get(key), codingPath: path(key)) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONValue], codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        private mutating func next() throws -> (JSONValue, [any CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array is shorter than expected"))
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [Index(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd else { return false }
            if case .null = items[currentIndex] { currentIndex += 1; return true }
            return false
        }
        mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, p) = try next(); return try unboxBool(v, p) }
        mutating func decode(_ type: String.Type) throws -> String { let (v, p) = try next(); return try unboxString(v, p) }
        mutating func decode(_ type: Double.Type) throws -> Double { let (v, p) = try next(); return try unboxDouble(v, p) }
        mutating func decode(_ type: Float.Type) throws -> Float { let (v, p) = try next(); return Float(try unboxDouble(v, p)) }
        mutating func decode(_ type: Int.Type) throws -> Int { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, p) = try next(); return try unbox(v, type, p) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (v, p) = try next()
            return try T(from: JSONValueDecoder(value: v, codingPath: p))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (v, p) = try next()
            return try JSONValueDecoder(value: v, codingPath: p).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (v, p) = try next()
            return try JSONValueDecoder(value: v, codingPath: p).unkeyedContainer()
        }
        mutating func superDecoder() throws -> any Decoder {
            let (v, p) = try next()
            return JSONValueDecoder(value: v, codingPath: p)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]
        func decodeNil() -> Bool { if case .null = value { return true }; return false }
        func decode(_ type: Bool.Type) throws -> Bool { try unboxBool(value, codingPath) }
        func decode(_ type: String.Type) throws -> String { try unboxString(value, codingPath) }
        func decode(_ type: Double.Type) throws -> Double { try unboxDouble(value, codingPath) }
        func decode(_ type: Float.Type) throws -> Float { Float(try unboxDouble(value, codingPath)) }
        func decode(_ type: Int.Type) throws -> Int { try unbox(value, type, codingPath) }
        func decode(_ type: Int8.Type) throws -> Int8 { try unbox(value, type, codingPath) }
        func decode(_ type: Int16.Type) throws -> Int16 { try unbox(value, type, codingPath) }
        func decode(_ type: Int32.Type) throws -> Int32 { try unbox(value, type, codingPath) }
        func decode(_ type: Int64.Type) throws -> Int64 { try unbox(value, type, codingPath) }
        func decode(_ type: UInt.Type) throws -> UInt { try unbox(value, type, codingPath) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try unbox(value, type, codingPath) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try unbox(value, type, codingPath) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try unbox(value, type, codingPath) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try unbox(value, type, codingPath) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: JSONValueDecoder(value: value, codingPath: codingPath)) }
    }
}

// MARK: - Writing

/// The start path's writer, for the small documents the runtime writes: the container record
/// (`state.json`, by every `create`), the OCI state (hooks' stdin, `state`) and `--log` lines.
/// Members stay in the order they are added: `pid` near the front, where a truncated state.json
/// still has it (``StateStore/salvage(_:)``); a string map's keys are sorted.
///
/// Not ``JSON/encode(_:pretty:)`` (Foundation's JSONEncoder), for what it writes, not for its
/// cost: it sorts keys (unsorted, its order is not the order of encoding), which puts `pid`
/// behind the two cgroup lists, three quarters into the file, past where a truncated state.json
/// is cut (a test cuts it to two thirds); and its pretty form (`"key" : value`) is not what
/// `state` prints. Measured, JSONEncoder writing state.json cost `create` 0.09 ms more CPU
/// (4.07 -> 4.16 ms median, n=150 interleaved, release build, 2-core host under load 10):
/// within that host's noise.
public struct JSONObjectWriter {
    private var members: [(key: String, value: String)] = []

    public init() {}

    public mutating func add(_ key: String, _ value: String) { members.append((key, Self.quote(value))) }
    mutating func add<T: BinaryInteger>(_ key: String, _ value: T) { members.append((key, "\(value)")) }
    mutating func add(_ key: String, _ values: [String]) {
        members.append((key, "[" + values.map(Self.quote).joined(separator: ",") + "]"))
    }
    mutating func add(_ key: String, _ objects: [JSONObjectWriter]) {
        members.append((key, "[" + objects.map(\.text).joined(separator: ",") + "]"))
    }
    mutating func add(_ key: String, _ map: [String: String]) {
        let items = map.sorted { $0.key < $1.key }.map { "\(Self.quote($0.key)):\(Self.quote($0.value))" }
        members.append((key, "{" + items.joined(separator: ",") + "}"))
    }

    /// Compact, or one member a line indented by two spaces (what `state` prints).
    public func bytes(pretty: Bool = false) -> [UInt8] { Array((pretty ? prettyText : text).utf8) }

    private var text: String { "{" + members.map { Self.quote($0.key) + ":" + $0.value }.joined(separator: ",") + "}" }
    private var prettyText: String {
        "{\n  " + members.map { Self.quote($0.key) + ":" + $0.value }.joined(separator: ",\n  ") + "\n}"
    }

    /// `s` as a JSON string: quotes, backslashes and control characters escaped.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
