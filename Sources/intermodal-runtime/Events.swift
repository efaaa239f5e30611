#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ContainerRuntime
import IntermodalCore

/// `events`: the container's statistics as runc prints them (types/events.go: one JSON event a
/// line, `{"type":"stats","id":...,"data":{...}}`), once with --stats, else every --interval
/// until the container stops, with `{"type":"oom","id":...}` when the OOM killer struck since
/// the last look (the cgroup's oom_kill count went up).
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Print a container's resource statistics as JSON events.")
    @Flag(name: .long, help: "Print the statistics once and exit.") var stats = false
    @Option(name: .long, help: "How often to print them (Go duration: 500ms, 5s, 1m).") var interval: String = "5s"
    @Argument(help: "The container ID.") var id: String

    struct Event: Encodable { var type = "stats"; var id: String; var data: Data? }
    struct Data: Encodable { var cpu: CPU; var memory: Memory; var pids: Pids; var blkio: Blkio }
    struct CPU: Encodable { var usage: Usage }
    struct Usage: Encodable { var total, kernel, user: UInt64 }
    struct Memory: Encodable { var usage: MemoryEntry }
    struct MemoryEntry: Encodable { var limit: UInt64 = 0; var usage: UInt64; var max: UInt64; var failcnt: UInt64 = 0 }
    struct Pids: Encodable { var current: UInt64 }
    struct Blkio: Encodable { var ioServiceBytesRecursive: [Entry] }
    struct Entry: Encodable { var op: String; var value: UInt64 }

    func run() {
        perform { () throws(IntermodalError) in
            let period = try Self.duration(interval)
            let rt = Global.runtime
            var oomKills: UInt64?
            while true {
                let s: CgroupStats
                do throws(IntermodalError) { s = try rt.stats(id: id) } catch {
                    // Stopped since the last look: the stream ends, as runc's does.
                    if !stats, (try? rt.state(id: id))?.status ?? .stopped == .stopped { return }
                    throw error
                }
                if let seen = oomKills, let now = s.oomKills, now > seen {
                    StandardStreams.writeOutput(String(decoding: try JSON.encode(Event(type: "oom", id: id, data: nil)), as: UTF8.self) + "\n")
                }
                oomKills = s.oomKills
                let data = Data(
                    cpu: CPU(usage: Usage(total: s.cpuUsageNanoseconds ?? 0, kernel: s.cpuSystemNanoseconds ?? 0,
                                          user: s.cpuUserNanoseconds ?? 0)),
                    memory: Memory(usage: MemoryEntry(usage: s.memoryUsage ?? 0, max: s.memoryMaxUsage ?? 0)),
                    pids: Pids(current: s.pidsCurrent ?? 0),
                    blkio: Blkio(ioServiceBytesRecursive: [
                        Entry(op: "Read", value: s.ioReadBytes ?? 0), Entry(op: "Write", value: s.ioWriteBytes ?? 0),
                    ]))
                StandardStreams.writeOutput(String(decoding: try JSON.encode(Event(id: id, data: data)), as: UTF8.self) + "\n")
                if stats { return }
                usleep(UInt32(min(period, 4_000_000_000) / 1000))
                if (try? rt.state(id: id))?.status == .stopped { return }
            }
        }
    }

    /// A Go duration ("500ms", "5s", "1m", "1h") in nanoseconds.
    static func duration(_ text: String) throws(IntermodalError) -> UInt64 {
        let units: [(String, UInt64)] = [("ms", 1_000_000), ("us", 1000), ("ns", 1), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let n = UInt64(text.dropLast(suffix.count)), n > 0 { return n * scale }
        }
        throw IntermodalError(.invalidArgument, "--interval \(text): not a positive duration such as 500ms, 5s or 1m")
    }
}
