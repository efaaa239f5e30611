import BenchmarkResults
import ImageStore
import IntermodalCore
import SystemPackage

/// Disk I/O: fio 4 KiB random read and write (IOPS, p50 and p99 completion latency) and 1 MiB
/// sequential read and write (MB/s), one job after the other on one file, in the instance's root
/// file system (overlayfs for most containers, the guest's virtio disk) and, where the backend
/// has volumes, on a bind-mounted host directory. Direct I/O where the file system takes it;
/// where it does not (the run is refused with EINVAL), buffered I/O, and the samples say so
/// (`direct` = 0). The file size and the run time per job come from the suite. Latencies are
/// timed by `clock_gettime`; where the instance's clock source is a jiffies clock (a guest under
/// TCG), the latency samples are marked ``coarseClock`` and the results warn about them.
public struct DiskIOWorkload: ThroughputWorkload {
    public let name = "disk-io"
    public init() {}


    /// The component that marks latencies timed by a jiffies clock.
    public static let coarseClock = "coarseClock"

    static let jobs: [(name: String, rw: String, bs: String)] = [
        ("4k-randread", "randread", "4k"), ("4k-randwrite", "randwrite", "4k"),
        ("1m-seqread", "read", "1M"), ("1m-seqwrite", "write", "1M"),
    ]

    public func measure(on backend: any Backend, _ round: Round) async throws(IntermodalError) -> [Sample] {
        var samples = try await measure(on: backend, round, target: .root, directory: "/var/tmp/intermodal-fio", volume: nil)
        if let b = backend as? any ThroughputCapable, b.diskTargets[.volume] != nil {
            let volume = round.scratch.appending("\(backend.name)-volume")
            try? FileSystem.removeTree(volume)
            try FileSystem.createDirectory(volume)
            defer { try? FileSystem.removeTree(volume) }
            samples += try await measure(on: backend, round, target: .volume, directory: volumeMountPoint, volume: volume)
        }
        return samples
    }

    func measure(
        on backend: any Backend, _ round: Round, target: DiskTarget, directory: String, volume: FilePath?
    ) async throws(IntermodalError) -> [Sample] {
        let t = round.suite.throughputSettings
        let jobs = Self.jobs.map { "--name=\($0.name) --rw=\($0.rw) --bs=\($0.bs) --stonewall" }.joined(separator: " ")
        let common = "--filename=\(directory)/fio.dat --size=\(t.diskFileMiB)M --runtime=\(t.seconds) --time_based --ioengine=psync --clocksource=clock_gettime --output-format=json"
        // Direct I/O first; buffered when the file system refuses O_DIRECT. Marked either way.
        let script = """
            mkdir -p \(directory)
            echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
            if fio --direct=1 \(common) \(jobs) > /tmp/fio.json 2>/tmp/fio.err; then echo direct=1; \
            else echo direct=0; cat /tmp/fio.err >&2; fio --direct=0 \(common) \(jobs) > /tmp/fio.json || exit 1; fi
            cat /tmp/fio.json; rm -f \(directory)/fio.dat /tmp/fio.json /tmp/fio.err
            """
        let text = try await ToolOutput.run(script, tool: "fio", on: backend, volume: volume)
        let direct: Double = text.contains("direct=1") ? 1 : 0
        // A guest without a usable TSC or kvm-clock (TCG) falls back to a jiffies clock: every
        // latency is then a multiple of a tick (4 ms at HZ=250), and the samples say so.
        let clock = text.lineContaining("clocksource=").dropFirst("clocksource=".count)
        let coarse = clock.contains("jiffies")
        guard let start = text.firstIndex(of: "{") else {
            throw IntermodalError(.externalFailure, "fio on \(backend.name) printed no JSON: \(ToolOutput.tail(text))")
        }
        let report = try JSON.decode(FioReport.self, from: Array(text[start...].utf8), what: "fio's JSON output on \(backend.name)")
        var samples: [Sample] = []
        var extra: [String: Double] = ["direct": direct, "fileMiB": Double(t.diskFileMiB)]
        if coarse { extra[Self.coarseClock] = 1 }
        for job in Self.jobs {
            guard let r = report.jobs.first(where: { $0.jobname == job.name }) else {
                throw IntermodalError(.externalFailure, "fio on \(backend.name): no result for job \(job.name)")
            }
            let side = job.rw.contains("read") ? r.read : r.write
            let prefix = "\(target.rawValue):\(job.name)"
            if job.bs == "4k" {
                samples.append(.now(name, prefix + "-iops", backend, round, value: side.iops, unit: .iops, direction: .higherIsBetter, components: extra))
                if let p = side.clat_ns?.percentile {
                    if let p50 = p["50.000000"] { samples.append(.now(name, prefix + "-p50", backend, round, value: p50 / 1e6, unit: .milliseconds, components: extra)) }
                    if let p99 = p["99.000000"] { samples.append(.now(name, prefix + "-p99", backend, round, value: p99 / 1e6, unit: .milliseconds, components: extra)) }
                }
            } else {
                samples.append(.now(name, prefix, backend, round, value: Double(side.bw_bytes) / 1e6, unit: .megabytesPerSecond, direction: .higherIsBetter, components: extra))
            }
        }
        return samples
    }
}

/// The part of fio's `--output-format=json` the workload reads.
struct FioReport: Decodable {
    struct Job: Decodable {
        var jobname: String
        var read: Side
        var write: Side
    }
    struct Side: Decodable {
        var iops: Double
        var bw_bytes: Int64
        var clat_ns: Latency?
    }
    struct Latency: Decodable {
        var percentile: [String: Double]?
    }
    var jobs: [Job]
}
