import BenchmarkResults

/// From raw samples to what the results file says about them: a summary per series (warm-ups
/// left out, kept in the samples), its ratio to native, and the warnings the data earn.
enum Summarize {
    /// `stopReasons`: why the runner stopped adding samples to a series, where the suite's
    /// precision rule decided; every other series has the suite's fixed count.
    static func series(
        _ samples: [Sample], suite: Suite, seed: UInt64, stopReasons: [SeriesKey: StopReason] = [:]
    ) -> (summaries: [SeriesSummary], warnings: [Warning]) {
        var groups: [SeriesKey: [Sample]] = [:]
        for s in samples where !s.warmup { groups[s.series, default: []].append(s) }
        var summaries: [SeriesSummary] = []
        var warnings: [Warning] = []
        for key in groups.keys.sorted() {
            let group = groups[key]!.sorted { ($0.round, $0.takenAt) < ($1.round, $1.takenAt) }
            let values = group.map(\.value)
            let seriesSeed = seed ^ UInt64(truncatingIfNeeded: key.description.hashValueStable)
            let summary = Summary(values, seed: seriesSeed)
            var entry = SeriesSummary(
                series: key, unit: group[0].unit, direction: group[0].direction, accelerator: group[0].accelerator, summary: summary)
            entry.stopReason = stopReasons[key] ?? .fixedRuns
            entry.relativeHalfWidth = Precision.relativeHalfWidth(values)
            if key.backend != "native", let native = nativeCounterpart(key, in: groups)?.map(\.value), !native.isEmpty {
                let nativeMedian = Quantile.of(sorted: native.sorted(), 0.5)
                // A ratio means something only between positive figures (a MemAvailable drop
                // can be negative: the host gained memory meanwhile).
                if nativeMedian > 0 && summary.median > 0 {
                    entry.ratioToNative = summary.median / nativeMedian
                    entry.ratioToNativeCI95 = Bootstrap.ratioOfMediansInterval(values, native, seed: seriesSeed)
                }
            }
            summaries.append(entry)
            let expected = switch key.workload {
            case "memory": 0
            case "disk", "density": 1
            case let w where Workloads.throughput.contains(w):
                min(suite.throughputSettings.runs(for: key.backend), suite.runs(for: key.backend))
            default: suite.runs(for: key.backend)
            }
            warnings += Warning.about(key, values: values, summary: summary, expected: expected)
            if group.contains(where: { $0.components?[DiskIOWorkload.coarseClock] == 1 }) {
                warnings.append(Warning(.coarseClock, series: key,
                    "timed by a jiffies clock in the instance (no usable TSC or kvm-clock): latencies are multiples of a tick, a p50 of 0 means under one tick"))
            }
            // Bytes on disk are the same under any accelerator; times and memory are not.
            if group[0].accelerator == "tcg" && key.workload != "disk" {
                let what = Workloads.throughput.contains(key.workload)
                    ? "throughput of an emulated CPU and devices (TCG), not what the guest would do under KVM"
                    : "measured in a guest under TCG (software emulation), not what KVM would give"
                warnings.append(Warning(.emulated, series: key, what))
            }
        }
        return (summaries, warnings)
    }

    /// Native's series to normalise `key` by: the same metric, or, for what native does not
    /// have, its nearest: a network path (bridge, published) against native's loopback (`host:`),
    /// a volume against native's own file system (`root:`).
    static func nativeCounterpart(_ key: SeriesKey, in groups: [SeriesKey: [Sample]]) -> [Sample]? {
        if let same = groups[SeriesKey(workload: key.workload, metric: key.metric, backend: "native")] { return same }
        for (prefix, native) in [("bridge:", "host:"), ("published:", "host:"), ("volume:", "root:")] where key.metric.hasPrefix(prefix) {
            return groups[SeriesKey(workload: key.workload, metric: native + key.metric.dropFirst(prefix.count), backend: "native")]
        }
        return nil
    }
}

extension String {
    /// FNV-1a: a hash that is the same in every process (Swift's `hashValue` is seeded per run).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
