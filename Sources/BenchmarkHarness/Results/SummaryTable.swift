import BenchmarkResults

/// The table `intermodal bench --all-series` prints: per workload and metric, each backend's
/// median with its 95% interval (none below 5 samples) and n, and how it compares with native,
/// in words that say which way (`3.2x slower`, `26% of native's rate`), with the ratio's interval.
public enum SummaryTable {
    public static func render(_ results: ResultsFile) -> String {
        var lines: [String] = []
        let header = ["workload/metric", "backend", "median", "95% CI", "n", "against native", "ratio 95% CI", "why this n"]
        var rows: [[String]] = []
        for s in results.summaries {
            let unit = s.unit
            let nested = s.accelerator == "kvm" && results.environment.nestedKVM
            let name = s.accelerator == "tcg" ? "\(s.series.backend) (TCG)" : nested ? "\(s.series.backend) (KVM, nested)" : s.series.backend
            rows.append([
                "\(s.series.workload)/\(s.series.metric)", name, format(s.summary.median, unit),
                s.summary.medianCI95.map { "\(format($0.low, unit)) - \(format($0.high, unit))" } ?? "-",
                "\(s.summary.count)",
                s.ratioToNative.flatMap { NativeRatio.words(mine: $0, native: 1, unit: unit, direction: s.direction) } ?? "-",
                s.ratioToNativeCI95.map { "\(ratio($0.low)) - \(ratio($0.high))" } ?? "-",
                s.stopReason?.rawValue ?? "-",
            ])
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.append(line(header))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines += rows.map(line)
        for b in results.backends where b.state != .measured {
            lines.append("\(b.name): \(b.state.rawValue): \(b.reason ?? "")")
        }
        for b in results.backends { for a in b.adjustments { lines.append("\(b.name): \(a)") } }
        if results.summaries.contains(where: { $0.accelerator == "tcg" }) {
            lines.append("(TCG): measured in a guest under software emulation, not what KVM would give on a host where it works.")
        }
        if results.environment.nestedKVM && results.summaries.contains(where: { $0.accelerator == "kvm" }) {
            lines.append("(KVM, nested): guests ran under KVM on a host that is itself a virtual machine; "
                + "the figures show the KVM path works, not what KVM costs on bare metal.")
        }
        if let o = results.harnessOverhead {
            lines.append("harness overhead per sample (spawn to exit of /bin/true natively): median \(format(o.median, .milliseconds)), n=\(o.count)")
        }
        for w in results.warnings { lines.append("warning: \(w)") }
        if results.interrupted { lines.append("interrupted: the figures above are what was measured before SIGINT") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func ratio(_ x: Double) -> String { short(x, digits: 2) + "x" }

    static func format(_ value: Double, _ unit: MetricUnit) -> String {
        switch unit {
        case .milliseconds: return short(value, digits: value < 10 ? 2 : 1) + " ms"
        case .bytes:
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var v = value, i = 0
            while abs(v) >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
            return short(v, digits: 1) + " " + units[i]
        default: return short(value, digits: 1) + (unit.symbol.isEmpty ? "" : " " + unit.symbol)
        }
    }

    static func short(_ x: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (x * scale).rounded() / scale
        var s = "\(r)"
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}

extension String {
    func padding(toLength n: Int, withPad pad: String, startingAt _: Int) -> String {
        count >= n ? self : self + String(repeating: pad, count: n - count)
    }
}
