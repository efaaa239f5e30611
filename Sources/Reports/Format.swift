import BenchmarkResults
import Foundation

/// Numbers as reports write them: a few significant digits and always the unit.
public enum Format {
    /// `x` with about three significant digits.
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : x < 0 ? "-∞" : "n/a" }
        let a = abs(x)
        if a == 0 { return "0" }
        if a >= 100 { return String(format: "%.0f", x) }
        if a >= 10 { return String(format: "%.1f", x) }
        if a >= 1 { return String(format: "%.2f", x) }
        if a >= 0.001 { return String(format: "%.3g", x) }
        return String(format: "%.2e", x)
    }

    /// A count derived by division (how many instances fit): the whole number when it is one an
    /// `Int` holds, else ``number(_:)``; a near-zero divisor must not trap the report.
    public static func whole(_ x: Double) -> String {
        x.isFinite && abs(x) < 1e18 ? String(Int(x)) : number(x)
    }

    /// A value with its unit; bytes in KiB, MiB or GiB.
    public static func value(_ x: Double, _ unit: MetricUnit) -> String {
        switch unit {
        case .bytes: return bytes(x)
        case .count: return number(x)
        default: return "\(number(x)) \(unit.symbol)"
        }
    }

    public static func bytes(_ x: Double) -> String {
        let a = abs(x), kib = 1024.0
        if a >= kib * kib * kib { return "\(number(x / (kib * kib * kib))) GiB" }
        if a >= kib * kib { return "\(number(x / (kib * kib))) MiB" }
        if a >= kib { return "\(number(x / kib)) KiB" }
        return "\(number(x)) B"
    }

    public static func percent(_ x: Double) -> String { "\(number(100 * x))%" }

    public static func signedPercent(_ x: Double) -> String {
        guard x.isFinite else { return number(x) }
        return (x >= 0 ? "+" : "") + "\(number(100 * x))%"
    }

    public static func pValue(_ p: Double) -> String { p < 0.0001 ? "<0.0001" : String(format: "%.4f", p) }

    /// A summary's spread as reports write it: median (IQR, n), or median (range, n) below
    /// ``Summary/minimumForInference`` samples, where quartiles of three values mean little.
    public static func summary(_ s: Summary, _ unit: MetricUnit) -> String {
        if s.count == 1 { return "\(value(s.median, unit)) (n=1)" }
        return s.count < Summary.minimumForInference
            ? "\(value(s.median, unit)) (range \(value(s.min, unit)) – \(value(s.max, unit)), n=\(s.count))"
            : "\(value(s.median, unit)) (IQR \(value(s.p25, unit)) – \(value(s.p75, unit)), n=\(s.count))"
    }

    /// A series' median, or what it is when the clock cannot resolve it: a latency whose median
    /// is below one step of a quantised series, or 0, is "below the clock's resolution".
    public static func median(_ values: [Double], _ unit: MetricUnit) -> String {
        let m = Quantile.of(sorted: values.sorted(), 0.5)
        guard unit == .milliseconds else { return value(m, unit) }
        if let q = Quantisation.detect(values), m < q.step {
            return "below the clock's resolution (< \(value(q.step, unit)))"
        }
        if m == 0 { return "below the clock's resolution (0 \(unit.symbol) read)" }
        return value(m, unit)
    }
}

/// Plain-text tables with aligned columns, for terminals.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces + "\n"
        }
        return line(header) + line(widths.map { String(repeating: "-", count: $0) }) + rows.map(line).joined()
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
