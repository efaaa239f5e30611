#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import IntermodalCore
import SystemPackage

/// The measuring loop of a run, apart from its preparation so that a fake backend can drive it
/// in unit tests (hyperfine's scheduler is tested so, with a mock executor): workloads in order,
/// the backends interleaved round by round in an order shuffled by the run's seed, each one's
/// warm-ups just before the measured rounds, a backend given up after failures in a row, the
/// precision rule's extra rounds, and an early end when the run is interrupted.
struct Scheduler {
    var suite: Suite
    var accelerators: [String: String]
    var tools: HostTools?
    var scratch: FilePath
    /// Whether the run was interrupted (SIGINT), asked before every round.
    var isInterrupted: @Sendable () -> Bool = { Interruption.signal != 0 }
    /// The host's load, read before and after each workload.
    var readLoad: @Sendable (String) -> LoadReading = { Runner.load($0) }

    struct Outcome {
        var samples: [Sample] = []
        var failures: [Failure] = []
        var loads: [LoadReading] = []
        var interrupted = false
        /// Why each series has the count it has: the suite's fixed runs, or the precision rule.
        var stopReasons: [SeriesKey: StopReason] = [:]
    }

    /// Measures `workloads` on the `ready` backends, except the `workload/backend` pairs in
    /// `skipped`; a backend given up is marked failed in `statuses`.
    func run(
        _ workloads: [any Workload], on ready: [any Backend], skipping skipped: Set<String>,
        statuses: inout [BackendStatus], rng: inout SplitMix64
    ) async -> Outcome {
        var samples: [Sample] = []
        var failures: [Failure] = []
        var loads: [LoadReading] = []
        var interrupted = false
        let suite = suite, accelerators = accelerators, tools = tools, scratch = scratch
        func measures(_ w: any Workload, _ b: any Backend) -> Bool { !skipped.contains(w.name + "/" + b.name) }
        var progress = Progress(total: workloads.reduce(0) { total, w in
            total + ready.filter { measures(w, $0) }.reduce(0) { $0 + w.warmups(for: $1, suite: suite) + w.rounds(for: $1, suite: suite) }
        })
        var givenUp: Set<String> = []
        var inARow: [String: Int] = [:]
        var stopReasons: [SeriesKey: StopReason] = [:]
        workloadLoop: for workload in workloads {
            loads.append(readLoad("before \(workload.name)"))
            // Measured rounds line up across backends; each one's warm-ups come just before.
            let here = ready.filter { measures(workload, $0) }
            let warmups = here.map { workload.warmups(for: $0, suite: suite) }.max() ?? 0
            let most = here.map { workload.rounds(for: $0, suite: suite) }.max() ?? 0
            var measuringSeconds: [String: Double] = [:]
            /// One round of `workload` on `backend`; false when the run was interrupted.
            func measure(_ backend: any Backend, number: Int, warmup isWarmup: Bool, shown: Int) async -> Bool {
                if isInterrupted() { return false }
                progress.step(workload.name, backend.name, round: shown, warmup: isWarmup)
                let plan = Round(number: number, warmup: isWarmup, suite: suite, accelerator: accelerators[backend.name],
                                 tools: tools, scratch: scratch)
                let began = MonotonicInstant.now
                do {
                    samples += try await workload.measure(on: backend, plan)
                    for message in plan.partialFailures.all {
                        failures.append(Failure(workload: workload.name, backend: backend.name, round: number, error: message))
                        progress.note("bench: \(backend.name) failed in part of \(workload.name): \(message)")
                    }
                    inARow[backend.name] = 0
                } catch {
                    if isInterrupted() { return false }
                    failures.append(Failure(workload: workload.name, backend: backend.name, round: number, error: error.description))
                    progress.note("bench: \(backend.name) failed in \(workload.name): \(error.description)")
                    inARow[backend.name, default: 0] += 1
                    if inARow[backend.name]! >= Runner.failuresBeforeGivingUp {
                        givenUp.insert(backend.name)
                        if let i = statuses.firstIndex(where: { $0.name == backend.name }) {
                            statuses[i].state = .failed
                            statuses[i].reason = "failed \(Runner.failuresBeforeGivingUp) times in a row, last: \(error.description)"
                        }
                    }
                }
                if !isWarmup { measuringSeconds[backend.name, default: 0] += MonotonicInstant.now.duration(since: began).milliseconds / 1000 }
                return true
            }
            for round in 0..<(warmups + most) {
                var order = here
                order.shuffle(using: &rng)
                for backend in order where !givenUp.contains(backend.name) {
                    let own = workload.warmups(for: backend, suite: suite)
                    guard round >= warmups - own, round < warmups + workload.rounds(for: backend, suite: suite) else { continue }
                    let isWarmup = round < warmups
                    let number = round - warmups
                    guard await measure(backend, number: number, warmup: isWarmup, shown: isWarmup ? round - (warmups - own) : number)
                    else { interrupted = true; break workloadLoop }
                }
            }
            // The precision rule: more rounds, still interleaved, for the backends whose series
            // are not yet known to the target, until each stops (and says why).
            if let rule = suite.precision, rule.workloads.contains(workload.name) {
                var going = here.filter { !givenUp.contains($0.name) }
                var number = most
                while !going.isEmpty {
                    var next: [any Backend] = []
                    for backend in going {
                        let minimum = workload.rounds(for: backend, suite: suite)
                        let mine = Dictionary(grouping: samples.filter {
                            !$0.warmup && $0.workload == workload.name && $0.backend == backend.name
                        }, by: \.metric)
                        let elapsed = measuringSeconds[backend.name] ?? 0
                        let decisions = mine.mapValues { rule.decide($0.map(\.value), minimum: minimum, elapsedSeconds: elapsed) }
                        // A round measures every metric of the workload: the backend goes on
                        // while any of its series still wants samples.
                        if givenUp.contains(backend.name) || (!mine.isEmpty && decisions.values.allSatisfy({ $0 != nil })) {
                            let why = givenUp.contains(backend.name) ? StopReason.fixedRuns : nil
                            for (metric, reason) in decisions {
                                stopReasons[SeriesKey(workload: workload.name, metric: metric, backend: backend.name)] = why ?? reason
                            }
                        } else if mine.isEmpty {
                            continue
                        } else {
                            next.append(backend)
                        }
                    }
                    next.shuffle(using: &rng)
                    progress.plan(more: next.count)
                    for backend in next {
                        guard await measure(backend, number: number, warmup: false, shown: number)
                        else { interrupted = true; break workloadLoop }
                    }
                    going = next
                    number += 1
                }
            }
            loads.append(readLoad("after \(workload.name)"))
        }
        progress.finish()
        return Outcome(samples: samples, failures: failures, loads: loads, interrupted: interrupted, stopReasons: stopReasons)
    }
}
