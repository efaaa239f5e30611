@testable import ContainerEngine
import IntermodalCore
import Testing

/// Mutation fuzzing of the parser and the word expander: random edits of valid Dockerfiles must
/// give either a parse or a clear `.invalidArgument` naming the file and a line — never a crash,
/// a hang or another kind of error. Bounded (fixed seed, fixed count) so it runs in CI.
@Suite("Dockerfile parser fuzz")
struct DockerfileFuzzTests {
    static let seeds = [
        "FROM busybox\nRUN echo hi\n",
        "# escape=`\nARG V=1\nFROM busybox AS b\nENV A=\"x y\" B=${V:-2}\nCOPY [\"a\", \"/b/\"]\nRUN echo `\n  more\nCMD [\"sh\"]\n",
        "FROM scratch\nADD --chown=1:2 a.tar /\nLABEL k=v \"x y\"=z\nEXPOSE 80 443/udp\nWORKDIR /a/$B\nUSER 1:1\nENTRYPOINT echo\n",
    ]
    static let alphabet: [Character] = Array("FROMRUNCOPY \t\n\\`$#{}[]\"'=:-+?/.,AZaz09") + ["\u{FEFF}", "é", "\r"]

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    @Test("10,000 mutated Dockerfiles parse or fail with file:line")
    func mutations() {
        var rng = Generator(state: 0x1D0C_4E2F)
        var parsed = 0
        for i in 0..<10_000 {
            var text = Array(Self.seeds[i % Self.seeds.count])
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let position = text.isEmpty ? 0 : Int.random(in: 0..<text.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !text.isEmpty: text.remove(at: position)
                case 1: text.insert(Self.alphabet.randomElement(using: &rng)!, at: position)
                case 2 where !text.isEmpty: text[position] = Self.alphabet.randomElement(using: &rng)!
                default:
                    let start = Int.random(in: 0...text.count, using: &rng)
                    let len = Int.random(in: 0...min(8, text.count - start), using: &rng)
                    text.insert(contentsOf: text[start..<(start + len)], at: position)
                }
            }
            let source = String(text)
            do {
                let file = try Dockerfile.parse(source, name: "fuzz/Dockerfile")
                parsed += 1
                #expect(!file.instructions.isEmpty)
                #expect(file.instructions.allSatisfy { $0.line >= 1 })
                for instruction in file.instructions {
                    // Expansion of every argument must also end in a value or a clean error.
                    do { _ = try ShellWords(escape: file.escape, variables: ["V": "1"]).words(instruction.rawArguments) }
                    catch { #expect(error.code == .invalidArgument) }
                }
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.hasPrefix("fuzz/Dockerfile:"), "no file:line in \(error.message) for \(source.debugDescription)")
            }
        }
        #expect(parsed > 1000, "the mutations should leave many files valid (\(parsed))")
    }
}
