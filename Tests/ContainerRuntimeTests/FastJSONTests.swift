import Foundation
@testable import ContainerRuntime
import IntermodalCore
import Testing

/// The hand-written JSON reader of config.json and state.json against RFC 8259 and against
/// Foundation's JSONDecoder: the same documents accepted, the same refused, the same values.
@Suite("FastJSON: RFC 8259 and agreement with JSONDecoder")
struct FastJSONTests {
    /// Any JSON value, decoded through the `Decoder` API only (so both decoders are asked the same
    /// questions in the same order).
    indirect enum Doc: Decodable, Equatable, CustomStringConvertible {
        case null
        case bool(Bool)
        case int(Int64)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case array([Doc])
        case object([String: Doc])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null; return }
            if let b = try? c.decode(Bool.self) { self = .bool(b); return }
            if let i = try? c.decode(Int64.self) { self = .int(i); return }
            if let u = try? c.decode(UInt64.self) { self = .uint(u); return }
            if let d = try? c.decode(Double.self) { self = .double(d); return }
            if let s = try? c.decode(String.self) { self = .string(s); return }
            if let a = try? c.decode([Doc].self) { self = .array(a); return }
            self = .object(try c.decode([String: Doc].self))
        }

        var description: String {
            switch self {
            case .null: return "null"
            case .bool(let b): return "\(b)"
            case .int(let i): return "int \(i)"
            case .uint(let u): return "uint \(u)"
            case .double(let d): return "double \(d)"
            case .string(let s): return s.debugDescription
            case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
            case .object(let o): return "{" + o.sorted { $0.key < $1.key }.map { "\($0.key.debugDescription): \($0.value)" }.joined(separator: ", ") + "}"
            }
        }
    }

    enum Outcome: Equatable, CustomStringConvertible {
        case value(Doc)
        case refused
        var description: String {
            if case .value(let d) = self { return "accepted \(d)" }
            return "refused"
        }
    }

    static func ours(_ bytes: [UInt8]) -> Outcome {
        (try? JSONValueDecoder.decode(Doc.self, from: bytes)).map(Outcome.value) ?? .refused
    }

    static func foundation(_ bytes: [UInt8]) -> Outcome {
        (try? JSONDecoder().decode(Doc.self, from: Data(bytes))).map(Outcome.value) ?? .refused
    }

    // MARK: - inputs RFC 8259 forbids, and the ones it allows

    @Test("refuses lone surrogates, raw control characters, '+', leading zeros and unknown escapes (never traps)",
          arguments: [
              #""\uD800\u0041""#, #""\uD800""#, #""\uDC00""#, #""\uDBFF\uDBFF""#, #""\uD800\""#, #""\uD800\u""#,
              "\"a\u{01}b\"", "\"tab\there\"", "\"new\nline\"", "+1", "[+1]", "01", "-01", "-", "1.", ".5", "1e", "1e+",
              #""\x41""#, #""\a""#, #""\'""#, #""\u12G4""#, #""\u+123""#, #""\u-123""#, #""\U0041""#,
              "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "'a'", "NaN", "Infinity", "-Infinity", "tru", "nul",
              "\"unterminated", "[", "{", "", " ", "1 2", "{\"a\":1,\"a\":2}", "{\"\\u0061\":1,\"a\":2}",
          ])
    func refusesWhatRFC8259Forbids(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(throws: (any Error).self, "\(text.debugDescription)") { try JSONParser.parse(bytes) }
        if !Self.knownDifference(bytes) {
            #expect(Self.foundation(bytes) == .refused, "JSONDecoder accepts \(text.debugDescription) too")
        }
    }

    /// The two documented differences the differential tests allow, where this reader refuses
    /// what JSONDecoder accepts: a duplicate key (which of the two values counts differs between
    /// parsers, so config.json with one is refused), and a trailing comma (below).
    static func knownDifference(_ doc: [UInt8]) -> Bool {
        if hasTrailingComma(doc) { return true }
        do { _ = try JSONParser.parse(doc) } catch { return "\(error)".contains("duplicate key") }
        return false
    }

    /// JSONDecoder (swift-foundation) accepts a comma before `]` or `}`, which RFC 8259 (and Go's
    /// encoding/json, which runc and runtime-tools use) refuse; so does this reader.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false, escaped = false
        for (k, b) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true; continue }
            guard b == UInt8(ascii: ",") else { continue }
            let next = bytes[(k + 1)...].first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }
            if next == UInt8(ascii: "]") || next == UInt8(ascii: "}") { return true }
        }
        return false
    }

    @Test("refuses invalid UTF-8 inside strings instead of replacing it",
          arguments: [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x61, 0x80, 0x22]] as [[UInt8]])
    func refusesInvalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: (any Error).self) { try JSONParser.parse(bytes) }
        #expect(Self.foundation(bytes) == .refused)
    }

    @Test("decodes escapes, surrogate pairs, raw UTF-8 and number forms as JSONDecoder does",
          arguments: [
              #""\uD83D\uDE00""#, #""\u00e9\u00C9""#, "\"é😀\"", #""\"\\\/\b\f\n\r\t""#, #""a\u0000b""#,
              "0", "-0", "12", "-7", "1.5", "1e3", "2E-2", "1.0", "-1.25e+2", "9223372036854775807",
              "-9223372036854775808", "18446744073709551615", "18446744073709551616", "1e400", "[1e308, -1e-400]",
              "{\"a\":{\"b\":[true,false,null]}}", " [ ] ", "{}", "{\"😀\":\"\\t a\"}", "{\"k\":\"\\t a\"}", "\"\\t a\"",
              "[\"\\t a\"]", "{\"é\":\"\\n b\"}",
          ])
    func acceptsWhatRFC8259Allows(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(Self.ours(bytes) == Self.foundation(bytes), "\(text.debugDescription): ours \(Self.ours(bytes)), JSONDecoder \(Self.foundation(bytes))")
    }

    // MARK: - differential over generated and mutated documents

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    static let stringPieces = [
        "a", "Z", "path", " ", "é", "😀", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\u00e9", "\\uD83D\\uDE00", "\\u0041",
        "\\b", "\\f", "\\r", "/", "0x1F", "\\u001f",
    ]
    static let numbers = [
        "0", "-0", "7", "-12", "1.5", "-0.25", "1e3", "2E-2", "6.02e+23", "1.0", "4294967296", "9223372036854775807",
        "-9223372036854775808", "18446744073709551615", "123456789012345678901234567890",
    ]

    static func value(_ depth: Int, _ rng: inout Generator) -> String {
        let ws = [" ", "", "\n", "\t", "\r\n"]
        func space() -> String { ws.randomElement(using: &rng)! }
        func string() -> String {
            "\"" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in stringPieces.randomElement(using: &rng)! }.joined() + "\""
        }
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
        case 0: return "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        case 2: return numbers.randomElement(using: &rng)!
        case 3, 4: return string()
        case 5:
            let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in space() + value(depth + 1, &rng) + space() }
            return "[" + items.joined(separator: ",") + "]"
        default:
            var keys: Set<String> = []
            var pairs: [String] = []
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let key = string()
                guard keys.insert(key).inserted else { continue }   // duplicates are a matter of taste
                pairs.append(space() + key + space() + ":" + space() + value(depth + 1, &rng) + space())
            }
            return "{" + pairs.joined(separator: ",") + "}"
        }
    }

    /// Bytes a mutation inserts: JSON's punctuation, escapes' letters, digits, signs, control
    /// characters and pieces of UTF-8 (whole and cut).
    static let alphabet: [[UInt8]] = (Array("{}[],:\"\\/+-.eE0159 tfnrbuDdAa\t\n".utf8) + [0x01, 0x1F, 0x7F]).map { [$0] }
        + [Array("é".utf8), Array("😀".utf8), [0xC3], [0x80], [0xFF], Array("\\u".utf8), Array("\\uD800".utf8), Array("\\uDC00".utf8)]

    static func mutate(_ doc: [UInt8], _ rng: inout Generator) -> [UInt8] {
        var text = doc
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = text.isEmpty ? 0 : Int.random(in: 0..<text.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !text.isEmpty: text.remove(at: position)
            case 1: text.insert(contentsOf: alphabet.randomElement(using: &rng)!, at: position)
            case 2 where !text.isEmpty: text.replaceSubrange(position...position, with: alphabet.randomElement(using: &rng)!)
            default:
                let start = Int.random(in: 0...text.count, using: &rng)
                let len = Int.random(in: 0...min(8, text.count - start), using: &rng)
                text.insert(contentsOf: text[start..<(start + len)], at: position)
            }
        }
        return text
    }

    /// Foundation guesses UTF-16 and UTF-32 from NUL bytes at the start, and skips a UTF-8 byte
    /// order mark; config.json is UTF-8 only. Documents where that guess applies are not compared.
    static func foundationReadsAsUTF8(_ bytes: [UInt8]) -> Bool {
        !bytes.prefix(4).contains(0) && !bytes.starts(with: [0xEF, 0xBB, 0xBF])
    }

    @Test("20,000 generated and mutated documents: the same accepted, the same refused, the same values")
    func differential() async {
        // Long synchronous loops run on a thread of their own: on the 2-thread pool they stalled
        // every other test of the process (each fuzz test here holds a thread for seconds).
        await DedicatedThreadExecutor.run { Self.differentialBody() }
    }

    static func differentialBody() {
        var rng = Generator(state: 0x0C1_0A75)
        var accepted = 0, refused = 0
        var disagreements: [String] = []
        for i in 0..<20_000 {
            let generated = Array(Self.value(0, &rng).utf8)
            let doc = i % 4 == 0 ? generated : Self.mutate(generated, &rng)
            guard Self.foundationReadsAsUTF8(doc) else { continue }
            let mine = Self.ours(doc), theirs = Self.foundation(doc)
            if mine == .refused { refused += 1 } else { accepted += 1 }
            if mine == .refused && theirs != .refused && Self.knownDifference(doc) { continue }
            if mine != theirs && disagreements.count < 10 {
                disagreements.append("\(String(decoding: doc, as: UTF8.self).debugDescription): ours \(mine), JSONDecoder \(theirs)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
        #expect(accepted > 5_000 && refused > 5_000, "accepted \(accepted), refused \(refused): the mix should exercise both")
    }

    @Test("mutated config.json documents decode to the same Spec through both decoders, or both refuse")
    func specDifferential() async throws {
        try await DedicatedThreadExecutor.run { try Self.specDifferentialBody() }
    }

    static func specDifferentialBody() throws {
        var rng = Generator(state: 0x5BEC_0001)
        let seeds = try Self.specSeeds()
        var same = 0
        var disagreements: [String] = []
        for i in 0..<4_000 {
            let doc = Self.mutate(seeds[i % seeds.count], &rng)
            guard Self.foundationReadsAsUTF8(doc) else { continue }
            let mine = try? Spec.decode(doc)
            // JSONDecoder checks the text of strings only when they are decoded: a raw control
            // character under a key Spec ignores goes unnoticed. The whole-document decode (Doc)
            // decodes every string, so it says whether the document is JSON.
            let theirs = Self.foundation(doc) == .refused ? nil : try? JSONDecoder().decode(Spec.self, from: Data(doc))
            if mine == nil && theirs != nil && Self.knownDifference(doc) { continue }
            if mine == theirs { same += 1 } else if disagreements.count < 5 {
                disagreements.append("\(String(decoding: doc, as: UTF8.self).debugDescription)\nours: \(String(describing: mine))\nJSONDecoder: \(String(describing: theirs))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n\n"))")
        #expect(same > 2_000, "\(same) of 4,000 compared")
    }

    /// A `runc spec` configuration and a runtime-tools-style one with most fields set.
    static func specSeeds() throws -> [[UInt8]] {
        var full = Spec.default(args: ["sh", "-c", "echo \"hi\" \\ é 😀"])
        full.annotations = ["org.opencontainers.runtime-tools": "hook stdin test", "é": "\u{1F}"]
        full.hooks = Spec.Hooks()
        full.hooks?.prestart = [Spec.Hook(path: "/bin/sh", args: ["sh", "-c", "cat > /tmp/x"], timeout: 1)]
        full.linux?.resources?.memory = Spec.Memory(limit: 1 << 26, reservation: 1 << 25, swap: -1)
        full.linux?.resources?.memory?.kernel = 1 << 24
        full.linux?.resources?.pids = Spec.Pids(limit: 9)
        full.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        full.linux?.uidMappings = [Spec.IDMapping(containerID: 0, hostID: 100_000, size: 65_536)]
        full.process?.rlimits?.append(Spec.Rlimit(type: "RLIMIT_CORE", hard: UInt64.max, soft: 0))
        return [try Spec.default(args: ["sh"]).encoded(), try full.encoded()]
    }

    // MARK: - fuzz: never a trap, always a clear error

    @Test("10,000 mutated config.json and state.json documents decode or fail with a named error, never trap")
    func fuzz() async throws {
        try await DedicatedThreadExecutor.run { try Self.fuzzBody() }
    }

    static func fuzzBody() throws {
        var rng = Generator(state: 0xF022_0013)
        var seeds = try Self.specSeeds()
        let state = #"{"ociVersion":"1.2.0","id":"c1","pid":42,"pidStartTime":7,"bundle":"/b","rootfs":"/b/rootfs","annotations":{"a":"b"},"cgroupPaths":["/sys/fs/cgroup/x"],"cgroupCreated":[],"poststart":[{"path":"/bin/true","args":["true"],"timeout":3}],"poststop":[],"createdNanoseconds":12}"#
        seeds.append(Array(state.utf8))
        var decoded = 0
        for i in 0..<10_000 {
            let seed = seeds[i % seeds.count]
            let doc = Self.mutate(seed, &rng)
            if seed.count == state.utf8.count {
                if let json = try? JSONParser.parse(doc), (try? ContainerRecord(json: json)) != nil { decoded += 1 }
                continue
            }
            do {
                _ = try Spec.decode(doc, source: "fuzz/config.json")
                decoded += 1
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.hasPrefix("fuzz/config.json: "), "\(error.message)")
            }
        }
        #expect(decoded > 1_000, "the mutations should leave many documents valid (\(decoded))")
    }
}
