#if canImport(Glibc)
import Glibc
#endif

/// A backend's median against native's, in words that say which way it goes: "3.2x slower",
/// "1.44x more memory", "26% of native's rate". A bare "0.694x" for "uses 1.44x more" or
/// "7.79e-04x" for a VM asks the reader to invert it in their head, and gets it wrong.
public enum NativeRatio {
    /// Nil when either median is zero or negative (a MemAvailable drop can be): no ratio of them
    /// means anything.
    public static func words(mine: Double, native: Double, unit: MetricUnit, direction: Direction) -> String? {
        guard mine > 0, native > 0, mine.isFinite, native.isFinite else { return nil }
        let r = mine / native
        if direction == .higherIsBetter {
            return r >= 1 ? "\(figure(r))x native's rate" : "\(figure(100 * r))% of native's rate"
        }
        if abs(r - 1) < 0.005 { return "same as native" }
        let (more, less) = unit == .milliseconds ? ("slower", "faster") : unit == .bytes ? ("more", "less") : ("higher", "lower")
        return r > 1 ? "\(figure(r))x \(more)" : "\(figure(1 / r))x \(less)"
    }

    /// About three significant digits, never in exponent form.
    static func figure(_ x: Double) -> String {
        if x >= 100 { return String(Int(x.rounded())) }
        let digits = x >= 10 ? 1 : 2
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        var s = "\((x * scale).rounded() / scale)"
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}
