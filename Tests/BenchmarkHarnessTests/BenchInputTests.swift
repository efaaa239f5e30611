#if canImport(Glibc)
import Glibc
#endif
import BenchmarkHarness
import BenchmarkResults
import IntermodalCore
import SystemPackage
import Testing

/// What `bench` is given (a suite file, a results file to rerun, a bench root another run uses)
/// is checked before anything runs, and SIGINT is honoured everywhere a run spends time.
@Suite("bench input", .serialized)
struct BenchInputTests {
    static var intermodal: FilePath { HarnessRunTests.intermodal }

    @Test func aSecondRunOnTheSameBenchRootIsRefused() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bench-lease")
        defer { try? FileSystem.removeTree(root) }
        let held = try #require(try FileLock(root.appending("bench.lock")).tryAcquire(.exclusive))
        defer { held.release() }
        await #expect {
            _ = try await Runner(.init(suite: HarnessRunTests.suite(["native"], workloads: ["startup"]), root: root,
                                       intermodalExecutable: Self.intermodal)).run()
        } throws: { ($0 as? IntermodalError)?.message.contains("another bench is running on \(root)") == true }
        #expect(!FileSystem.exists(root.appending("journal")), "the refused run touched nothing")
    }

    @Test func aSuiteNameIsAFileNameNeverAPath() async throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bench-name")
        defer { try? FileSystem.removeTree(dir) }
        let work = dir.appending("cwd")
        try FileSystem.createDirectory(work)
        for name in ["../escape", "a/b", "/abs"] {
            try FileSystem.writeAtomically("name = \"\(name)\"\nbackends = [\"native\"]\nworkloads = [\"startup\"]\nruns = 1\nwarmup = 0\n",
                                           to: dir.appending("suite.toml"))
            let r = try await HostCommand.run(Self.intermodal.string, [
                "bench", "--suite", dir.appending("suite.toml").string, "--bench-root", dir.appending("bench").string,
            ], workingDirectory: work)
            #expect(r.exitCode != 0 && r.standardError.contains("not a plain file name"), "\(name): \(r.standardError)")
        }
        #expect(try FileSystem.list(dir).sorted() == ["cwd", "suite.toml"], "nothing was written, inside or outside results/")
        #expect(!FileSystem.exists(work.appending("results")))
    }

    @Test func runsBeyondTheSuiteLimitAreRefused() async throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bench-runs")
        defer { try? FileSystem.removeTree(dir) }
        // A bound on the run that must not start.
        let r = try await HostCommand.run("timeout", ["-s", "KILL", "300", Self.intermodal.string,
            "bench", "--runs", "1000000000", "--backends", "native", "--bench-root", dir.appending("bench").string,
            "--out", dir.appending("r.json").string,
        ])
        #expect(r.exitCode != 0 && r.standardError.contains("runs") && r.standardError.contains("100000"), "\(r.standardError)")
        #expect(!FileSystem.exists(dir.appending("bench")))
    }

    /// The harness's own overhead is timed first, `runs` times (at least 10): with 100,000 runs
    /// that loop lasts minutes, and SIGINT must end it as it ends a workload.
    @Test func sigintEndsTheHarnessOverheadLoop() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-bench-sigint")
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.writeAtomically("backends = [\"native\"]\nworkloads = [\"startup\"]\nruns = 100000\nwarmup = 0\n",
                                       to: root.appending("suite.toml"))
        let bench = try BackgroundCLI.start([Self.intermodal.string, "bench", "--suite", root.appending("suite.toml").string,
                                             "--bench-root", root.appending("bench").string, "--out", root.appending("r.json").string])
        // The loop runs /bin/true as the bench's child, one after another.
        var timing = false
        for _ in 0..<60_000 where !timing {
            timing = Self.children(of: bench.pid).contains { (try? FileSystem.readString(FilePath("/proc/\($0)/comm")))?.trimmed == "true" }
            if !timing { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(timing, "the overhead loop was not seen")
        kill(bench.pid, SIGINT)
        var exited = false
        for _ in 0..<600 where !exited {
            try await Task.sleep(for: .milliseconds(100))
            exited = Self.hasExited(bench.pid)
        }
        if !exited { kill(bench.pid, SIGKILL) }
        let status = await bench.wait()
        #expect(exited, "SIGINT did not end the run within a minute")
        #expect(status.code == 130)
    }

    static func children(of pid: Int32) -> [Int32] {
        ((try? FileSystem.list("/proc")) ?? []).compactMap(Int32.init).filter { ProcessStat.read($0)?.parent == pid }
    }

    /// A zombie (exited, not yet reaped by the test) counts as exited.
    static func hasExited(_ pid: Int32) -> Bool {
        ProcessStat.read(pid).map { $0.state == "Z" } ?? true
    }
}
