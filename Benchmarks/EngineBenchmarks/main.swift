// engine-run-benchmark: `intermodal run --rm IMAGE true` end to end (CLI start, snapshot, container,
// cleanup) against `runc run` on an already unpacked bundle of the same rootfs, interleaved in the
// same run so both see the same host load; plus the engine in-process with its phase breakdown,
// both warm (the same process again) and cold (a fresh process per run, as the CLI is).
//
// The store and runc's bundle sit side by side in a fresh directory beside the default store
// (`/var/lib`), so both see the file system `intermodal run` uses by default: /tmp on the reference
// host has a huge directory that makes every create there cost ~10x.
//
//   swift build -c release --product intermodal && swift build -c release --product engine-run-benchmark
//   (one --product per build: given two, SwiftPM builds only the last and the CLI stays stale)
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
        if CommandLine.arguments.dropFirst().first == "--one-shot" {
            await oneShot(root: FilePath(CommandLine.arguments[2]), image: CommandLine.arguments[3])
            return
        }
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
        /// `Engine.run` as the first thing a fresh process does (timed from `main`, so without
        /// dynamic loading): what the CLI pays besides its own start-up.
        var engineFreshProcessSeconds: [Double]
        var engineFreshProcessPhaseSeconds: [String: [Double]]
        var ratioOfMediansCLIToRunc: Double
        var ratioOfMediansInProcessToRunc: Double
        var ratioOfMediansFreshProcessToRunc: Double
        /// Where the store and runc's bundle were (a directory kept between runs), and the file
        /// system under them.
        var storeRoot: String
        var storeFileSystem: String
        /// `cleanup` is marked after the container's directory is removed (`--rm`): the phases
        /// include the whole removal.
        var cleanupIncludesRemoval = true
    }

    /// The phases reported, from the engine's and the runtime's marks.
    static let phaseNames: [(String, Phase, Phase)] = [
        ("snapshot->create", .snapshot, .create), ("create->start", .create, .start),
        ("start->exit", .start, .exit), ("exit->cleanup", .exit, .cleanup),
    ]

    /// `--one-shot ROOT IMAGE`: one `run --rm IMAGE true` in this fresh process; prints
    /// `total=<s> <phase>=<s>...` with the total from `main` to cleanup.
    static func oneShot(root: FilePath, image: String) async {
        let entered = MonotonicInstant.now
        do {
            let engine = try Engine(root: root)
            let outcome = try await engine.run(
                image: image, options: RunOptions(command: ["true"], autoRemove: true), output: .inherit)
            let t = outcome.timestamps
            var line = "total=\(t[.cleanup]!.duration(since: entered).seconds) init=\(t[.snapshot]!.duration(since: entered).seconds)"
            for (name, from, to) in phaseNames { line += " \(name)=\(t.duration(from: from, to: to)!.seconds)" }
            StandardStreams.writeOutput(line + "\n")
        } catch {
            StandardStreams.writeError("engine-run-benchmark --one-shot: error: \(error)\n")
            exit(1)
        }
    }

    /// `intermodal-engine-bench` beside the default store (`/var/lib`), on its file system, kept
    /// between runs like a real store. Not a fresh one each time: on ext4 without a journal (the
    /// reference host) a deleted store's inodes count as "recently deleted" for minutes, the next
    /// new directory lands in the groups just freed, and every file created there scans past them
    /// (find_inode_bit -> recently_deleted): 0.3-0.7 ms per file instead of ~20 us.
    static func benchmarkRoot() throws(IntermodalError) -> FilePath {
        let root = IntermodalPaths.storeRoot(override: nil).removingLastComponent().appending("intermodal-engine-bench")
        try FileSystem.createDirectory(root)
        return root
    }

    /// `ext4 /dev/vda on /`: the mount that holds `path` (the longest mount point above it).
    static func fileSystem(of path: FilePath) -> String {
        guard let text = try? FileSystem.readString("/proc/self/mountinfo") else { return "unknown" }
        var best = (point: "", description: "unknown")
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            let fields = halves[0].split(separator: " ")
            guard halves.count == 2, fields.count > 4 else { continue }
            let point = String(fields[4])
            let under = point == "/" || path.string == point || path.string.hasPrefix(point + "/")
            guard under, point.count >= best.point.count else { continue }
            let rest = halves[1].split(separator: " ")
            guard rest.count >= 3 else { continue }
            best = (point, "\(rest[0]) \(rest[1]) on \(point) (\(rest[2]))")
        }
        return best.description
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
        let root = try benchmarkRoot()
        let engine = try Engine(root: root)
        var stored = try? engine.store.resolve("busybox:bench")
        if stored == nil { stored = try await engine.store.bootstrapBusybox(name: try ImageReference.parse("busybox:bench")) }
        let image = stored!

        // The same rootfs, unpacked once, as runc's bundle (runc's own default config, args `true`).
        let bundle = root.appending("runc-bundle-\(Digest.hex(image.configDigest).prefix(12))")
        if !FileSystem.exists(bundle.appending("rootfs/bin/busybox")) {
            try? FileSystem.removeTree(bundle)
            try await engine.store.flatten(image, into: bundle.appending("rootfs"))
        }
        unlink(bundle.appending("config.json").string)
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

        let oneShot = [executableDirectory.appending("engine-run-benchmark").string, "--one-shot", root.string, "busybox:bench"]
        _ = try spawnAndRead(oneShot)

        var ours: [Double] = [], theirs: [Double] = [], library: [Double] = [], fresh: [Double] = []
        var phases: [String: [Double]] = [:], freshPhases: [String: [Double]] = [:]
        for i in 1...runs {
            ours.append(try spawnAndWait(cli))
            theirs.append(try spawnAndWait(runcCommand(i)))
            let outcome = try await engine.run(
                image: "busybox:bench", options: RunOptions(command: ["true"], autoRemove: true), output: .inherit)
            let t = outcome.timestamps
            library.append(t.duration(from: .snapshot, to: .cleanup)!.seconds)
            for (name, from, to) in phaseNames {
                phases[name, default: []].append(t.duration(from: from, to: to)!.seconds)
            }
            for item in try spawnAndRead(oneShot).split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let pair = item.split(separator: "=")
                guard pair.count == 2, let value = Double(pair[1]) else { continue }
                if pair[0] == "total" { fresh.append(value) } else { freshPhases[String(pair[0]), default: []].append(value) }
            }
        }
        let ratio = median(ours) / median(theirs)
        let fileSystem = fileSystem(of: root)
        var report = """
            n=\(runs) each, interleaved; busybox rootfs (\(image.layers.count) layer); store and bundle in \(root) (\(fileSystem))
            intermodal run --rm busybox true (CLI, end to end): median \(ms(median(ours))) min \(ms(ours.min()!)) max \(ms(ours.max()!))
            runc run (bundle already unpacked):                 median \(ms(median(theirs))) min \(ms(theirs.min()!)) max \(ms(theirs.max()!))
            Engine.run in-process, warm (snapshot->cleanup):    median \(ms(median(library))) min \(ms(library.min()!)) max \(ms(library.max()!))
            Engine.run in a fresh process (main->cleanup):      median \(ms(median(fresh))) min \(ms(fresh.min()!)) max \(ms(fresh.max()!))
            ratio of medians (CLI / runc): \(String(format: "%.2f", ratio)) (target <= 1.00); in-process / runc: \(String(format: "%.2f", median(library) / median(theirs))); fresh process / runc: \(String(format: "%.2f", median(fresh) / median(theirs)))
            load average before: \(loadBefore)
            phases (medians), warm | fresh process:
            """
        report += "\n  main->snapshot (Engine init): - | \(ms(median(freshPhases["init"] ?? [0])))"
        for (name, _, _) in phaseNames {
            report += "\n  \(name): \(ms(median(phases[name]!))) | \(ms(median(freshPhases[name] ?? [0])))"
        }
        StandardStreams.writeOutput(report + "\n")
        if let output {
            let result = Result(
                runs: runs, loadAverageBefore: loadBefore, loadAverageAfter: loadAverage,
                intermodalCLISeconds: ours, runcSeconds: theirs, engineInProcessSeconds: library,
                engineInProcessPhaseSeconds: phases, engineFreshProcessSeconds: fresh,
                engineFreshProcessPhaseSeconds: freshPhases, ratioOfMediansCLIToRunc: ratio,
                ratioOfMediansInProcessToRunc: median(library) / median(theirs),
                ratioOfMediansFreshProcessToRunc: median(fresh) / median(theirs),
                storeRoot: root.string, storeFileSystem: fileSystem)
            try FileSystem.writeAtomically(try JSON.encode(result, pretty: true), to: FilePath(output))
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

    /// Runs a program to completion and returns its standard output (standard error passes through).
    static func spawnAndRead(_ argv: [String]) throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw IntermodalError.system("cannot make a pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard rc == 0 else { throw IntermodalError.system("cannot start \(argv[0])", errno: rc) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw IntermodalError(.externalFailure, "\(argv.joined(separator: " ")) failed (wait status \(status))") }
        return String(decoding: output, as: UTF8.self)
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
