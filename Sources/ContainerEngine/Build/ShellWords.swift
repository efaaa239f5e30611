import IntermodalCore

/// Docker's word processing for instruction arguments: quotes, the escape character and
/// `$VAR` / `${VAR}` / `${VAR:-default}` / `${VAR:+alternative}` substitution.
///
/// Variables are looked up in the build's `ARG` and `ENV` values at the time the instruction runs;
/// unknown variables expand to the empty string, as in Docker.
struct ShellWords {
    var escape: Character = "\\"
    var variables: [String: String]

    /// Splits on unquoted whitespace, expanding variables and removing quotes (`COPY`, `ENV` pairs).
    func words(_ text: String) throws(IntermodalError) -> [String] {
        try process(text, split: true)
    }

    /// Expands variables and removes quotes, keeping whitespace (`WORKDIR`, `USER`, `FROM`).
    func expand(_ text: String) throws(IntermodalError) -> String {
        try process(text, split: false).joined()
    }

    private func process(_ text: String, split: Bool) throws(IntermodalError) -> [String] {
        var chars = Array(text)[...]
        var words: [String] = []
        var word = ""
        var inWord = false
        while let c = chars.first {
            chars = chars.dropFirst()
            if split && c.isWhitespace {
                if inWord { words.append(word); word = ""; inWord = false }
                continue
            }
            inWord = true
            switch c {
            case "'":
                guard let end = chars.firstIndex(of: "'") else {
                    throw IntermodalError(.invalidArgument, "unterminated single quote in '\(text)'")
                }
                word += String(chars[..<end])
                chars = chars[(end + 1)...]
            case "\"":
                var closed = false
                while let d = chars.first {
                    chars = chars.dropFirst()
                    if d == "\"" { closed = true; break }
                    if d == escape, let next = chars.first {
                        chars = chars.dropFirst()
                        if next == "\"" || next == "$" || next == escape { word.append(next) } else { word.append(d); word.append(next) }
                    } else if d == "$" {
                        word += try variable(&chars, text: text)
                    } else {
                        word.append(d)
                    }
                }
                guard closed else { throw IntermodalError(.invalidArgument, "unterminated double quote in '\(text)'") }
            case escape:
                if let next = chars.first { word.append(next); chars = chars.dropFirst() }
            case "$":
                word += try variable(&chars, text: text)
            default:
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// Reads a variable reference after `$` and returns its value.
    private func variable(_ chars: inout ArraySlice<Character>, text: String) throws(IntermodalError) -> String {
        guard let first = chars.first else { return "$" }
        if first == "{" {
            guard let close = Self.matchingBrace(chars) else {
                throw IntermodalError(.invalidArgument, "missing '}' in '\(text)'")
            }
            let inner = String(chars[chars.index(after: chars.startIndex)..<close])
            chars = chars[(close + 1)...]
            let name = String(inner.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            guard !name.isEmpty else { throw IntermodalError(.invalidArgument, "bad substitution '${\(inner)}' in '\(text)'") }
            let modifier = inner.dropFirst(name.count)
            let value = variables[name]
            if modifier.isEmpty { return value ?? "" }
            let op = modifier.prefix(2)
            let word = try ShellWords(escape: escape, variables: variables).expand(String(modifier.dropFirst(2)))
            switch op {
            case ":-": return (value?.isEmpty ?? true) ? word : value!
            case ":+": return (value?.isEmpty ?? true) ? "" : word
            case ":?":
                if let value, !value.isEmpty { return value }
                throw IntermodalError(.invalidArgument, "\(name): \(word.isEmpty ? "parameter not set" : word)")
            default:
                let op1 = modifier.prefix(1)
                let word1 = try ShellWords(escape: escape, variables: variables).expand(String(modifier.dropFirst()))
                if op1 == "-" { return value ?? word1 }
                if op1 == "+" { return value == nil ? "" : word1 }
                throw IntermodalError(.invalidArgument, "unsupported substitution '${\(inner)}' in '\(text)'")
            }
        }
        let name = String(chars.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        guard !name.isEmpty else { return "$" }
        chars = chars.dropFirst(name.count)
        return variables[name] ?? ""
    }

    /// The index of the `}` that closes the `{` at the start of `chars`, allowing nested `${...}`.
    private static func matchingBrace(_ chars: ArraySlice<Character>) -> ArraySlice<Character>.Index? {
        var depth = 0
        for i in chars.indices {
            if chars[i] == "{" { depth += 1 }
            if chars[i] == "}" { depth -= 1; if depth == 0 { return i } }
        }
        return nil
    }
}
