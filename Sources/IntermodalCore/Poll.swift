#if canImport(Glibc)
import Glibc
#endif

/// The one way to wait for a condition against a deadline: check, and if it does not hold yet,
/// sleep and check again until `limit` has passed on the monotonic clock. The condition is always
/// checked once more at the deadline, so a slow last sleep does not turn a success into a timeout.
///
/// The async form sleeps with `Task.sleep` (it never blocks the concurrency pool's threads) and
/// stops early when its task is cancelled; the blocking form is for code that already runs on a
/// thread of its own (``DedicatedThread``) or before the runtime has a concurrency pool.
public enum Poll {
    /// How the pause between checks grows: `first`, doubled after each check up to `longest`.
    public struct Interval: Sendable {
        public var first: Duration
        public var longest: Duration
        public static func every(_ d: Duration) -> Interval { Interval(first: d, longest: d) }
        /// From `first`, doubling up to `longest`: for what is usually over at once (a killed
        /// process leaves within tens of microseconds) but may take long.
        public static func backingOff(from first: Duration, to longest: Duration) -> Interval {
            Interval(first: first, longest: longest)
        }
    }

    /// The first value `condition` gives within `limit`, or nil when the deadline passed (or the
    /// task was cancelled) without one.
    public static func firstValue<T, E: Error>(
        _ limit: Duration, _ interval: Interval, isolation: isolated (any Actor)? = #isolation,
        _ condition: () async throws(E) -> T?
    ) async throws(E) -> T? {
        let start = MonotonicInstant.now
        var pause = interval.first
        while true {
            if let value = try await condition() { return value }
            let left = limit - MonotonicInstant.now.duration(since: start)
            if left <= .zero || Task.isCancelled { return nil }
            try? await Task.sleep(for: min(pause, left))
            pause = min(pause * 2, interval.longest)
        }
    }

    /// ``firstValue(_:_:_:)`` for a condition that holds or not: whether it held in time.
    public static func until<E: Error>(
        _ limit: Duration, _ interval: Interval, isolation: isolated (any Actor)? = #isolation,
        _ condition: () async throws(E) -> Bool
    ) async throws(E) -> Bool {
        try await firstValue(limit, interval, isolation: isolation) { () throws(E) -> Bool? in try await condition() ? true : nil } ?? false
    }

    /// The blocking form, sleeping with `nanosleep`.
    public static func blockingFirstValue<T, E: Error>(
        _ limit: Duration, _ interval: Interval, _ condition: () throws(E) -> T?
    ) throws(E) -> T? {
        let start = MonotonicInstant.now
        var pause = interval.first
        while true {
            if let value = try condition() { return value }
            let left = limit - MonotonicInstant.now.duration(since: start)
            if left <= .zero { return nil }
            sleep(min(pause, left))
            pause = min(pause * 2, interval.longest)
        }
    }

    /// ``blockingFirstValue(_:_:_:)`` for a condition that holds or not.
    public static func blockingUntil<E: Error>(
        _ limit: Duration, _ interval: Interval, _ condition: () throws(E) -> Bool
    ) throws(E) -> Bool {
        try blockingFirstValue(limit, interval) { () throws(E) -> Bool? in try condition() ? true : nil } ?? false
    }

    private static func sleep(_ d: Duration) {
        let (seconds, attoseconds) = d.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var left = timespec()
        while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
    }
}
