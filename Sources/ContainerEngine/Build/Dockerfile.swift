import IntermodalCore

/// A parsed Dockerfile: its instructions in order, each with the line it started on.
///
/// Parsing only splits the text into instructions and checks their shape; variables are expanded
/// later by the builder, because their values (`ARG`, `ENV`) change as the build proceeds.
public struct Dockerfile: Sendable, Equatable {
    /// The name used in error messages (`Dockerfile`, `ctx/Dockerfile.dev`).
    public var name: String
    /// The escape character (`\` unless an `# escape=` directive chose backquote).
    public var escape: Character
    /// Every instruction, `ARG`s before the first `FROM` included.
    public var instructions: [Instruction]

    public init(name: String, escape: Character = "\\", instructions: [Instruction]) {
        self.name = name
        self.escape = escape
        self.instructions = instructions
    }

    /// Parses Dockerfile text. Errors name `name` and the line, like `Dockerfile:3: unknown instruction 'FORM'`.
    public static func parse(_ text: String, name: String = "Dockerfile") throws(IntermodalError) -> Dockerfile {
        try DockerfileParser(text: text, name: name).parse()
    }
}

/// One instruction of a Dockerfile.
public struct Instruction: Sendable, Equatable {
    /// The instructions we build. Others (`ONBUILD`, `HEALTHCHECK`, ...) are refused with a clear error.
    public enum Keyword: String, Sendable, CaseIterable {
        case from = "FROM", run = "RUN", copy = "COPY", add = "ADD", env = "ENV", arg = "ARG"
        case workdir = "WORKDIR", user = "USER", cmd = "CMD", entrypoint = "ENTRYPOINT"
        case label = "LABEL", expose = "EXPOSE", stopsignal = "STOPSIGNAL", volume = "VOLUME"
        case shell = "SHELL", maintainer = "MAINTAINER"
    }

    /// The two ways a command can be written.
    public enum Arguments: Sendable, Equatable {
        /// `RUN echo hi` — the text after the keyword and flags.
        case shell(String)
        /// `RUN ["echo", "hi"]` — a JSON array of strings.
        case exec([String])
    }

    public var keyword: Keyword
    /// `--name=value` flags before the arguments (`COPY --chown=1:1`, `FROM --platform=...`).
    public var flags: [String: String]
    public var arguments: Arguments
    /// The line the instruction started on (1-based).
    public var line: Int
    /// The instruction as written, continuations joined (for history and the layer cache).
    public var text: String

    public init(keyword: Keyword, flags: [String: String] = [:], arguments: Arguments, line: Int, text: String) {
        self.keyword = keyword
        self.flags = flags
        self.arguments = arguments
        self.line = line
        self.text = text
    }

    /// The shell-form text, or the exec-form words joined by spaces.
    public var rawArguments: String {
        switch arguments {
        case .shell(let s): s
        case .exec(let words): words.joined(separator: " ")
        }
    }
}

/// The line-level parser: directives, comments, continuations, keywords, flags and JSON forms.
struct DockerfileParser {
    let text: String
    let name: String

    /// Instructions that accept a JSON array (exec form).
    private static let jsonCapable: Set<Instruction.Keyword> = [.run, .cmd, .entrypoint, .copy, .add, .shell, .volume]
    /// Instructions that accept `--flag=value` before their arguments, and which flags.
    private static let allowedFlags: [Instruction.Keyword: Set<String>] = [
        .from: ["platform"], .copy: ["chown", "chmod", "from", "link"], .add: ["chown", "chmod", "link"],
        .run: [],
    ]

    func parse() throws(IntermodalError) -> Dockerfile {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = String(first.dropFirst()) }

        var escape: Character = "\\"
        var index = 0
        // Parser directives: `# key=value` lines at the very top, before any blank line or instruction.
        var seenDirectives: Set<String> = []
        while index < lines.count, let directive = Self.directive(lines[index]) {
            guard !seenDirectives.contains(directive.key) else {
                throw error(index + 1, "parser directive '\(directive.key)' given twice")
            }
            seenDirectives.insert(directive.key)
            if directive.key == "escape" {
                guard directive.value == "\\" || directive.value == "`" else {
                    throw error(index + 1, "invalid escape directive '\(directive.value)' (use \\ or `)")
                }
                escape = Character(directive.value)
            }
            index += 1
        }

        var instructions: [Instruction] = []
        while index < lines.count {
            let startLine = index + 1
            let first = lines[index]
            index += 1
            if Self.isBlankOrComment(first) { continue }
            // Join continuation lines; comment lines inside a continuation are dropped, as Docker does.
            var logical = ""
            var current = first
            while true {
                let trimmed = current.trimmingTrailingWhitespace
                if trimmed.last == escape {
                    logical += String(trimmed.dropLast())
                    // Skip comment and empty lines inside the continuation.
                    while index < lines.count, Self.isBlankOrComment(lines[index]) { index += 1 }
                    guard index < lines.count else { break }
                    current = lines[index]
                    index += 1
                } else {
                    logical += current
                    break
                }
            }
            instructions.append(try instruction(logical, line: startLine))
        }

