#if canImport(Glibc)
import Glibc
#endif
import BenchmarkHarness
import BenchmarkResults
import ContainerEngine
import FoundationEssentials
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// The harness on real backends, tiny: one sample each, every kind of backend, and its faults.
@Suite("The benchmark harness on real backends", .serialized)
struct HarnessRunTests {
    static var productsDirectory: FilePath {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink("/proc/self/exe", &buffer, 4096)
        return FilePath(String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)).removingLastComponent()
    }
    static var intermodal: FilePath { productsDirectory.appending("intermodal") }
    static var schema: FilePath {
        FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
            .appending("Sources/BenchmarkResults/results.schema.json")
    }

    /// The default bound on a round is far above a TCG boot alone (3 s): on a loaded CI host the
    /// same boot took over a minute.
    static func suite(_ backends: [String], workloads: [String] = ["startup", "memory", "disk"], runs: Int = 1, timeout: Int = 300) -> Suite {
        Suite(name: "test", image: "busybox", workloads: workloads, backends: backends, runs: runs, warmup: 0,
              timeoutSeconds: timeout, memoryMiB: 256, vcpus: 1, idleInstances: 1, seed: 7)
    }

    /// Validates `results` against the committed JSON Schema with Debian's python3-jsonschema.
    static func validate(_ results: ResultsFile, in dir: FilePath) async throws {
        let file = dir.appending("results.json")
        try FileSystem.writeAtomically(try JSON.encode(results, pretty: true), to: file)
        let r = try await HostCommand.run("/usr/bin/python3", ["-c", """
            import json, sys, jsonschema
            jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
            """, schema.string, file.string])
        #expect(r.succeeded, "the results file does not match the schema: \(r.standardError)")
    }

    /// The precision rule on real start-ups: native and our library add rounds past the suite's
    /// 5 until each series' median is known to the target, the sample cap or the time budget, and
    /// every series says which; the file still matches the schema.
    @Test func thePrecisionRuleDecidesTheSampleCounts() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-harness-test")
        defer { try? FileSystem.removeTree(root) }
        var suite = Self.suite(["native", "intermodal-lib"], workloads: ["startup"], runs: 5)
        suite.precision = PrecisionSettings(target: 0.05, maximumRuns: 25, budgetSeconds: 20, workloads: ["startup"])
        let results = try await Runner(.init(suite: suite, root: root, intermodalExecutable: Self.intermodal)).run()
        #expect(results.failures.isEmpty, "\(results.failures)")
        let startup = results.summaries.filter { $0.series.workload == "startup" }
        #expect(startup.count == 4)
        for s in startup {
            let reason = try #require(s.stopReason, "\(s.series)")
            #expect(reason != .fixedRuns, "\(s.series)")
            // On a loaded host the time budget may be spent before any round past the suite's 5.
            let least = reason == .budgetSpent ? 5 : 6
            #expect(s.summary.count >= least && s.summary.count <= 25, "\(s.series): \(reason.rawValue), n=\(s.summary.count)")
            if reason == .precisionReached { #expect((s.relativeHalfWidth ?? 1) <= 0.05, "\(s.series)") }
            if reason == .maximumRuns { #expect(s.summary.count == 25, "\(s.series)") }
        }
        try await Self.validate(results, in: root)
    }

    @Test func everyKindOfBackendFillsTheSameSamples() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-harness-test")
        defer { try? FileSystem.removeTree(root) }
        let backends = ["native", "intermodal", "intermodal-lib", "runc", "crun", "vm"]
        let results = try await Runner(.init(suite: Self.suite(backends), root: root, intermodalExecutable: Self.intermodal)).run()
        #expect(results.backends.map(\.name) == backends)
        for b in results.backends { #expect(b.state == .measured, "\(b.name): \(b.reason ?? "")") }
        #expect(results.failures.isEmpty, "\(results.failures)")
        #expect(!results.interrupted)
        for backend in backends {
            let mine = results.samples.filter { $0.backend == backend }
            let exit = mine.first { $0.metric == "true:spawn-to-exit" }
            let first = mine.first { $0.metric == "echo:spawn-to-first-output" }
            #expect((exit?.value ?? 0) > 0 && exit?.unit == .milliseconds, "\(backend)")
            #expect((first?.value ?? 0) > 0, "\(backend)")
            let pss = mine.first { $0.metric == "idle:pss-per-instance" }
            #expect((pss?.value ?? 0) > 0 && pss?.unit == .bytes, "\(backend) idle PSS")
            #expect(mine.contains { $0.workload == "disk" && $0.value > 0 && $0.unit == .bytes }, "\(backend) disk")
            if backend != "native" {
                let s = results.summaries.first { $0.series == SeriesKey(workload: "startup", metric: "true:spawn-to-exit", backend: backend) }
                #expect((s?.ratioToNative ?? 0) > 0, "\(backend) ratio to native")
            }
        }
        // Where the time goes: the library and the guest say it, the guest with its accelerator.
        let lib = results.samples.first { $0.backend == "intermodal-lib" && $0.metric == "true:spawn-to-exit" }
        #expect(lib?.phases?["create"] != nil && lib?.phases?["exit"] != nil)
        let guest = results.samples.first { $0.backend == "vm" && $0.metric == "true:spawn-to-exit" }
        #expect(guest?.phases?["kernelStart"] != nil && ["kvm", "tcg"].contains(guest?.accelerator ?? ""))
        let monitor = results.samples.first { $0.backend == "intermodal" && $0.metric == "idle:pss-per-instance" }
        #expect(monitor?.components?["monitor"] != nil && monitor?.components?["container"] != nil)
        #expect(results.samples.first { $0.backend == "vm" && $0.metric == "idle:pss-per-instance" }?.components?["qemu"] != nil)
        #expect(results.harnessOverhead != nil)
        try await Self.validate(results, in: root)
        // Nothing left: no container in the harness's store, no work directory, no journal.
        let engine = try Engine(root: root.appending("store"))
        #expect(try await engine.list(all: true).isEmpty)
        #expect(((try? FileSystem.list(root.appending("work"))) ?? []).allSatisfy {
            ((try? FileSystem.list(root.appending("work").appending($0))) ?? []).isEmpty
        })
        #expect(((try? FileSystem.list(root.appending("journal"))) ?? []).isEmpty)
    }

    /// A guest that cannot boot within the suite's timeout fails every round: it is recorded as
    /// failed with its error, and native is measured all the same.
    @Test func aBackendThatFailsIsRecordedAndTheRunGoesOn() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-harness-test")
        defer { try? FileSystem.removeTree(root) }
        let results = try await Runner(.init(
            suite: Self.suite(["native", "vm"], workloads: ["startup"], runs: 4, timeout: 1), root: root,
            intermodalExecutable: Self.intermodal)).run()
        let vm = try #require(results.backends.first { $0.name == "vm" })
        #expect(vm.state == .failed)
        #expect(vm.reason?.contains("failed 3 times in a row") == true)
        #expect(results.failures.filter { $0.backend == "vm" }.count == 3)
        #expect(results.samples.filter { $0.backend == "native" && $0.metric == "true:spawn-to-exit" }.count == 4)
        try await Self.validate(results, in: root)
    }

    @Test func anImageTheStoreCannotMakeIsAClearError() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-harness-test")
        defer { try? FileSystem.removeTree(root) }
        var suite = Self.suite(["native"], workloads: ["startup"])
        suite.image = "no-such-image"
        await #expect {
            _ = try await Runner(.init(suite: suite, root: root, intermodalExecutable: Self.intermodal)).run()
        } throws: { ($0 as? IntermodalError)?.message.contains("image no-such-image is not in the harness's store") == true }
    }

    /// SIGINT mid-run: the partial results are written, marked interrupted, and every idle
    /// container the memory workload had running is gone.
    @Test func sigintWritesPartialResultsAndRemovesEverything() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-harness-test")
        defer { try? FileSystem.removeTree(root) }
        let suiteFile = root.appending("suite.toml")
        try FileSystem.writeAtomically("""
            backends = ["native", "intermodal-lib"]
            workloads = ["startup", "memory"]
            runs = 200
            warmup = 0
            idle_instances = 2
            """, to: suiteFile)
        let out = root.appending("partial.json")
        let log = root.appending("bench.log")
        let bench = try BackgroundCLI.start([Self.intermodal.string, "bench", "--suite", suiteFile.string,
                                             "--bench-root", root.appending("bench").string, "--out", out.string],
                                            standardError: log)
        // Wait until it measures: its second progress line says the first step is done (a fixed
        // 8 s was too short for a fresh clone's cold first run), then interrupt.
        for _ in 0..<1200 {
            let steps = ((try? FileSystem.readString(log)) ?? "").split(separator: "\n").filter { $0.hasPrefix("[startup]") }
            if steps.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(bench.pid, SIGINT)
        let status = await bench.wait()
        #expect(status.code == 130)
        let results = try JSON.decode(ResultsFile.self, from: try FileSystem.readBytes(out), what: out.string)
        #expect(results.interrupted)
        #expect(!results.samples.isEmpty)
        let engine = try Engine(root: root.appending("bench/store"))
        #expect(try await engine.list(all: true).isEmpty)
        #expect(((try? FileSystem.list(root.appending("bench/journal"))) ?? []).isEmpty)
    }

    /// kill -9 while idle containers run: the next run removes them, by the dead run's journal.
    @Test func theNextRunRemovesWhatAKilledRunLeft() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-harness-test")
        defer { try? FileSystem.removeTree(root) }
        let suiteFile = root.appending("suite.toml")
        try FileSystem.writeAtomically("""
            backends = ["intermodal-lib"]
            workloads = ["memory"]
            runs = 3
            idle_instances = 3
            """, to: suiteFile)
        let benchRoot = root.appending("bench")
        let bench = try BackgroundCLI.start([Self.intermodal.string, "bench", "--suite", suiteFile.string,
                                             "--bench-root", benchRoot.string, "--out", root.appending("never.json").string])
        var engine: Engine?
        var running = 0
        // Until the idle containers are up: the run prepares its backend and workload image first,
        // which takes seconds alone and minutes on a loaded host; the bound is only against a hang.
        _ = await Poll.until(.seconds(900), .every(.milliseconds(100))) {
            if engine == nil, FileSystem.exists(benchRoot.appending("store/containers")) { engine = try? Engine(root: benchRoot.appending("store")) }
            running = (try? await engine?.list(all: true).count) ?? 0
            return running > 0
        }
        kill(bench.pid, SIGKILL)
        _ = await bench.wait()
        #expect(running > 0, "the killed run had idle containers")
        let left = try await Engine(root: benchRoot.appending("store")).list(all: true)
        #expect(!left.isEmpty, "a kill -9 leaves its containers")
        // The next run, of anything, replays the dead run's journal first.
        _ = try await Runner(.init(suite: Self.suite(["native"], workloads: ["startup"]), root: benchRoot,
                                   intermodalExecutable: Self.intermodal)).run()
        #expect(try await Engine(root: benchRoot.appending("store")).list(all: true).isEmpty)
        #expect(((try? FileSystem.list(benchRoot.appending("journal"))) ?? []).isEmpty)
    }
}

/// The `intermodal` CLI started in the background, for the signal tests.
struct BackgroundCLI {
    let pid: Int32

    /// Starts `arguments` with no input and no output; standard error goes to `standardError`
    /// when given (the harness's progress lines).
    static func start(_ arguments: [String], standardError: FilePath? = nil) throws -> BackgroundCLI {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, standardError?.string ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard rc == 0 else { throw IntermodalError.system("cannot start \(arguments[0])", errno: rc) }
        return BackgroundCLI(pid: pid)
    }

    func wait() async -> IntermodalCore.ExitStatus {
        let pid = self.pid
        return await DedicatedThread.run {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return IntermodalCore.ExitStatus(waitStatus: status)
        }
    }
}
