/// What a results file or a suite may hold, checked once where one is read (`report`, `compare`,
/// `bench --rerun`, a suite file): a file from another machine is data from outside, and a report
/// or a run must never see a number it cannot use (an infinity, a negative duration, 1e300
/// instances, `runs = -5`). The first problem found is named with where it is.
public struct InvalidResults: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the file (`samples[3].value`, `suite.runs`) and what was wrong.
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Suite {
    /// The range of every count and size of a suite: what a suite file may say, and what a suite
    /// read back from a results file must hold.
    public enum Limits {
        public static let runs = 1...100_000
        public static let warmup = 0...1000
        public static let timeoutSeconds = 1...86_400
        public static let memoryMiB = 64...1_048_576
        public static let vcpus = 1...64
        public static let idleInstances = 1...10_000
        public static let throughputSeconds = 1...3600
        public static let diskFileMiB = 1...1_048_576
        public static let requests = 100...100_000_000
        public static let memoryBudgetMiB = 16...16_777_216
        public static let maxInstances = 1...100_000
    }

    /// Refuses a suite with a count or size out of ``Limits``, by its suite-file key.
    public func validate() throws(InvalidResults) {
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) throws(InvalidResults) {
            guard range.contains(value) else {
                throw InvalidResults("suite key \(key): expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value)")
            }
        }
        func checkMap(_ key: String, _ map: [String: Int], _ range: ClosedRange<Int>) throws(InvalidResults) {
            for (name, value) in map.sorted(by: { $0.key < $1.key }) { try check("\(key).\(name)", value, range) }
        }
        guard !name.isEmpty, !image.isEmpty else { throw InvalidResults("suite: a name and an image are required") }
        try check("runs", runs, Limits.runs)
        try check("warmup", warmup, Limits.warmup)
        try check("timeout_seconds", timeoutSeconds, Limits.timeoutSeconds)
        try check("memory_mib", memoryMiB, Limits.memoryMiB)
        try check("vcpus", vcpus, Limits.vcpus)
        try check("idle_instances", idleInstances, Limits.idleInstances)
        try checkMap("runs_by_backend", runsByBackend, Limits.runs)
        try checkMap("warmup_by_backend", warmupByBackend, Limits.warmup)
        try checkMap("idle_instances_by_backend", idleInstancesByBackend, Limits.idleInstances)
        if let t = throughput {
            try check("throughput.runs", t.runs, Limits.runs)
            try checkMap("throughput.runs_by_backend", t.runsByBackend, Limits.runs)
            try check("throughput.seconds", t.seconds, Limits.throughputSeconds)
            try check("throughput.disk_file_mib", t.diskFileMiB, Limits.diskFileMiB)
            try check("throughput.requests", t.requests, Limits.requests)
        }
        if let d = density {
            if let budget = d.memoryBudgetMiB { try check("density.memory_budget_mib", budget, Limits.memoryBudgetMiB) }
            try check("density.max_instances", d.maxInstances, Limits.maxInstances)
            try checkMap("density.max_instances_by_backend", d.maxInstancesByBackend, Limits.maxInstances)
        }
    }
}

extension ResultsFile {
    /// The largest magnitude any figure may have: no measurement of this harness comes near it
    /// (a petabyte, eleven days in ms, 1e15 operations per second), and every count derived from
    /// it still fits an `Int`.
    public static let largestValue = 1e15

    /// The smallest non-zero value of a unit that is still a measurement: one byte, one
    /// nanosecond. A smaller one (5e-324 bytes per instance) would make "how many fit" infinite.
    static func resolution(_ unit: MetricUnit) -> Double {
        switch unit {
        case .bytes: 1
        case .milliseconds: 1e-6
        default: 0
        }
    }

    /// Refuses a file holding a number no run could have written: non-finite (JSON's `1e999`
    /// decodes as infinity), beyond ``largestValue``, a negative duration, rate or count, a
    /// non-zero value below its unit's resolution, or a suite out of its limits.
    public func validate() throws(InvalidResults) {
        func finite(_ at: @autoclosure () -> String, _ x: Double, min: Double = -ResultsFile.largestValue) throws(InvalidResults) {
            guard x.isFinite, x >= min, x <= Self.largestValue else {
                throw InvalidResults("\(at()): \(x) is not a figure a run records (finite, \(min == 0 ? "0" : "-1e15") to 1e15)")
            }
        }
        guard schemaVersion >= 1 else { throw InvalidResults("schemaVersion: \(schemaVersion) is not a schema version") }
        try finite("wallSeconds", wallSeconds, min: 0)
        guard environment.memoryBytes >= 0, Double(environment.memoryBytes) <= Self.largestValue,
              (0...1_000_000).contains(environment.cpuCount) else {
            throw InvalidResults("environment: memoryBytes \(environment.memoryBytes) or cpuCount \(environment.cpuCount) is out of range")
        }
        do { try suite.validate() } catch { throw InvalidResults("suite \"\(suite.name)\": \(error.description)") }
        for (i, s) in samples.enumerated() {
            let at = "samples[\(i)] (\(s.series))"
            // Bytes may fall (MemAvailable's drop is negative when memory was freed meanwhile);
            // a duration, a rate or a count may not.
            try finite("\(at).value", s.value, min: s.unit == .bytes ? -Self.largestValue : 0)
            if s.value != 0, abs(s.value) < Self.resolution(s.unit) {
                throw InvalidResults("\(at).value: \(s.value) \(s.unit.rawValue) is below one \(s.unit == .bytes ? "byte" : "nanosecond")")
            }
            try finite("\(at).takenAt", s.takenAt)
            for (k, v) in s.phases ?? [:] { try finite("\(at).phases.\(k)", v) }
            for (k, v) in s.components ?? [:] { try finite("\(at).components.\(k)", v) }
        }
        for (i, s) in summaries.enumerated() {
            let at = "summaries[\(i)] (\(s.series))"
            try s.summary.validate(at)
            // A ratio of bytes that fell is negative.
            if let r = s.ratioToNative { try finite("\(at).ratioToNative", r) }
            if let c = s.ratioToNativeCI95 {
                try finite("\(at).ratioToNativeCI95.low", c.low)
                try finite("\(at).ratioToNativeCI95.high", c.high)
            }
        }
        try harnessOverhead?.validate("harnessOverhead")
        for (i, l) in hostLoad.enumerated() {
            for x in [l.load1, l.load5, l.load15] { try finite("hostLoad[\(i)]", x, min: 0) }
        }
    }
}

extension Summary {
    func validate(_ at: String) throws(InvalidResults) {
        let figures = [median, mean, standardDeviation, min, max, p5, p25, p75, p95, interquartileRange, medianAbsoluteDeviation]
            + [medianCI95?.low, medianCI95?.high].compactMap { $0 }
        guard count >= 0, figures.allSatisfy({ $0.isFinite && abs($0) <= ResultsFile.largestValue }) else {
            throw InvalidResults("\(at).summary: a count below 0 or a figure that is not finite or beyond 1e15")
        }
        guard outliers.allSatisfy({ $0 >= 0 && $0 < Swift.max(count, 1) }) else {
            throw InvalidResults("\(at).summary.outliers: an index outside the \(count) samples")
        }
    }
}
