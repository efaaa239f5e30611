import BenchmarkResults
import IntermodalCore
import SystemPackage
import TOMLKit

/// Suite files: TOML, every key checked. A malformed file is refused with the file, the key (or
/// the line and column of a syntax error) and what was expected, before anything runs.
public enum SuiteFile {
    /// The workloads and backends this build knows.
    public static let knownWorkloads = Workloads.names
    public static let knownBackends = ["native", "intermodal", "intermodal-lib", "runc", "crun", "podman", "podman+intermodal-runtime", "docker", "vm", "vm-full"]

    /// Reads and checks `path`.
    public static func load(_ path: FilePath) throws(IntermodalError) -> Suite {
        let text = try FileSystem.readString(path)
        return try parse(text, file: path.string)
    }

    /// Parses suite TOML; `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws(IntermodalError) -> Suite {
        try checkTableHeaders(text, file: file)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw IntermodalError(.invalidArgument,
                "\(file):\(error.source.begin.line):\(error.source.begin.column): not valid TOML: \(error.description)")
        } catch {
            throw IntermodalError(.invalidArgument, "\(file): not valid TOML", cause: error)
        }
        var reader = Reader(table: table, file: file)
        let base: Suite
        if let name = try reader.string("extends") {
            guard let b = BuiltInSuites.all[name] else {
                throw reader.error("extends", "one of \(BuiltInSuites.all.keys.sorted().joined(separator: ", ")), got \"\(name)\"")
            }
            base = b
        } else {
            base = BuiltInSuites.quick
        }
        var suite = base
        // Unnamed: the file's own name, so that results say which suite they came from.
        suite.name = try reader.string("name") ?? FilePath(file).stem ?? file
        suite.image = try reader.string("image") ?? base.image
        suite.workloads = try reader.strings("workloads", allowed: knownWorkloads) ?? base.workloads
        suite.backends = try reader.strings("backends", allowed: knownBackends) ?? base.backends
        suite.runs = try reader.int("runs", in: Suite.Limits.runs) ?? base.runs
        suite.warmup = try reader.int("warmup", in: Suite.Limits.warmup) ?? base.warmup
        suite.timeoutSeconds = try reader.int("timeout_seconds", in: Suite.Limits.timeoutSeconds) ?? base.timeoutSeconds
        suite.memoryMiB = try reader.int("memory_mib", in: Suite.Limits.memoryMiB) ?? base.memoryMiB
        suite.vcpus = try reader.int("vcpus", in: Suite.Limits.vcpus) ?? base.vcpus
        suite.idleInstances = try reader.int("idle_instances", in: Suite.Limits.idleInstances) ?? base.idleInstances
        if let seed = try reader.int("seed", in: 0...Int.max) { suite.seed = UInt64(seed) }
        if let map = try reader.byBackend("runs_by_backend", in: Suite.Limits.runs) { suite.runsByBackend = map }
        if let map = try reader.byBackend("warmup_by_backend", in: Suite.Limits.warmup) { suite.warmupByBackend = map }
        if let map = try reader.byBackend("idle_instances_by_backend", in: Suite.Limits.idleInstances) { suite.idleInstancesByBackend = map }
        suite.dockerfile = try reader.string("dockerfile").map { Self.relative($0, to: file) } ?? base.dockerfile
        if let t = try reader.table("throughput") {
            var inner = Reader(table: t, file: file, prefix: "throughput.")
            var settings = base.throughputSettings
            settings.runs = try inner.int("runs", in: Suite.Limits.runs) ?? settings.runs
            if let map = try inner.byBackend("runs_by_backend", in: Suite.Limits.runs) { settings.runsByBackend = map }
            settings.seconds = try inner.int("seconds", in: Suite.Limits.throughputSeconds) ?? settings.seconds
            settings.diskFileMiB = try inner.int("disk_file_mib", in: Suite.Limits.diskFileMiB) ?? settings.diskFileMiB
            settings.requests = try inner.int("requests", in: Suite.Limits.requests) ?? settings.requests
            try inner.finish()
            suite.throughput = settings
        }
        if let t = try reader.table("density") {
            var inner = Reader(table: t, file: file, prefix: "density.")
            var settings = base.densitySettings
            settings.memoryBudgetMiB = try inner.int("memory_budget_mib", in: Suite.Limits.memoryBudgetMiB) ?? settings.memoryBudgetMiB
            settings.maxInstances = try inner.int("max_instances", in: Suite.Limits.maxInstances) ?? settings.maxInstances
            if let map = try inner.byBackend("max_instances_by_backend", in: Suite.Limits.maxInstances) { settings.maxInstancesByBackend = map }
            try inner.finish()
            suite.density = settings
        }
        if let t = try reader.table("precision") {
            var inner = Reader(table: t, file: file, prefix: "precision.")
            var settings = base.precision ?? PrecisionSettings()
            settings.target = try inner.int("target_percent", in: 1...100).map { Double($0) / 100 } ?? settings.target
            settings.maximumRuns = try inner.int("maximum_runs", in: 1...100_000) ?? settings.maximumRuns
            settings.budgetSeconds = try inner.int("budget_seconds", in: 1...86_400).map { Double($0) } ?? settings.budgetSeconds
            settings.workloads = try inner.strings("workloads", allowed: knownWorkloads) ?? settings.workloads
            try inner.finish()
            suite.precision = settings
        }
        try reader.finish()
        return suite
    }

    /// Refuses a line that opens a table header (`[`, `[[`) with anything but a key, a quote or
    /// `]`: toml++ (under TOMLKit) asserts on `[=x]`, `[.a]`, `[#]` instead of reporting them,
    /// which aborts the process (and with NDEBUG is undefined behaviour). Found by the suite-file
    /// fuzz test; a suite file has no use for a line that starts an array either.
    static func checkTableHeaders(_ text: String, file: String) throws(IntermodalError) {
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop { $0 == " " || $0 == "\t" }
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard let c = rest.first else { continue }
            let ok = c.isASCII && (c.isLetter || c.isNumber) || "_-\"']".contains(c)
            guard ok else {
                let column = line.distance(from: line.startIndex, to: rest.startIndex) + 1
                throw IntermodalError(.invalidArgument, "\(file):\(n + 1):\(column): not valid TOML: a table header starts with a key, got '\(c)'")
            }
        }
    }

    /// A relative path in a suite file means relative to the file's directory.
    static func relative(_ path: String, to file: String) -> String {
        let dir = FilePath(file).removingLastComponent().string
        guard !path.hasPrefix("/"), !dir.isEmpty else { return path }
        return dir + "/" + path
    }

    /// Typed access to a table that remembers which keys were read, so unknown ones are refused.
    struct Reader {
        let table: TOMLTable
        let file: String
        var prefix = ""
        var seen: Set<String> = []

        init(table: TOMLTable, file: String, prefix: String = "") {
            self.table = table
            self.file = file
            self.prefix = prefix
        }

        func error(_ key: String, _ expected: String) -> IntermodalError {
            IntermodalError(.invalidArgument, "\(file): key \(prefix)\(key): expected \(expected)")
        }

        mutating func string(_ key: String) throws(IntermodalError) -> String? {
            seen.insert(key)
            guard let v = table[key] else { return nil }
            guard let s = v.string, !s.isEmpty else { throw error(key, "a non-empty string, got \(v.debugDescription)") }
            return s
        }

        mutating func int(_ key: String, in range: ClosedRange<Int>) throws(IntermodalError) -> Int? {
            seen.insert(key)
            guard let v = table[key] else { return nil }
            guard let i = v.int else { throw error(key, "an integer, got \(v.debugDescription)") }
            guard range.contains(i) else { throw error(key, "an integer from \(range.lowerBound) to \(range.upperBound), got \(i)") }
            return i
        }

        mutating func strings(_ key: String, allowed: [String]) throws(IntermodalError) -> [String]? {
            seen.insert(key)
            guard let v = table[key] else { return nil }
            guard let array = v.array else { throw error(key, "an array of strings, got \(v.debugDescription)") }
            var out: [String] = []
            for item in array {
                guard let s = item.string else { throw error(key, "an array of strings, got an element \(item.debugDescription)") }
                guard allowed.contains(s) else { throw error(key, "names from \(allowed.joined(separator: ", ")), got \"\(s)\"") }
                guard !out.contains(s) else { throw error(key, "each name once, got \"\(s)\" twice") }
                out.append(s)
            }
            guard !out.isEmpty else { throw error(key, "at least one name") }
            return out
        }

        mutating func table(_ key: String) throws(IntermodalError) -> TOMLTable? {
            seen.insert(key)
            guard let v = table[key] else { return nil }
            guard let t = v.table else { throw error(key, "a table, got \(v.debugDescription)") }
            return t
        }

        /// A table of counts by backend name (`[runs_by_backend]`).
        mutating func byBackend(_ key: String, in range: ClosedRange<Int>) throws(IntermodalError) -> [String: Int]? {
            guard let t = try table(key) else { return nil }
            var map: [String: Int] = [:]
            var inner = Reader(table: t, file: file, prefix: prefix + key + ".")
            for name in t.keys.sorted() {
                guard SuiteFile.knownBackends.contains(name) else {
                    throw inner.error(name, "a backend (\(SuiteFile.knownBackends.joined(separator: ", ")))")
                }
                map[name] = try inner.int(name, in: range)
            }
            try inner.finish()
            return map
        }

        /// Refuses keys nobody read: a typo must not be ignored.
        func finish() throws(IntermodalError) {
            if let unknown = table.keys.sorted().first(where: { !seen.contains($0) }) {
                throw IntermodalError(.invalidArgument, "\(file): unknown key \(prefix)\(unknown)")
            }
        }
    }
}
