import IntermodalCore

/// The exec form of `RUN`/`CMD`/`ENTRYPOINT`/`COPY`: a JSON array of strings, or nil.
enum JSONStringArray {
    static func parse(_ text: String) -> [String]? {
        try? JSON.decode([String].self, from: Array(text.utf8), what: "exec form")
    }
}
