#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore

/// Where a run is: on a terminal one live line (workload, backend, done/total, ETA), otherwise
/// one plain line per step, on standard error so that standard output stays the summary.
struct Progress {
    private(set) var total: Int
    private(set) var done = 0
    let started = MonotonicInstant.now
    let live = isatty(2) == 1

    init(total: Int) { self.total = max(total, 1) }

    mutating func step(_ workload: String, _ backend: String, round: Int, warmup: Bool) {
        done += 1
        let elapsed = MonotonicInstant.now.duration(since: started).milliseconds / 1000
        let eta = done > 0 ? elapsed / Double(done) * Double(max(total - done, 0)) : 0
        let line = "[\(workload)] \(backend) round \(round + 1)\(warmup ? " (warm-up)" : "") \(done)/\(total), ETA \(Self.clock(eta))"
        if live {
            StandardStreams.writeError("\r\u{1B}[K" + line)
        } else {
            StandardStreams.writeError(line + "\n")
        }
    }

    /// Rounds the precision rule adds, planned one batch at a time.
    mutating func plan(more rounds: Int) { total += rounds }

    func note(_ text: String) {
        StandardStreams.writeError((live ? "\r\u{1B}[K" : "") + text + "\n")
    }

    func finish() { if live { StandardStreams.writeError("\r\u{1B}[K") } }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format2: s % 60))s" : "\(s)s"
    }
}

extension String {
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
