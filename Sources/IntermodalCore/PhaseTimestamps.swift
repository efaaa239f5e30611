#if canImport(Glibc)
import Glibc
#endif

/// A point on the host's monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds.
///
/// Monotonic time is shared by every process on the host, so a timestamp taken inside
/// `intermodal-runtime`, in the harness, or relayed from a VM's host side can be compared directly.
public struct MonotonicInstant: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Now, read from `CLOCK_MONOTONIC`.
    public static var now: MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Signed distance from `earlier` to `self`.
    public func duration(since earlier: MonotonicInstant) -> Duration {
        .nanoseconds(Int64(bitPattern: nanoseconds &- earlier.nanoseconds))
    }

    public var description: String { "\(nanoseconds)ns" }

    public init(from decoder: any Decoder) throws {
        nanoseconds = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(nanoseconds)
    }
}

/// A named phase of a lifecycle whose start a module records for the harness.
///
/// The common ones are constants; a module may define its own (a VM's `kernelStart`).
public struct Phase: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }
    public var description: String { rawValue }

    /// The create call was entered.
    public static let create = Phase("create")
    /// Set-up finished and the user process was released (or asked to be).
    public static let start = Phase("start")
    /// The first byte of the workload's output reached us.
    public static let firstOutput = Phase("firstOutput")
    /// The workload exited (as observed by its parent or reported by the guest).
    public static let exit = Phase("exit")
    /// Every resource (mounts, cgroups, disks, domains) was released.
    public static let cleanup = Phase("cleanup")
}

/// Timestamps of the phases of one run, as recorded by the library that ran it.
///
/// Libraries record phases as they pass them, so a harness never has to time from outside.
public struct PhaseTimestamps: Sendable, Codable, Equatable {
    public private(set) var marks: [String: MonotonicInstant] = [:]

    public init() {}

    /// Records `phase` at `instant` (now by default). The first record of a phase wins.
    public mutating func mark(_ phase: Phase, at instant: MonotonicInstant = .now) {
        if marks[phase.rawValue] == nil { marks[phase.rawValue] = instant }
    }

    public subscript(_ phase: Phase) -> MonotonicInstant? { marks[phase.rawValue] }

    /// Time from one phase to another, if both were recorded.
    public func duration(from a: Phase, to b: Phase) -> Duration? {
        guard let x = self[a], let y = self[b] else { return nil }
        return y.duration(since: x)
    }

    /// Merges another set of marks in (those already present are kept).
    public mutating func merge(_ other: PhaseTimestamps) {
        marks.merge(other.marks) { mine, _ in mine }
    }
}
