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
        let parts = path.split(separator: "/").map(String.init)
        return Self.match(components[...], parts[...])
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            var p = path
            while true {
                if match(rest, p) { return true }
                guard !p.isEmpty else { return false }
                p = p.dropFirst()
            }
        }
        guard let component = path.first, matchComponent(Array(first)[...], Array(component)[...]) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// Go's `filepath.Match` for one component.
    static func matchComponent(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
        guard let c = p.first else { return s.isEmpty }
        switch c {
        case "*":
            var rest = s
            while true {
                if matchComponent(p.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case "?":
            return !s.isEmpty && matchComponent(p.dropFirst(), s.dropFirst())
        case "[":
            guard let ch = s.first, let close = p.dropFirst().firstIndex(of: "]") else {
                return s.first == "[" && matchComponent(p.dropFirst(), s.dropFirst())
            }
            var set = p[p.index(after: p.startIndex)..<close]
            let negate = set.first == "^" || set.first == "!"
            if negate { set = set.dropFirst() }
            var found = false
            var i = set.startIndex
            while i < set.endIndex {
                let lo = set[i]
                if set.index(after: i) < set.endIndex, set[set.index(after: i)] == "-", set.index(i, offsetBy: 2) < set.endIndex {
                    let hi = set[set.index(i, offsetBy: 2)]
                    if lo <= ch && ch <= hi { found = true }
                    i = set.index(i, offsetBy: 3)
                } else {
                    if lo == ch { found = true }
                    i = set.index(after: i)
                }
            }
            return found != negate && matchComponent(p[(close + 1)...], s.dropFirst())
        case "\\":
            let q = p.dropFirst()
            guard let lit = q.first else { return false }
            return s.first == lit && matchComponent(q.dropFirst(), s.dropFirst())
        default:
            return s.first == c && matchComponent(p.dropFirst(), s.dropFirst())
        }
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
