import IntermodalCore

/// A path glob as Docker uses in `.dockerignore` and `COPY` sources: `*` and `?` within one path
/// component, `[a-z]` classes, `**` for any number of components, `\` to escape.
struct PathPattern: Sendable, Equatable {
    let components: [String]

    init(_ pattern: String) {
        components = PathPattern.clean(pattern).split(separator: "/").map(String.init)
    }

    /// `./a//b/` -> `a/b`; leading `/` dropped (patterns are relative to the context).
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// True when `path` (clean, relative) matches the whole pattern.
    func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return Self.wildcard(
            components, parts, isStar: { $0 == "**" },
            matchOne: { p, s in Self.matchComponent(Array(p)[...], Array(s)[...]) })
    }

    /// Wildcard matching with one resume point, the last star: on a mismatch the star swallows
    /// one more element and matching resumes after it. Every other token matches exactly one
    /// element, so the leftmost match after a star is as good as any (the classic argument; Go's
    /// `filepath.Match` scans chunks the same way): O(pattern x subject) steps, never the
    /// exponential backtracking of trying every star at every split (`*a*a*a*a*b`).
    static func wildcard<P, S>(
        _ pattern: [P], _ subject: [S], isStar: (P) -> Bool, matchOne: (P, S) -> Bool
    ) -> Bool {
        var p = 0, s = 0
        var resume: (p: Int, s: Int)?
        while s < subject.count {
            if p < pattern.count, isStar(pattern[p]) {
                resume = (p + 1, s)
                p += 1
            } else if p < pattern.count, matchOne(pattern[p], subject[s]) {
                p += 1
                s += 1
            } else if let r = resume {
                resume = (r.p, r.s + 1)
                p = r.p
                s = r.s + 1
            } else {
                return false
            }
        }
        while p < pattern.count, isStar(pattern[p]) { p += 1 }
        return p == pattern.count
    }

    /// One token of a component's pattern: everything but `*` matches exactly one character.
    enum Token {
        case star, any, literal(Character), never
        case set(negated: Bool, ranges: [ClosedRange<Character>])

        func matches(_ c: Character) -> Bool {
            switch self {
            case .star, .never: false
            case .any: true
            case .literal(let l): l == c
            case .set(let negated, let ranges): ranges.contains { $0.contains(c) } != negated
            }
        }
    }

    /// A component's pattern as tokens: `*`, `?`, `[a-z]` (`^` or `!` negates), `\x` for `x`. A
    /// `[` without its `]` is a literal `[`; a trailing `\` matches nothing.
    static func tokens(_ p: ArraySlice<Character>) -> [Token] {
        var out: [Token] = []
        var i = p.startIndex
        while i < p.endIndex {
            let c = p[i]
            i += 1
            switch c {
            case "*":
                if case .star? = out.last { continue }
                out.append(.star)
            case "?":
                out.append(.any)
            case "\\":
                if i < p.endIndex { out.append(.literal(p[i])); i += 1 } else { out.append(.never) }
            case "[":
                guard let close = p[i...].firstIndex(of: "]") else { out.append(.literal("[")); continue }
                var set = p[i..<close]
                let negated = set.first == "^" || set.first == "!"
                if negated { set = set.dropFirst() }
                var ranges: [ClosedRange<Character>] = []
                var j = set.startIndex
                while j < set.endIndex {
                    let lo = set[j]
                    if set.index(after: j) < set.endIndex, set[set.index(after: j)] == "-", set.index(j, offsetBy: 2) < set.endIndex {
                        let hi = set[set.index(j, offsetBy: 2)]
                        if lo <= hi { ranges.append(lo...hi) }
                        j = set.index(j, offsetBy: 3)
                    } else {
                        ranges.append(lo...lo)
                        j = set.index(after: j)
                    }
                }
                out.append(.set(negated: negated, ranges: ranges))
                i = close + 1
            default:
                out.append(.literal(c))
            }
        }
        return out
    }

    /// Go's `filepath.Match` for one component, in O(pattern x name) steps.
    static func matchComponent(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
        wildcard(tokens(p), Array(s), isStar: { if case .star = $0 { true } else { false } }, matchOne: { $0.matches($1) })
    }

    /// True when the pattern has glob characters.
    var isGlob: Bool { components.contains { $0.contains { "*?[\\".contains($0) } } }
}

/// The `.dockerignore` rules of a build context.
public struct DockerIgnore: Sendable {
    struct Rule: Sendable { let pattern: PathPattern; let negated: Bool }
    let rules: [Rule]

    /// Parses `.dockerignore` text: one pattern a line, `#` comments, `!` exceptions.
    public init(_ text: String) {
        var rules: [Rule] = []
        for raw in text.split(separator: "\n") {
            var line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            let negated = line.hasPrefix("!")
            if negated { line = String(line.dropFirst()).trimmed }
            let pattern = PathPattern(line)
            if pattern.components.isEmpty { continue }
            rules.append(Rule(pattern: pattern, negated: negated))
        }
        self.rules = rules
    }

    /// True when `path` (relative to the context) is excluded: the last rule that matches the path
    /// or one of its parent directories decides.
    public func excludes(_ path: String) -> Bool {
        let clean = PathPattern.clean(path)
        guard !clean.isEmpty else { return false }
        let parts = clean.split(separator: "/")
        var excluded = false
        for rule in rules {
            var matched = false
            for n in 1...parts.count where rule.pattern.matches(parts.prefix(n).joined(separator: "/")) {
                matched = true
                break
            }
            if matched { excluded = !rule.negated }
        }
        return excluded
    }
}
