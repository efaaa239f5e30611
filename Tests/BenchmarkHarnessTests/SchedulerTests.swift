@testable import BenchmarkHarness
import BenchmarkResults
import IntermodalCore
import Synchronization
import Testing

/// A fake backend for the scheduler's unit tests, named as such: it runs nothing, answers each
/// `run` with a made-up time and records the order of its calls; it fails when told to.
actor FakeBackendForSchedulerTests: Backend {
    nonisolated let name: String
    nonisolated var kind: BackendKind { .native }
    var calls: [String] = []
    var failing: Bool
    var milliseconds: Double

    init(_ name: String, milliseconds: Double = 1, failing: Bool = false) {
        self.name = name
        self.milliseconds = milliseconds
        self.failing = failing
    }

    func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness { Readiness(version: "fake") }

    func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
        calls.append(arguments.joined(separator: " "))
        if failing { throw IntermodalError(.externalFailure, "\(name) fails as told") }
        let output = arguments.first == "echo" ? Array((arguments.dropFirst().joined(separator: " ") + "\n").utf8) : []
        return InstanceRun(status: ExitStatus(code: 0), output: output, spawnToExit: .microseconds(Int64(milliseconds * 1000)),
                           spawnToFirstOutput: .microseconds(Int64(milliseconds * 500)))
    }

    func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance {
        throw IntermodalError(.unsupported, "the fake backend runs no idle instances")
    }
    func stopIdle(_ instance: IdleInstance) async {}
    func footprint() async -> [FootprintItem] { [] }
    func cleanup() async {}
    func callCount() -> Int { calls.count }
}

/// The measuring loop without containers or guests: interleaving, warm-ups, failure streaks,
/// interruption and the precision rule, driven by fake backends.
@Suite struct SchedulerTests {
    static func suite(runs: Int = 4, warmup: Int = 1, precision: PrecisionSettings? = nil) -> Suite {
        Suite(name: "scheduler-test", workloads: ["startup"], backends: ["a", "b"], runs: runs, warmup: warmup, seed: 3,
              precision: precision)
    }

    static func statuses(_ backends: [any Backend]) -> [BackendStatus] {
        backends.map { BackendStatus(name: $0.name, kind: "native", state: .measured) }
    }

    static func scheduler(_ suite: Suite, interrupted: @escaping @Sendable () -> Bool = { false }) -> Scheduler {
        Scheduler(suite: suite, accelerators: [:], tools: nil, scratch: "/nonexistent", isInterrupted: interrupted,
                  readLoad: { LoadReading(when: $0, load1: 0, load5: 0, load15: 0) })
    }

    @Test func everyBackendGetsItsRoundsWarmUpsFirstInASeededOrder() async {
        let a = FakeBackendForSchedulerTests("a"), b = FakeBackendForSchedulerTests("b", milliseconds: 2)
        let backends: [any Backend] = [a, b]
        var statuses = Self.statuses(backends)
        var rng = SplitMix64(seed: 3)
        let outcome = await Self.scheduler(Self.suite()).run(Workloads.named("startup").map { [$0] } ?? [], on: backends,
                                                            skipping: [], statuses: &statuses, rng: &rng)
        #expect(!outcome.interrupted && outcome.failures.isEmpty)
        for name in ["a", "b"] {
            let mine = outcome.samples.filter { $0.backend == name }
            // Two metrics a round: one warm-up round, then four measured ones.
            #expect(mine.filter(\.warmup).count == 2)
            #expect(mine.filter { !$0.warmup }.count == 8)
            #expect(Set(mine.filter { !$0.warmup }.map(\.round)) == [0, 1, 2, 3])
        }
        // Warm-ups come before the measured rounds.
        let firstMeasured = outcome.samples.firstIndex { !$0.warmup }!
        #expect(outcome.samples[firstMeasured...].allSatisfy { !$0.warmup })
        // The same seed gives the same order; the order is not always a then b.
        var rng2 = SplitMix64(seed: 3)
        var statuses2 = Self.statuses(backends)
        let again = await Self.scheduler(Self.suite()).run([Workloads.named("startup")!], on: backends, skipping: [],
                                                          statuses: &statuses2, rng: &rng2)
        #expect(again.samples.map(\.backend) == outcome.samples.map(\.backend))
        let firsts = stride(from: 0, to: outcome.samples.count, by: 4).map { outcome.samples[$0].backend }
        #expect(Set(firsts).count == 2, "the order within rounds is shuffled: \(firsts)")
        #expect(outcome.loads.map(\.when) == ["before startup", "after startup"])
    }

