#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import ContainerEngine
import Crypto
import ImageStore
import IntermodalCore
import SystemPackage
import VirtualMachines

/// Runs a suite: prepares every backend (skipping, with the reason, those that cannot run here),
/// measures workload by workload with the backends interleaved round by round in a shuffled
/// order, keeps every sample, and always cleans up. SIGINT ends the run early with what was
/// measured (marked interrupted); a journal lets the next run remove what a killed one left.
public struct Runner: Sendable {
    public struct Options: Sendable {
        public var suite: Suite
        public var label: String?
        /// The harness's own store, work directories and journal.
        public var root: FilePath
        /// The `intermodal` executable (the CLI backend, detached containers' monitor).
        public var intermodalExecutable: FilePath
        public init(suite: Suite, label: String? = nil, root: FilePath, intermodalExecutable: FilePath) {
            self.suite = suite
            self.label = label
            self.root = root
            self.intermodalExecutable = intermodalExecutable
        }
    }

    public let options: Options
    public init(_ options: Options) { self.options = options }

    /// A backend that failed this many times in a row is given up for the rest of the run.
    static let failuresBeforeGivingUp = 3

    public func run() async throws(IntermodalError) -> ResultsFile {
        let startedWall = WallClock.now
        let started = MonotonicInstant.now
        var suite = options.suite
        let seed = suite.seed ?? UInt64.random(in: 0...UInt64(Int64.max))
        suite.seed = seed
        var rng = SplitMix64(seed: seed)
        Interruption.install()
        let root = options.root
        // One run per bench root: each run's prepare empties the work directories another would be
        // measuring in. The lease goes with the process, also when it is killed.
        try FileSystem.createDirectory(root)
        guard let lease = try FileLock(root.appending("bench.lock")).tryAcquire(.exclusive) else {
            throw IntermodalError(.invalidState, "another bench is running on \(root) (it holds \(root)/bench.lock); wait for it or give another --bench-root")
        }
        defer { lease.release() }
        let journalDirectory = root.appending("journal")
        let progressNotes = Progress(total: 1)
        for line in await Journal.replay(root: root, intermodal: options.intermodalExecutable) {
            progressNotes.note("bench: removed what a killed run left: \(line)")
        }
        let journal = try Journal(directory: journalDirectory)
        let storeRoot = root.appending("store")
        let engine = try Engine(root: storeRoot, monitorExecutable: options.intermodalExecutable)
        let image: Image
        let imageName: String
        if suite.image == WorkloadImage.name {
            (image, imageName) = try await WorkloadImage.make(suite, engine: engine, executable: options.intermodalExecutable) { line in
                StandardStreams.writeError(line + "\n")
            }
        } else {
            image = try await Self.image(suite.image, store: engine.store)
            imageName = suite.image
        }
        var environmentVersions: [String: String] = ["image": "\(imageName) (\(image.manifestDigest))"]
        let workloads = suite.workloads.compactMap { Workloads.named($0) }
        let throughput = !Workloads.throughput.isDisjoint(with: suite.workloads)
        // The image's files on the host: the clients of the network workloads, and a check that
        // the image has the tools before anything is measured.
        var tools: HostTools?
        let toolsDirectory = root.appending("work").appending("host-tools")
        let scratch = root.appending("work").appending("scratch")
        try? FileSystem.removeTree(toolsDirectory)
        try? FileSystem.removeTree(scratch)
        try FileSystem.createDirectory(scratch)
        journal.add(.directory(scratch.string))
        if throughput {
            journal.add(.directory(toolsDirectory.string))
            do {
                try await engine.store.flatten(image, into: toolsDirectory)
            } catch {
                for directory in [toolsDirectory, scratch] {
                    try? FileSystem.removeTree(directory)
                    journal.remove(.directory(directory.string))
                }
                journal.close()
                throw error
            }
            for (tool, version) in WorkloadImage.versions(in: toolsDirectory) { environmentVersions["image: \(tool)"] = version }
            tools = HostTools(rootfs: toolsDirectory)
        }

        var statuses: [BackendStatus] = []
        var ready: [any Backend] = []
        var accelerators: [String: String] = [:]
        for name in suite.backends {
            guard let backend = BackendFactory.make(name) else {
                statuses.append(BackendStatus(name: name, kind: "unknown", state: .skipped, reason: "this build has no backend named \(name)"))
                continue
            }
            let work = root.appending("work").appending(name)
            try? FileSystem.removeTree(work)
            let context = BenchContext(
                storeRoot: storeRoot, store: engine.store, image: image, imageName: imageName, workDirectory: work, suite: suite,
                intermodalExecutable: options.intermodalExecutable, journal: journal)
            progressNotes.note("bench: preparing \(name)")
            do {
                let r = try await backend.prepare(context)
                ready.append(backend)
                if let a = r.accelerator { accelerators[name] = a }
                if let v = r.version { environmentVersions[name] = v }
                var adjustments = r.adjustments
                if throughput, let t = backend as? any ThroughputCapable { adjustments += Self.throughputNotes(t, suite: suite) }
                statuses.append(BackendStatus(name: name, kind: backend.kind.rawValue, state: .measured, version: r.version,
                                              accelerator: r.accelerator, adjustments: adjustments))
            } catch {
                await backend.cleanup()
                statuses.append(BackendStatus(name: name, kind: backend.kind.rawValue, state: .skipped, reason: error.description))
                progressNotes.note("bench: skipping \(name): \(error.description)")
            }
        }

        var samples: [Sample] = []
        var failures: [Failure] = []
        var loads: [LoadReading] = []
        var interrupted = false
        let overhead = await Self.harnessOverhead(runs: max(suite.runs, 10))
        // A workload that does not run on a backend says why, in the results; one whose tools
        // the image lacks (an older image, another suite's) runs nowhere, and says so.
        var skipped: Set<String> = []
        var gaps: [Warning] = []
        for workload in workloads {
            guard let needed = WorkloadImage.tools[workload.name] else { continue }
            let missing = WorkloadImage.missingTools(needed, in: toolsDirectory)
            guard !missing.isEmpty else { continue }
            for backend in ready { skipped.insert(workload.name + "/" + backend.name) }
            gaps.append(Warning(.notMeasured, series: nil,
                "\(workload.name): not measured: the image \(imageName) has no \(missing.joined(separator: ", ")) (the throughput workloads need image = \"\(WorkloadImage.name)\")"))
            progressNotes.note("bench: skipping \(workload.name): the image \(imageName) has no \(missing.joined(separator: ", "))")
        }
        for workload in workloads {
            for backend in ready where !skipped.contains(workload.name + "/" + backend.name) {
                guard let reason = workload.notMeasured(on: backend, suite: suite) else { continue }
                skipped.insert(workload.name + "/" + backend.name)
                gaps.append(Warning(.notMeasured, series: nil, "\(workload.name) on \(backend.name): not measured: \(reason)"))
            }
        }
        func measures(_ w: any Workload, _ b: any Backend) -> Bool { !skipped.contains(w.name + "/" + b.name) }
        var progress = Progress(total: workloads.reduce(0) { total, w in
            total + ready.filter { measures(w, $0) }.reduce(0) { $0 + w.warmups(for: $1, suite: suite) + w.rounds(for: $1, suite: suite) }
        })
        var givenUp: Set<String> = []
        var inARow: [String: Int] = [:]
        // Why each series has the count it has: the suite's fixed runs, or the precision rule.
        var stopReasons: [SeriesKey: StopReason] = [:]
        workloadLoop: for workload in workloads {
            loads.append(Self.load("before \(workload.name)"))
            // Measured rounds line up across backends; each one's warm-ups come just before.
            let here = ready.filter { measures(workload, $0) }
            let warmups = here.map { workload.warmups(for: $0, suite: suite) }.max() ?? 0
            let most = here.map { workload.rounds(for: $0, suite: suite) }.max() ?? 0
            var measuringSeconds: [String: Double] = [:]
            /// One round of `workload` on `backend`; false when the run was interrupted.
            func measure(_ backend: any Backend, number: Int, warmup isWarmup: Bool, shown: Int) async -> Bool {
                if Interruption.signal != 0 { return false }
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
                    if Interruption.signal != 0 { return false }
                    failures.append(Failure(workload: workload.name, backend: backend.name, round: number, error: error.description))
                    progress.note("bench: \(backend.name) failed in \(workload.name): \(error.description)")
                    inARow[backend.name, default: 0] += 1
                    if inARow[backend.name]! >= Self.failuresBeforeGivingUp {
                        givenUp.insert(backend.name)
                        if let i = statuses.firstIndex(where: { $0.name == backend.name }) {
                            statuses[i].state = .failed
                            statuses[i].reason = "failed \(Self.failuresBeforeGivingUp) times in a row, last: \(error.description)"
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
            loads.append(Self.load("after \(workload.name)"))
        }
        progress.finish()
        for backend in ready { await backend.cleanup() }
        for directory in [toolsDirectory, scratch] {
            try? FileSystem.removeTree(directory)
            journal.remove(.directory(directory.string))
        }
        journal.close()

        let (summaries, dataWarnings) = Summarize.series(samples, suite: suite, seed: seed, stopReasons: stopReasons)
        var warnings = gaps + dataWarnings
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let busiest = loads.max(by: { $0.load1 < $1.load1 }), busiest.load1 > cores {
            warnings.append(Warning(.hostLoad, series: nil,
                "the host's load was \(busiest.load1) (\(busiest.when)) on \(Int(cores)) cores: other work competed with the measurements"))
        }
        let probe = try? await AcceleratorProbe.cachedOrProbe()
        var environment = await EnvironmentProbe.read(
            accelerator: probe.map { $0.kvmUsable ? "kvm" : "tcg" } ?? "unknown", acceleratorDetail: probe?.detail,
            versions: environmentVersions)
        if suite.backends.contains(where: { $0.hasPrefix("vm") }) {
            environment.guestShape = GuestShape(
                vcpus: suite.vcpus, memoryMiB: suite.memoryMiB, machine: DomainDefinition.machineType,
                diskBus: DomainDefinition.diskBus, diskCache: DomainDefinition.diskCache,
                cpuMode: probe?.kvmUsable == true ? probe?.cpuMode : nil)
        }
        let ended = MonotonicInstant.now
        return ResultsFile(
            label: options.label, startedAt: WallClock.rfc3339(startedWall, fraction: false), finishedAt: WallClock.rfc3339(fraction: false),
            wallSeconds: ended.duration(since: started).milliseconds / 1000, interrupted: interrupted,
            environment: environment, suite: suite, suiteHash: try Self.hash(suite), seed: seed, backends: statuses,
            samples: samples, summaries: summaries, failures: failures, warnings: warnings, harnessOverhead: overhead,
            hostLoad: loads)
    }

    /// The suite's image in the harness's store, made from the host when it is missing.
    static func image(_ name: String, store: ImageStore) async throws(IntermodalError) -> Image {
        if let existing = try? store.resolve(name) { return existing }
        switch name {
        case "busybox": return try await store.bootstrapBusybox(name: try ImageReference.parse("busybox:latest"))
        case "debian": return try await store.bootstrapDebian(name: try ImageReference.parse("debian:bookworm"), bootstrap: try DebianBootstrap())
        default: throw IntermodalError(.notFound, "image \(name) is not in the harness's store \(store.root) (busybox and debian are made on demand)")
        }
    }

    /// What a reader of throughput figures must know about a backend: where disk-io writes and
    /// by which paths the network workloads reach it.
    static func throughputNotes(_ backend: any ThroughputCapable, suite: Suite) -> [String] {
        var notes: [String] = []
        let targets = DiskTarget.allCases.compactMap { t in backend.diskTargets[t].map { "\(t.rawValue): \($0)" } }
        if suite.workloads.contains("disk-io") { notes.append("disk-io writes to " + targets.joined(separator: "; ")) }
        if !Workloads.needHostTools.isDisjoint(with: suite.workloads) {
            let paths = backend.networkPaths.map(\.rawValue).joined(separator: ", ")
            notes.append("network and app reach its servers by: \(paths.isEmpty ? "none" : paths)"
                + (backend.networkPaths.contains(.host) && backend.kind != .native ? " (host: the instance shares the host's network namespace)" : ""))
            if backend is IntermodalCLIBackend, !backend.networkPaths.contains(.published) {
                notes.append("a published port (-p) is not measured: iptables is not installed on this host")
            }
        }
        return notes
    }

    /// What timing itself costs: the same path around `/bin/true`, natively, without chroot.
    static func harnessOverhead(runs: Int) async -> Summary? {
        var values: [Double] = []
        // Stops at SIGINT like the workloads do: what was timed so far still summarises.
        for _ in 0..<runs {
            if Interruption.isInterrupted { break }
            if let t = try? await ProcessTimer.run(["/bin/true"], environment: []) { values.append(t.spawnToExit.milliseconds) }
        }
        return values.isEmpty ? nil : Summary(values)
    }

    static func load(_ when: String) -> LoadReading {
        let (a, b, c) = HostFacts.load()
        return LoadReading(when: when, load1: a, load5: b, load15: c)
    }

    static func hash(_ suite: Suite) throws(IntermodalError) -> String {
        let bytes = try JSON.encode(suite)
        return Hex.lowercase(SHA256.hash(data: bytes))
    }
}
