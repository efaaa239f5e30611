#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import IntermodalCore
import Testing

@Suite struct ProcessStatTests {
    /// This process's own line: alive, its parent the one getppid() names, its CPU time counted.
    @Test func readsThisProcess() {
        let me = ProcessStat.read(getpid())
        // The line is the main thread's: running, or sleeping while a worker thread runs the test.
        #expect(me?.state == "R" || me?.state == "S")
        #expect(me?.parent == getppid())
        #expect(me.map { $0.startTime > 0 && $0.cpuTime > .zero } == true)
        #expect(ProcessStat.isAlive(getpid(), startTime: me?.startTime ?? 0))
        #expect(!ProcessStat.isAlive(getpid(), startTime: (me?.startTime ?? 0) + 1))
        #expect(ProcessStat.read(-1) == nil && ProcessStat.read(0) == nil)
    }

    /// A command name may hold spaces and parentheses: the fields begin after the last ')'.
    @Test func commandNamesWithParenthesesAndSpaces() throws {
        let line = "42 (a) b) (c d) Z 7 42 42 0 -1 4194560 0 0 0 0 13 21 0 0 20 0 1 0 123456 0 0"
        let s = try #require(ProcessStat.parse(ArraySlice(line.utf8)))
        #expect(s.state == "Z" && s.hasEnded && s.parent == 7)
        #expect(s.userTicks == 13 && s.systemTicks == 21 && s.startTime == 123456)
    }

    /// Cut short or garbled lines are nil, never a trap: every prefix of a real line, and seeded
    /// random mutations of it.
    @Test func truncatedAndMutatedLinesAreRefused() {
        let line = Array("1234 (sh) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 987 2252800 120 18446744073709551615".utf8)
        for n in 0..<line.count {
            let s = ProcessStat.parse(line[0..<n])
            // Field 22 is complete only near the end of the line.
            if s != nil { #expect(n > 60) }
        }
        var rng = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<5000 {
            var bytes = line
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = ProcessStat.parse(bytes[...])
        }
    }
}
