/// Sizes as command lines give them, read one way for every flag that takes one (`run --memory`,
/// `--max-layer-size`, `vm run --memory`): digits, then optionally a unit `k`, `m`, `g` or `t`
/// (powers of 1024, as Docker reads them) with or without a trailing `b`, or `b` alone for bytes.
/// Case does not matter.
public enum ByteSize {
    /// The size in bytes; a bare number counts `bareUnit` bytes (1: bytes, as Docker's `--memory`;
    /// `1 << 20`: MiB, as `vm run --memory 512`). Nil when malformed, not positive or too large.
    public static func parse(_ text: String, bareUnit: Int64 = 1) -> Int64? {
        var digits = Substring(text.lowercased())
        var factor = bareUnit
        if digits.count > 1, digits.last == "b" {
            digits.removeLast()
            factor = 1
        }
        let shifts: [Character: Int64] = ["k": 10, "m": 20, "g": 30, "t": 40]
        if let last = digits.last, let shift = shifts[last] {
            digits.removeLast()
            factor = Int64(1) << shift
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits), n > 0 else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }

    /// `16 GiB`, `512 MiB`, or bytes: the largest unit that divides the size.
    public static func describe(_ bytes: Int64) -> String {
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= Int64(1) << shift && bytes % (Int64(1) << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
