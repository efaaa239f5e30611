import BenchmarkResults

/// The warnings a report shows: those about the data recomputed from the samples by today's
/// rules (a file written before a rule changed keeps its raw samples, not its verdicts), the
/// others (host load, emulation, gaps, coarse clocks, missing samples) as the run recorded them.
enum Warnings {
    /// Kinds that follow from the samples alone.
    static let fromData: Set<Warning.Kind> = [.slowFirstRun, .highSpread, .outliers, .quantised]

    static func current(_ file: ResultsFile) -> [Warning] {
        var out = file.warnings.filter { !fromData.contains($0.kind) }
        var bySeries: [SeriesKey: [Sample]] = [:]
        for s in file.samples where !s.warmup { bySeries[s.series, default: []].append(s) }
        for key in bySeries.keys.sorted() {
            let values = bySeries[key]!.sorted { ($0.round, $0.takenAt) < ($1.round, $1.takenAt) }.map(\.value)
            out += Warning.about(key, values: values, summary: Summary(values, seed: 1, resamples: 200), expected: 0)
                .filter { fromData.contains($0.kind) }
        }
        return out
    }

    /// Warnings grouped by kind, the largest group first.
    static func byKind(_ warnings: [Warning]) -> [(Warning.Kind, [Warning])] {
        var groups: [Warning.Kind: [Warning]] = [:]
        var order: [Warning.Kind] = []
        for w in warnings {
            if groups[w.kind] == nil { order.append(w.kind) }
            groups[w.kind, default: []].append(w)
        }
        return order.map { ($0, groups[$0]!) }.sorted { $0.1.count > $1.1.count }
    }

    /// One line per distinct message, with the series it concerns (a few named, the rest counted).
    static func deduplicated(_ warnings: [Warning]) -> [String] {
        var series: [String: [String]] = [:]
        var order: [String] = []
        for w in warnings {
            if series[w.message] == nil { order.append(w.message) }
            series[w.message, default: []] += w.series.map { [$0.description] } ?? []
        }
        return order.map { message in
            let names = series[message]!
            guard !names.isEmpty else { return message }
            if names.count == 1 { return "\(names[0]): \(message)" }
            let shown = names.prefix(4).joined(separator: ", ")
            return "\(names.count) series (\(shown)\(names.count > 4 ? ", …" : "")): \(message)"
        }
    }

    /// "3 emulated, 2 high-spread": what the terminal prints instead of every line.
    static func counted(_ warnings: [Warning]) -> String {
        byKind(warnings).map { "\($0.1.count) \($0.0.rawValue)" }.joined(separator: ", ")
    }
}
