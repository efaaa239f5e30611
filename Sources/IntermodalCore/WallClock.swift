#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time for records, image history, logs and results files (phases use
/// ``MonotonicInstant`` instead): the project's one clock of the calendar and its one RFC 3339 writer.
public enum WallClock {
    /// Seconds since the Unix epoch.
    public static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// RFC 3339 in UTC, with nanoseconds as the OCI image-spec writes `created`, or to the
    /// second (`2026-11-29T08:54:00Z`) as results files and logs do.
    public static func rfc3339(_ unix: Double = now, fraction: Bool = true) -> String {
        let seconds = Int64(unix.rounded(.down))
        let nanos = Int((unix - Double(seconds)) * 1e9)
        let (date, secondOfDay) = civil(seconds)
        let time = "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        return date + "T" + time + (fraction ? "." + pad(nanos, 9) : "") + "Z"
    }

    /// `20261129-085400`: a UTC time for file names.
    public static func fileStamp(_ unix: Double = now) -> String {
        let (date, secondOfDay) = civil(Int64(unix.rounded(.down)))
        return date.filter { $0 != "-" } + "-" + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2)
    }

    /// The UTC date (`YYYY-MM-DD`) and second of the day of Unix `seconds`.
    private static func civil(_ seconds: Int64) -> (date: String, secondOfDay: Int) {
        // The civil date by arithmetic (Howard Hinnant's days_from_civil, inverted) rather than
        // gmtime_r, whose first call in a process reads /etc/localtime although UTC needs no zone.
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        return ("\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))", secondOfDay)
    }

    private static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }

    /// "3 seconds", "2 minutes", "5 hours", "4 days": how `ps` says how long ago.
    public static func humanDuration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        switch s {
        case ..<1: return "Less than a second"
        case 1: return "1 second"
        case ..<60: return "\(s) seconds"
        case ..<120: return "About a minute"
        case ..<3600: return "\(s / 60) minutes"
        case ..<7200: return "About an hour"
        case ..<172_800: return "\(s / 3600) hours"
        default: return "\(s / 86400) days"
        }
    }
}

/// Lowercase hexadecimal, two digits a byte: the one spelling of digests and hashes.
public enum Hex {
    public static func lowercase<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
