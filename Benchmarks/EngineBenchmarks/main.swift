// engine-run-benchmark: `intermodal run --rm IMAGE true` end to end (CLI start, snapshot, container,
// cleanup) against `runc run` on an already unpacked bundle of the same rootfs, interleaved in the
// same run so both see the same host load; plus the engine in-process with its phase breakdown.
//
//   swift build -c release --product intermodal --product engine-run-benchmark
//   .build/release/engine-run-benchmark [RUNS] [RESULT.json]   (root; runc installed)
#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import Foundation
import ImageStore
import IntermodalCore
import SystemPackage

@main
enum EngineRunBenchmark {
    static func main() async {
        let runs = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20
        let output = CommandLine.arguments.dropFirst(2).first
        do {
            try await measure(runs: runs, output: output)
        } catch {
            StandardStreams.writeError("engine-run-benchmark: error: \(error)\n")
            exit(1)
        }
    }

    /// Raw samples, so reports can plot distributions rather than one number.
    struct Result: Codable {
        var benchmark = "engine-run: `intermodal run --rm busybox true` vs `runc run` (unpacked bundle), interleaved"
        var runs: Int
        var loadAverageBefore: String
        var loadAverageAfter: String
        var intermodalCLISeconds: [Double]
        var runcSeconds: [Double]
        var engineInProcessSeconds: [Double]
        var engineInProcessPhaseSeconds: [String: [Double]]
        var ratioOfMediansCLIToRunc: Double
        var ratioOfMediansInProcessToRunc: Double
    }

    static var loadAverage: String {
        ((try? FileSystem.readString("/proc/loadavg")) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func measure(runs: Int, output: String?) async throws {
        let loadBefore = loadAverage
        let intermodal = executableDirectory.appending("intermodal")
        guard access(intermodal.string, X_OK) == 0 else {
            throw IntermodalError(.notFound, "\(intermodal) not built (swift build --product intermodal in the same configuration)")
        }
        guard let runc = HostCommand.find("runc") else { throw IntermodalError(.notFound, "runc is not installed") }
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-engine-bench")
        defer { try? FileSystem.removeTree(root) }
        let engine = try Engine(root: root)
        let image = try await engine.store.bootstrapBusybox(name: try ImageReference.parse("busybox:bench"))

        // The same rootfs, unpacked once, as runc's bundle (runc's own default config, args `true`).
        let bundle = root.appending("runc-bundle")
        try await engine.store.flatten(image, into: bundle.appending("rootfs"))
        try await HostCommand.check(runc.string, ["spec", "--bundle", bundle.string])
        let configURL = URL(fileURLWithPath: bundle.appending("config.json").string)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        process["args"] = ["true"]
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)

        let cli = [intermodal.string, "run", "--rm", "--root", root.string, "busybox:bench", "true"]
        func runcCommand(_ i: Int) -> [String] { [runc.string, "run", "--bundle", bundle.string, "intermodal-bench-\(getpid())-\(i)"] }
        // Warm-up (page cache, unpacked layer cache): not counted.
        _ = try spawnAndWait(cli)
        _ = try spawnAndWait(runcCommand(0))
        _ = try await engine.run(image: "busybox:bench", options: RunOptions(command: ["true"], autoRemove: true), output: .inherit)

        var ours: [Double] = [], theirs: [Double] = [], library: [Double] = []
        var phases: [String: [Double]] = [:]
        for i in 1...runs {
            ours.append(try spawnAndWait(cli))
            theirs.append(try spawnAndWait(runcCommand(i)))
            let outcome = try await engine.run(
                image: "busybox:bench", options: RunOptions(command: ["true"], autoRemove: true), output: .inherit)
            let t = outcome.timestamps
            library.append(t.duration(from: .snapshot, to: .cleanup)!.seconds)
            for (name, from, to) in [("snapshot->create", Phase.snapshot, Phase.create), ("create->start", .create, .start),
                                     ("start->exit", .start, .exit), ("exit->cleanup", .exit, .cleanup)] {
                phases[name, default: []].append(t.duration(from: from, to: to)!.seconds)
            }
        }
        let ratio = median(ours) / median(theirs)
        var report = """
            n=\(runs) each, interleaved; busybox rootfs (\(image.layers.count) layer)
            intermodal run --rm busybox true (CLI, end to end): median \(ms(median(ours))) min \(ms(ours.min()!)) max \(ms(ours.max()!))
            runc run (bundle already unpacked):                 median \(ms(median(theirs))) min \(ms(theirs.min()!)) max \(ms(theirs.max()!))
            Engine.run in-process (snapshot->cleanup):          median \(ms(median(library))) min \(ms(library.min()!)) max \(ms(library.max()!))
            ratio of medians (CLI / runc): \(String(format: "%.2f", ratio)) (target <= 1.00); in-process / runc: \(String(format: "%.2f", median(library) / median(theirs)))
            load average before: \(loadBefore)
            in-process phases (medians):
            """
        for name in ["snapshot->create", "create->start", "start->exit", "exit->cleanup"] {
            report += "\n  \(name): \(ms(median(phases[name]!)))"
        }
        StandardStreams.writeOutput(report + "\n")
        if let output {
            let result = Result(
                runs: runs, loadAverageBefore: loadBefore, loadAverageAfter: loadAverage,
                intermodalCLISeconds: ours, runcSeconds: theirs, engineInProcessSeconds: library,
                engineInProcessPhaseSeconds: phases, ratioOfMediansCLIToRunc: ratio,
                ratioOfMediansInProcessToRunc: median(library) / median(theirs))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: output))
            StandardStreams.writeOutput("wrote \(output)\n")
        }
    }

    /// Wall time of a program from spawn to exit (stdio to /dev/null), in seconds.
    static func spawnAndWait(_ argv: [String]) throws -> Double {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let start = MonotonicInstant.now
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw IntermodalError.system("cannot start \(argv[0])", errno: rc) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let elapsed = MonotonicInstant.now.duration(since: start).seconds
        guard status == 0 else { throw IntermodalError(.externalFailure, "\(argv.joined(separator: " ")) failed (wait status \(status))") }
        return elapsed
    }

    static var executableDirectory: FilePath {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink("/proc/self/exe", &buffer, 4096)
        return FilePath(String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)).removingLastComponent()
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
