import ContainerRuntime
import IntermodalCore
import Testing

/// The runtime CLI reads its lifecycle commands twice over: a fast hand-written reader, and
/// ArgumentParser's definition, which is the reference. Wherever the fast one decides, both must
/// decide the same; the binary's parse-check mode runs both over argument lists without executing.
@Suite("intermodal-runtime: fast argument path agrees with ArgumentParser")
struct FastPathAgreementTests {
    /// One option of runc's documented syntax, in each form a caller may write it.
    struct Option {
        var forms: [[String]]
    }

    static func valued(_ long: String, short: String? = nil, value: String) -> Option {
        var forms = [["--\(long)", value], ["--\(long)=\(value)"]]
        if let short { forms += [["-\(short)", value], ["-\(short)=\(value)"]] }
        return Option(forms: forms)
    }

    static func flag(_ long: String, short: String? = nil) -> Option {
        Option(forms: [["--\(long)"]] + (short.map { [["-\($0)"]] } ?? []))
    }

    /// runc's flags per lifecycle command (runc 1.1 `--help`), including some we do not take.
    static let commands: [(name: String, options: [Option], positionals: [[String]])] = [
        ("create", [valued("bundle", short: "b", value: "/tmp/b"), valued("pid-file", value: "/tmp/p"),
                    valued("console-socket", value: "/tmp/s"), flag("no-pivot"), flag("no-new-keyring"),
                    valued("preserve-fds", value: "2")], [["c1"], ["-"]]),
        ("run", [valued("bundle", short: "b", value: "rel/b"), valued("pid-file", value: "/tmp/p"),
                 valued("console-socket", value: "/tmp/s"), flag("detach", short: "d"), flag("no-pivot"),
                 flag("no-new-keyring"), flag("keep"), flag("no-subreaper")], [["c1"]]),
        ("start", [], [["c1"], ["c1", "extra"], []]),
        ("state", [], [["c1"], []]),
        ("kill", [flag("all", short: "a")], [["c1"], ["c1", "KILL"], ["c1", "9"], ["c1", "SIGTERM"], ["c1", "-9"], []]),
        ("delete", [flag("force", short: "f")], [["c1"], ["c1", "c2"]]),
    ]

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        var out: [[T]] = []
        for (i, item) in items.enumerated() {
            var rest = items
            rest.remove(at: i)
            for p in permutations(rest) { out.append([item] + p) }
        }
        return out
    }

    static func subsets<T>(_ items: [T], upTo size: Int) -> [[T]] {
        var out: [[T]] = [[]]
        for item in items {
            out += out.filter { $0.count < size }.map { $0 + [item] }
        }
        return out
    }

    /// Every subset (up to three) of each command's options, in every form (three: the first), with
    /// the positionals in every order (three: in every place); and each with a `--` before them.
    static func argumentLists() -> [[String]] {
        var lists: [[String]] = []
        for command in commands {
            for positionals in command.positionals {
                for chosen in subsets(command.options, upTo: 3) {
                    // Every form of up to two options; three options in their first form (the
                    // parser's checking costs milliseconds per list in a debug build).
                    var formChoices: [[[String]]] = [[]]
                    for option in chosen {
                        let forms = chosen.count < 3 ? option.forms : [option.forms[0]]
                        formChoices = formChoices.flatMap { prefix in forms.map { prefix + [$0] } }
                    }
                    for forms in formChoices {
                        // The positionals move as one block (their own order is their meaning):
                        // every order of up to two options and them; with three options the
                        // block takes every place among them.
                        let orders = chosen.count < 3
                            ? permutations(forms + [positionals])
                            : (0...forms.count).map { k in Array(forms[..<k]) + [positionals] + Array(forms[k...]) }
                        for order in orders {
                            lists.append([command.name] + order.flatMap { $0 })
                        }
                        lists.append([command.name] + forms.flatMap { $0 } + ["--"] + positionals)
                    }
                }
            }
        }
        // Values that look like options, and options given twice.
        lists += [
            ["create", "--bundle", "-x", "c1"], ["create", "--bundle=-x", "c1"], ["create", "-b", "/b", ""],
            ["create", "-b", "/b", "c 1"], ["create", "--pid-file", "-", "c1"], ["create", "-b", "--pid-file", "c1"], ["create", "c1", "--bundle"],
            ["create", "--bundle", "/a", "--bundle", "/b", "c1"], ["delete", "-f", "-f", "c1"], ["kill", "-a", "-a", "c1"],
            ["create", "-bx", "c1"], ["delete", "-fa", "c1"], ["kill", "--all=true", "c1"], ["run", "-d", "--detach", "c1"],
            ["state", "--", "-c1"], ["start", "-h"], ["create", "--help"], ["spec"], ["list"], ["exec", "c1", "true"],
        ]
        return lists
    }

    @Test("over runc's documented flags in every order and form, the fast path decides as ArgumentParser does")
    func agreement() async throws {
        let lists = Self.argumentLists()
        let input = lists.map { $0.joined(separator: "\u{1F}") }.joined(separator: "\n") + "\n"
        let r = try await HostCommand.run(
            RuntimeCLITests.binary.string, [], environment: ["INTERMODAL_RUNTIME_PARSE_CHECK": "1"], input: input)
        #expect(r.exitCode == 0, "\(r.standardError)")
        let lines = r.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        try #require(lines.count == lists.count, "\(lines.count) answers for \(lists.count) argument lists")
        var fast = 0
        var disagreements: [String] = []
        for (args, line) in zip(lists, lines) {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(parts.count == 2, "\(line)")
            guard parts[0] != "fallback" else { continue }
            fast += 1
            if parts[0] != parts[1] && disagreements.count < 20 {
                disagreements.append("\(args): fast \(parts[0]) / ArgumentParser \(parts[1])")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
        #expect(fast > lists.count / 3, "the fast path decided only \(fast) of \(lists.count)")
    }

    @Test("the calls an engine makes per container take the fast path")
    func engineCallsAreFast() async throws {
        let lists = [
            ["create", "--bundle", "/b", "--pid-file", "/p", "c1"], ["create", "-b", "/b", "c1"], ["start", "c1"],
            ["state", "c1"], ["kill", "c1", "KILL"], ["kill", "--all", "c1", "9"], ["delete", "--force", "c1"],
            ["delete", "c1"], ["run", "-d", "-b", "/b", "c1"], ["create", "--console-socket", "/s", "--bundle", "/b", "c1"],
        ]
        let input = lists.map { $0.joined(separator: "\u{1F}") }.joined(separator: "\n") + "\n"
        let r = try await HostCommand.run(
            RuntimeCLITests.binary.string, [], environment: ["INTERMODAL_RUNTIME_PARSE_CHECK": "1"], input: input)
        let lines = r.standardOutput.split(separator: "\n")
        #expect(lines.count == lists.count)
        for (args, line) in zip(lists, lines) {
            #expect(!line.hasPrefix("fallback"), "\(args) fell back to ArgumentParser")
        }
    }
}
