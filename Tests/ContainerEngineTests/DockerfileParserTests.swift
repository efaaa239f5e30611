@testable import ContainerEngine
import Foundation
import IntermodalCore
import Testing

@Suite("Dockerfile parser")
struct DockerfileParserTests {
    @Test("continuations, comments, JSON and shell forms, flags, line numbers")
    func parsesInstructions() throws {
        let text = """
            # syntax=docker/dockerfile:1
            ARG BASE=busybox
            FROM ${BASE} AS build
            # a comment
            RUN echo one \\
                # a comment inside a continuation
                two
            CMD ["sh", "-c", "echo hi"]
            COPY --chown=1:1 a b /dest/
            ENV A=1 B="two words"
            entrypoint /bin/sh
            """
        let file = try Dockerfile.parse(text)
        let kinds = file.instructions.map(\.keyword)
        #expect(kinds == [.arg, .from, .run, .cmd, .copy, .env, .entrypoint])
        #expect(file.instructions[2].arguments == .shell("echo one     two"))
        #expect(file.instructions[2].line == 5)
        #expect(file.instructions[3].arguments == .exec(["sh", "-c", "echo hi"]))
        #expect(file.instructions[4].flags == ["chown": "1:1"])
        #expect(file.instructions[4].arguments == .shell("a b /dest/"))
        #expect(file.instructions[6].line == 11)
    }

    @Test("escape directive switches the continuation character")
    func escapeDirective() throws {
        let file = try Dockerfile.parse("# escape=`\nFROM busybox\nRUN echo a `\n  b\n")
        #expect(file.escape == "`")
        #expect(file.instructions[1].arguments == .shell("echo a   b"))
    }

    @Test("invalid JSON falls back to the shell form, like Docker")
    func jsonFallback() throws {
        let file = try Dockerfile.parse("FROM busybox\nRUN [\"echo\", oops]\n")
        #expect(file.instructions[1].arguments == .shell("[\"echo\", oops]"))
    }

    @Test("errors name the file and the line", arguments: [
        ("FROM busybox\nFORM x\n", "Dockerfile:2: unknown instruction 'FORM'"),
        ("RUN echo\n", "Dockerfile:1: RUN before the first FROM"),
        ("FROM busybox\n\n\nCOPY onlyone\n", "Dockerfile:4: COPY requires at least a source and a destination"),
        ("FROM busybox\nENV NOVALUE\n", "Dockerfile:2: ENV NOVALUE has no value"),
        ("FROM busybox\nRUN\n", "Dockerfile:2: RUN requires arguments"),
        ("FROM busybox\nCOPY --bogus=1 a b\n", "Dockerfile:2: COPY does not support the flag '--bogus'"),
        ("# just a comment\n\n", "Dockerfile:1: the Dockerfile has no instructions"),
        ("FROM a b c d\n", "Dockerfile:1: FROM takes IMAGE [AS NAME]"),
    ])
    func errors(text: String, expected: String) {
        do {
            _ = try Dockerfile.parse(text)
            Issue.record("expected an error for \(text.debugDescription)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.hasPrefix(expected), "got: \(error.message)")
        }
    }

    @Test("variable substitution: $VAR, ${VAR}, defaults, alternatives, quotes, escapes")
    func substitution() throws {
        let words = ShellWords(variables: ["A": "x", "EMPTY": "", "SP": "a b"])
        #expect(try words.expand("$A ${A}") == "x x")
        #expect(try words.expand("${MISSING:-def} ${EMPTY:-def} ${A:-def}") == "def def x")
        #expect(try words.expand("${A:+alt} ${MISSING:+alt}") == "alt ")
        #expect(try words.expand("${MISSING:-${A}}") == "x")
        #expect(try words.expand("'$A' \"$A\" \\$A") == "$A x $A")
        #expect(try words.words("one \"two three\" $SP") == ["one", "two three", "a b"])
        #expect(throws: IntermodalError.self) { try words.expand("${A") }
        #expect(throws: IntermodalError.self) { try words.expand("\"open") }
        #expect(throws: IntermodalError.self) { try words.expand("${MISSING:?is required}") }
    }

    @Test(".dockerignore: globs, **, exceptions, parent directories")
    func dockerignore() {
        let ignore = DockerIgnore("""
            # comment
            *.log
            build
            **/*.tmp
            !keep.log
            docs/**/secret?
            """)
        #expect(ignore.excludes("x.log"))
        #expect(!ignore.excludes("keep.log"))
        #expect(!ignore.excludes("sub/x.log"))          // `*` does not cross `/`
        #expect(ignore.excludes("build/out/a.o"))       // a parent directory matched
        #expect(ignore.excludes("a/b/c.tmp"))
        #expect(ignore.excludes("docs/x/y/secret1"))
        #expect(!ignore.excludes("src/main.c"))
        #expect(PathPattern("[a-c]?.txt").matches("b1.txt"))
        #expect(!PathPattern("[!a-c]?.txt").matches("b1.txt"))
    }

    @Test("globs follow Go's filepath.Match: stars, classes, escapes, ** across components")
    func globSemantics() {
        let cases: [(String, String, Bool)] = [
            ("a*b*c", "abxbc", true), ("a*b*c", "abxbcx", false), ("*", "abc", true),
            ("a*", "a/b", false), ("*c", "abc", true), ("a?c", "abc", true), ("a?c", "ac", false),
            ("[a-c]x", "bx", true), ("[^a-c]x", "bx", false), ("[!a-c]x", "dx", true), ("\\*x", "*x", true),
            ("\\*x", "ax", false), ("a[", "a[", true), ("*a*a*b", "aaab", true), ("*a*a*b", "aab", true), ("*a*a*b", "ab", false),
            ("**/x", "x", true), ("**/x", "a/b/x", true), ("a/**/b", "a/b", true), ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "a/x/y/c", false), ("**", "a/b/c", true), ("**/*.tmp", "a/b.tmp/c", false),
        ]
        for (pattern, path, expected) in cases {
            #expect(PathPattern(pattern).matches(path) == expected, "\(pattern) against \(path)")
        }
    }

    /// The matcher backtracked exponentially: this pair ran for minutes and ignored SIGTERM. The
    /// bound is a hang's, not a speed target: the fixed matcher takes microseconds.
    @Test("a pattern of many stars against a long name is decided without backtracking exponentially")
    func globIsLinear() async {
        let pattern = String(repeating: "*a", count: 13) + "*b"
        let name = String(repeating: "a", count: 60)
        let ignore = DockerIgnore(pattern + "\n" + String(repeating: "**/", count: 12) + "c")
        let decided = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            let once = Once(done)
            Thread.detachNewThread {
                let r = !PathPattern(pattern).matches(name) && !ignore.excludes(Array(repeating: "d", count: 40).joined(separator: "/"))
                once.resume(r)
            }
            Thread.detachNewThread {
                sleep(60)
                once.resume(false)
            }
        }
        #expect(decided, "the matcher did not answer within a minute")
    }
}

/// Resumes a continuation once, whichever thread comes first.
final class Once: @unchecked Sendable {
    private var continuation: CheckedContinuation<Bool, Never>?
    private let lock = NSLock()
    init(_ c: CheckedContinuation<Bool, Never>) { continuation = c }
    func resume(_ value: Bool) {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume(returning: value)
    }
}