    @Test func aBackendFailingThreeTimesInARowIsGivenUpAndSaidSo() async {
        let good = FakeBackendForSchedulerTests("a"), bad = FakeBackendForSchedulerTests("b", failing: true)
        let backends: [any Backend] = [good, bad]
        var statuses = Self.statuses(backends)
        var rng = SplitMix64(seed: 1)
        let outcome = await Self.scheduler(Self.suite(runs: 6, warmup: 0)).run([Workloads.named("startup")!], on: backends,
                                                                             skipping: [], statuses: &statuses, rng: &rng)
        #expect(outcome.failures.count == Runner.failuresBeforeGivingUp)
        #expect(outcome.failures.allSatisfy { $0.backend == "b" && $0.error.contains("fails as told") })
        #expect(await bad.callCount() == Runner.failuresBeforeGivingUp)
        #expect(statuses.first { $0.name == "b" }?.state == .failed)
        #expect(statuses.first { $0.name == "b" }?.reason?.contains("3 times in a row") == true)
        #expect(outcome.samples.filter { $0.backend == "a" && !$0.warmup }.count == 12)
    }

    @Test func skippedPairsAreNotMeasured() async {
        let backends: [any Backend] = [FakeBackendForSchedulerTests("a"), FakeBackendForSchedulerTests("b")]
        var statuses = Self.statuses(backends)
        var rng = SplitMix64(seed: 1)
        let outcome = await Self.scheduler(Self.suite()).run([Workloads.named("startup")!], on: backends,
                                                            skipping: ["startup/b"], statuses: &statuses, rng: &rng)
        #expect(!outcome.samples.isEmpty && outcome.samples.allSatisfy { $0.backend == "a" })
    }

    @Test func anInterruptionEndsTheRunWithWhatWasMeasured() async {
        let a = FakeBackendForSchedulerTests("a")
        let backends: [any Backend] = [a]
        let asked = Mutex(0)
        // Interrupted from the fourth round on.
        let interrupted: @Sendable () -> Bool = { asked.withLock { $0 += 1; return $0 > 3 } }
        var statuses = Self.statuses(backends)
        var rng = SplitMix64(seed: 1)
        let outcome = await Self.scheduler(Self.suite(runs: 10, warmup: 0), interrupted: interrupted)
            .run([Workloads.named("startup")!], on: backends, skipping: [], statuses: &statuses, rng: &rng)
        #expect(outcome.interrupted)
        #expect(outcome.samples.count == 6, "three rounds of two metrics, then nothing")
    }

    /// With the precision rule, a backend whose figures scatter gets more rounds than one whose
    /// figures are steady, up to the rule's maximum, and each series says why it stopped.
    @Test func thePrecisionRuleGivesMoreRoundsWhereTheFiguresScatter() async {
        actor Scatter: Backend {
            nonisolated let name = "b"
            nonisolated var kind: BackendKind { .native }
            var n = 0
            func prepare(_ context: BenchContext) async throws(IntermodalError) -> Readiness { Readiness(version: nil) }
            func run(_ arguments: [String]) async throws(IntermodalError) -> InstanceRun {
                n += 1
                let ms = Double(1 + (n * 7919) % 13) * 10
                let output = arguments.first == "echo" ? Array((arguments.dropFirst().joined(separator: " ") + "\n").utf8) : []
                return InstanceRun(status: ExitStatus(code: 0), output: output, spawnToExit: .milliseconds(Int64(ms)),
                                   spawnToFirstOutput: .milliseconds(Int64(ms)))
            }
            func startIdle(_ index: Int) async throws(IntermodalError) -> IdleInstance { throw IntermodalError(.unsupported, "no") }
            func stopIdle(_ instance: IdleInstance) async {}
            func footprint() async -> [FootprintItem] { [] }
            func cleanup() async {}
        }
        let backends: [any Backend] = [FakeBackendForSchedulerTests("a"), Scatter()]
        var statuses = Self.statuses(backends)
        var rng = SplitMix64(seed: 1)
        let rule = PrecisionSettings(target: 0.05, maximumRuns: 25, budgetSeconds: 3600, workloads: ["startup"])
        let outcome = await Self.scheduler(Self.suite(runs: 10, warmup: 0, precision: rule))
            .run([Workloads.named("startup")!], on: backends, skipping: [], statuses: &statuses, rng: &rng)
        let steady = outcome.samples.filter { $0.backend == "a" && $0.metric == "true:spawn-to-exit" }.count
        let scattered = outcome.samples.filter { $0.backend == "b" && $0.metric == "true:spawn-to-exit" }.count
        #expect(steady == 10, "steady figures stop at the minimum")
        #expect(scattered == 25, "scattered figures go on to the maximum")
        #expect(outcome.stopReasons[SeriesKey(workload: "startup", metric: "true:spawn-to-exit", backend: "a")] == .precisionReached)
        #expect(outcome.stopReasons[SeriesKey(workload: "startup", metric: "true:spawn-to-exit", backend: "b")] == .maximumRuns)
    }
}
