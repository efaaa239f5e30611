#if canImport(Glibc)
import Glibc
#endif

/// One process's line of `/proc/PID/stat` (proc(5)): the project's one reader of it. It reads
/// with one `read(2)` into a stack-sized buffer, without Foundation, because the runtime calls it
/// on its start-up path.
public struct ProcessStat: Sendable, Equatable {
    /// Field 3: R running, S sleeping, D disk sleep, Z zombie, T stopped, X dead, ...
    public var state: Character
    /// Field 4.
    public var parent: Int32
    /// Fields 14 and 15: clock ticks in user and kernel mode, summed over the process's threads.
    public var userTicks: UInt64
    public var systemTicks: UInt64
    /// Field 22: clock ticks since boot when the process started; tells a reused pid apart.
    public var startTime: UInt64

    /// The process's line, or nil when it is gone or unreadable.
    public static func read(_ pid: Int32) -> ProcessStat? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 2048)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return parse(buf[0..<n])
    }

    /// Parses a stat line. The command name (field 2) may hold spaces and ')': the fields after it
    /// start after the last ')'.
    public static func parse(_ line: ArraySlice<UInt8>) -> ProcessStat? {
        guard let close = line.lastIndex(of: UInt8(ascii: ")")), close + 2 < line.endIndex else { return nil }
        let fields = line[(close + 2)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3, so field k is fields[k - 3].
        func number<T: FixedWidthInteger>(_ field: Int, _: T.Type) -> T? {
            fields.count > field - 3 ? T(String(decoding: fields[field - 3], as: UTF8.self)) : nil
        }
        guard let first = fields.first?.first, let parent = number(4, Int32.self), let user = number(14, UInt64.self),
              let system = number(15, UInt64.self), let start = number(22, UInt64.self) else { return nil }
        return ProcessStat(state: Character(UnicodeScalar(first)), parent: parent, userTicks: user, systemTicks: system,
                           startTime: start)
    }

    /// A zombie or a dead task: it has ended, whether or not it was reaped.
    public var hasEnded: Bool { state == "Z" || state == "X" }

    /// CPU time used so far, user and kernel, in all its threads.
    public var cpuTime: Duration {
        let hertz = UInt64(Swift.max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return .milliseconds(Int64((userTicks + systemTicks) * 1000 / hertz))
    }

    /// True when `pid` is alive (not a zombie) and is the process that started at `startTime`.
    public static func isAlive(_ pid: Int32, startTime: UInt64) -> Bool {
        guard let s = read(pid) else { return false }
        return s.startTime == startTime && !s.hasEnded
    }

    /// Nanoseconds the process's main thread has spent on a CPU (the first field of
    /// `/proc/PID/schedstat`): finer than the stat line's clock ticks.
    public static func onCPUNanoseconds(_ pid: Int32) -> UInt64? {
        let fd = open("/proc/\(pid)/schedstat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let end = buf[0..<n].firstIndex(of: UInt8(ascii: " ")) else { return nil }
        return UInt64(String(decoding: buf[0..<end], as: UTF8.self))
    }
}
