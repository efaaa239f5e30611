#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time for records and image history (phases use ``MonotonicInstant`` instead).
public enum WallClock {
    /// Seconds since the Unix epoch.
    public static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// RFC 3339 in UTC with nanoseconds, as the OCI image-spec writes `created`.
    public static func rfc3339(_ unix: Double = now) -> String {
        var seconds = time_t(unix.rounded(.down))
        let nanos = Int((unix - Double(seconds)) * 1e9)
        var tm = tm()
        gmtime_r(&seconds, &tm)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let frac = String(nanos)
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2))."
            + String(repeating: "0", count: max(0, 9 - frac.count)) + frac + "Z"
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
