import FoundationEssentials

/// The exec form of `RUN`/`CMD`/`ENTRYPOINT`/`COPY`: a JSON array of strings, or nil.
enum JSONStringArray {
    static func parse(_ text: String) -> [String]? {
        try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }
}