        guard !instructions.isEmpty else { throw error(1, "the Dockerfile has no instructions") }
        if let bad = instructions.first(where: { $0.keyword != .arg }), bad.keyword != .from {
            throw error(bad.line, "\(bad.keyword.rawValue) before the first FROM (only ARG may come before FROM)")
        }
        guard instructions.contains(where: { $0.keyword == .from }) else {
            throw error(instructions[0].line, "no FROM instruction")
        }
        return Dockerfile(name: name, escape: escape, instructions: instructions)
    }

    private func instruction(_ logical: String, line: Int) throws(IntermodalError) -> Instruction {
        let body = logical.trimmed
        let keywordText = String(body.prefix { !$0.isWhitespace })
        guard let keyword = Instruction.Keyword(rawValue: keywordText.uppercased()) else {
            let known = Instruction.Keyword.allCases.map(\.rawValue).joined(separator: " ")
            throw error(line, "unknown instruction '\(keywordText)' (known: \(known))")
        }
        var rest = Substring(body.dropFirst(keywordText.count)).drop { $0.isWhitespace }

        var flags: [String: String] = [:]
        while rest.hasPrefix("--") {
            let word = rest.prefix { !$0.isWhitespace }
            let flag = word.dropFirst(2)
            let flagName = String(flag.prefix { $0 != "=" })
            let value = flag.contains("=") ? String(flag.drop { $0 != "=" }.dropFirst()) : ""
            guard let allowed = Self.allowedFlags[keyword], allowed.contains(flagName) else {
                throw error(line, "\(keyword.rawValue) does not support the flag '--\(flagName)'")
            }
            flags[flagName] = value
            rest = rest.dropFirst(word.count).drop { $0.isWhitespace }
        }
        let argumentText = String(rest)
        guard !argumentText.isEmpty else {
            throw error(line, "\(keyword.rawValue) requires arguments")
        }

        var arguments = Instruction.Arguments.shell(argumentText)
        if Self.jsonCapable.contains(keyword), argumentText.hasPrefix("[") {
            // Like Docker: text that is not a valid JSON array of strings is taken as shell form.
            if let words = JSONStringArray.parse(argumentText) { arguments = .exec(words) }
        }
        try validate(keyword, arguments, flags: flags, line: line)
        return Instruction(keyword: keyword, flags: flags, arguments: arguments, line: line, text: body)
    }

    /// Shape checks that need no variable values, so mistakes surface before anything runs.
    private func validate(_ keyword: Instruction.Keyword, _ arguments: Instruction.Arguments, flags: [String: String], line: Int) throws(IntermodalError) {
        let words = arguments.wordCount
        switch keyword {
        case .from:
            guard case .shell(let s) = arguments else { break }
            let parts = s.split(whereSeparator: \.isWhitespace)
            guard parts.count == 1 || (parts.count == 3 && parts[1].lowercased() == "as") else {
                throw error(line, "FROM takes IMAGE [AS NAME], got '\(s)'")
            }
        case .copy, .add:
            guard words >= 2 else { throw error(line, "\(keyword.rawValue) requires at least a source and a destination") }
        case .env:
            guard case .shell(let s) = arguments else { break }
            let first = s.prefix { !$0.isWhitespace }
            if !first.contains("=") && first.count == s.count {
                throw error(line, "ENV \(s) has no value (use ENV NAME=VALUE)")
            }
        case .label:
            guard case .shell(let s) = arguments, s.contains("=") else {
                throw error(line, "LABEL requires KEY=VALUE")
            }
        case .arg:
            guard case .shell(let s) = arguments else { break }
            let name = s.prefix { $0 != "=" }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw error(line, "invalid ARG name '\(name)'")
            }
        case .shell:
            guard case .exec(let w) = arguments, !w.isEmpty else {
                throw error(line, "SHELL requires a JSON array, like SHELL [\"/bin/sh\", \"-c\"]")
            }
        default: break
        }
    }

    private func error(_ line: Int, _ message: String) -> IntermodalError {
        IntermodalError(.invalidArgument, "\(name):\(line): \(message)")
    }

    private static func isBlankOrComment(_ line: String) -> Bool {
        let t = line.drop { $0.isWhitespace }
        return t.isEmpty || t.first == "#"
    }

    /// `# key=value` at the top of the file, or nil when the line is not a directive.
    private static func directive(_ line: String) -> (key: String, value: String)? {
        let t = line.trimmed
        guard t.hasPrefix("#") else { return nil }
        let body = t.dropFirst().trimmed
        guard let eq = body.firstIndex(of: "=") else { return nil }
        let key = body[..<eq].trimmed.lowercased()
        guard ["escape", "syntax", "check"].contains(key) else { return nil }
        return (key, body[body.index(after: eq)...].trimmed)
    }
}

extension Instruction.Arguments {
    var wordCount: Int {
        switch self {
        case .exec(let w): w.count
        case .shell(let s): s.split(whereSeparator: \.isWhitespace).count
        }
    }
}
