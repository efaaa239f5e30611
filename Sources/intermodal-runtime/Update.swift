#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// `update`: new limits for a running container, from OCI `linux.resources` JSON (a file, or
/// `-` for stdin: docker update and containerd's shim) or runc's individual flags.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change the resource limits of a running container.")
    @Option(name: [.short, .long], help: "linux.resources JSON from this file, or - for stdin; the other options are then ignored.")
    var resources: String?
    @Option(name: .long, help: "Block I/O weight (10-1000).") var blkioWeight: UInt16?
    @Option(name: .long, help: "CPU CFS period, microseconds.") var cpuPeriod: UInt64?
    @Option(name: .long, help: "CPU CFS quota, microseconds per period (-1: none).") var cpuQuota: Int64?
    @Option(name: .long, help: "CPU burst, microseconds.") var cpuBurst: UInt64?
    @Option(name: .long, help: "Realtime period, microseconds.") var cpuRtPeriod: UInt64?
    @Option(name: .long, help: "Realtime runtime, microseconds per period.") var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpu-share"), help: "CPU shares (relative weight).") var cpuShare: UInt64?
    @Option(name: .long, help: "CPUs to use (0-3,7).") var cpusetCpus: String?
    @Option(name: .long, help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .long, help: "Memory limit, bytes (k, m, g suffixes; -1: none).") var memory: String?
    @Option(name: .long, help: "Memory soft limit, bytes.") var memoryReservation: String?
    @Option(name: .long, help: "Memory + swap limit, bytes (-1: none).") var memorySwap: String?
    @Option(name: .long, help: "Maximum number of processes (-1: none).") var pidsLimit: Int64?
    @Option(name: .long, help: "Intel RDT L3 cache schema: not supported.") var l3CacheSchema: String?
    @Option(name: .long, help: "Intel RDT memory bandwidth schema: not supported.") var memBwSchema: String?
    @Argument(help: "The container ID.") var id: String

    func run() {
        perform { () throws(IntermodalError) in
            guard l3CacheSchema == nil && memBwSchema == nil else {
                throw IntermodalError(.unsupported, "--l3-cache-schema and --mem-bw-schema need Intel RDT, which this runtime does not drive")
            }
            try Global.runtime.update(id: id, resources: try requested())
        }
    }

    func requested() throws(IntermodalError) -> Spec.LinuxResources {
        if let resources {
            let bytes = resources == "-" ? StandardStreams.readInput() : try FileSystem.readBytes(FilePath(resources))
            return try Spec.decodePart(Spec.LinuxResources.self, bytes, source: resources == "-" ? "--resources (stdin)" : "--resources \(resources)")
        }
        var r = Spec.LinuxResources()
        if memory != nil || memoryReservation != nil || memorySwap != nil {
            var m = Spec.Memory()
            m.limit = try memory.map { v throws(IntermodalError) in try Self.bytes(v, "--memory") }
            m.reservation = try memoryReservation.map { v throws(IntermodalError) in try Self.bytes(v, "--memory-reservation") }
            m.swap = try memorySwap.map { v throws(IntermodalError) in try Self.bytes(v, "--memory-swap") }
            r.memory = m
        }
        if cpuPeriod != nil || cpuQuota != nil || cpuBurst != nil || cpuRtPeriod != nil || cpuRtRuntime != nil
            || cpuShare != nil || cpusetCpus != nil || cpusetMems != nil {
            var c = Spec.CPU()
            c.period = cpuPeriod
            c.quota = cpuQuota
            c.burst = cpuBurst
            c.realtimePeriod = cpuRtPeriod
            c.realtimeRuntime = cpuRtRuntime
            c.shares = cpuShare
            c.cpus = cpusetCpus
            c.mems = cpusetMems
            r.cpu = c
        }
        if let pidsLimit { r.pids = Spec.Pids(limit: pidsLimit) }
        if let blkioWeight {
            var b = Spec.BlockIO()
            b.weight = blkioWeight
            r.blockIO = b
        }
        return r
    }

    /// A byte count as runc's update takes it: a number with an optional binary k/m/g/t suffix
    /// (b, kb, mb, ... too), or -1 for no limit.
    static func bytes(_ text: String, _ flag: String) throws(IntermodalError) -> Int64 {
        if text == "-1" { return -1 }
        var digits = text.lowercased()
        if digits.hasSuffix("b") { digits.removeLast() }
        var scale: Int64 = 1
        if let last = digits.last, let power = "kmgt".firstIndex(of: last) {
            scale = Int64(1) << (10 * ("kmgt".distance(from: "kmgt".startIndex, to: power) + 1))
            digits.removeLast()
        }
        guard let n = Int64(digits), n >= 0, n <= Int64.max / scale else {
            throw IntermodalError(.invalidArgument, "\(flag) \(text): not a byte count (a number, optionally with k, m, g or t)")
        }
        return n * scale
    }
}
