import BenchmarkHarness
import BenchmarkResults
import IntermodalCore
import SystemPackage
import Testing

@Suite("Suite files")
struct SuiteFileTests {
    static var example: FilePath {
        FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
            .appending("Benchmarks/suites/example.toml")
    }

    @Test func theDocumentedExampleParses() throws {
        let suite = try SuiteFile.load(Self.example)
        #expect(suite.name == "example")
        #expect(suite.backends == ["native", "intermodal", "intermodal-lib", "runc", "crun", "vm"])
        #expect(suite.workloads == ["startup", "memory", "disk"])
        #expect(suite.runs == 10 && suite.warmup == 2 && suite.idleInstances == 3)
        #expect(suite.runs(for: "vm") == 5 && suite.runs(for: "runc") == 10)
    }

    /// The throughput example: the workload image, its Dockerfile relative to the suite file,
    /// and the throughput and density tables.
    @Test func theThroughputExampleParses() throws {
        let file = Self.example.removingLastComponent().appending("throughput.toml")
        let suite = try SuiteFile.load(file)
        #expect(suite.image == "workload")
        #expect(suite.workloads == ["cpu", "memory-bandwidth", "disk-io", "network", "app", "density"])
        #expect(suite.dockerfile == file.removingLastComponent().string + "/../images/workload/Dockerfile")
        #expect(FileSystem.exists(FilePath(suite.dockerfile!)))
        #expect(suite.throughputSettings.seconds == 5 && suite.throughputSettings.runs(for: "vm") == 2)
        #expect(suite.densitySettings.maxInstances(for: "vm") == 6 && suite.densitySettings.memoryBudgetMiB == 4096)
    }

    /// The precision rule from a file: the quick suite's by default, each key overridable.
    @Test func thePrecisionTableOverridesTheRule() throws {
        #expect(try SuiteFile.parse("runs = 4\n", file: "s.toml").precision == BuiltInSuites.quick.precision)
        let suite = try SuiteFile.parse(
            "[precision]\ntarget_percent = 2\nmaximum_runs = 200\nbudget_seconds = 30\nworkloads = [\"startup\", \"memory\"]\n",
            file: "s.toml")
        #expect(suite.precision == PrecisionSettings(target: 0.02, maximumRuns: 200, budgetSeconds: 30, workloads: ["startup", "memory"]))
        #expect(throws: IntermodalError.self) { try SuiteFile.parse("[precision]\ntarget_percent = 0\n", file: "s.toml") }
    }

    @Test func leftOutKeysComeFromTheExtendedSuite() throws {
        let suite = try SuiteFile.parse("extends = \"full\"\nruns = 4\n", file: "s.toml")
        #expect(suite.runs == 4)
        #expect(suite.backends == BuiltInSuites.full.backends)
        #expect(suite.name == "s")
    }

    /// Each malformed file names the file, the key (or line) and what was expected.
    @Test(arguments: [
        ("runs = \"ten\"\n", "bad.toml: key runs: expected an integer"),
        ("runs = 0\n", "bad.toml: key runs: expected an integer from 1 to 100000, got 0"),
        ("backends = [\"native\", \"qemu\"]\n", "bad.toml: key backends: expected names from native"),
        ("backends = []\n", "bad.toml: key backends: expected at least one name"),
        ("workloads = \"startup\"\n", "bad.toml: key workloads: expected an array of strings"),
        ("runz = 3\n", "bad.toml: unknown key runz"),
        ("extends = \"medium\"\n", "bad.toml: key extends: expected one of full, quick, got \"medium\""),
        ("[runs_by_backend]\nvm = \"few\"\n", "bad.toml: key runs_by_backend.vm: expected an integer"),
        ("[runs_by_backend]\nkvm = 3\n", "bad.toml: key runs_by_backend.kvm: expected a backend"),
        ("runs = 3\nwarmup = [\n", "bad.toml:2:"),
        ("[throughput]\nseconds = 0\n", "bad.toml: key throughput.seconds: expected an integer from 1 to 3600, got 0"),
        ("[throughput]\nsecs = 3\n", "bad.toml: unknown key throughput.secs"),
        ("[density]\nmax_instances = \"many\"\n", "bad.toml: key density.max_instances: expected an integer"),
        ("[density.max_instances_by_backend]\nkvm = 1\n", "bad.toml: key density.max_instances_by_backend.kvm: expected a backend"),
        ("workloads = [\"cpu\", \"gpu\"]\n", "bad.toml: key workloads: expected names from startup"),
    ])
    func malformedSuitesAreRefusedNamingWhatIsWrong(text: String, expected: String) {
        #expect {
            _ = try SuiteFile.parse(text, file: "bad.toml")
        } throws: { error in
            guard let e = error as? IntermodalError else { return false }
            return e.code == .invalidArgument && e.description.hasPrefix(expected)
        }
    }

    /// toml++ asserted (SIGABRT) on these table headers; the fuzz test below found the first.
    @Test(arguments: ["[=x]", "[.a]", "[#]", "[[+a]]", "  [ é]", "[[[a]]]"])
    func tableHeadersTOMLKitCannotParseAreRefused(header: String) throws {
        let error = #expect(throws: IntermodalError.self) { _ = try SuiteFile.parse("runs = 3\n\(header)\n", file: "bad.toml") }
        #expect(error?.message.hasPrefix("bad.toml:2:") == true, "\(String(describing: error))")
    }

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    /// Mutation fuzzing of suite files: each mutant parses into a suite that meets the limits a
    /// results file's suite must meet too (so `--rerun` of its results is accepted), or fails
    /// with an `.invalidArgument` error naming the file. Seeded and bounded, so it runs in CI.
    @Test func mutatedSuiteFilesParseWithinTheLimitsOrFailNamingTheFile() throws {
        let seeds = [try FileSystem.readString(Self.example),
                     try FileSystem.readString(Self.example.removingLastComponent().appending("throughput.toml"))]
        let replacements = ["-5", "0", "1000000000", "99999999999999999999", "1e999", "nan", "inf", "\"../x\"", "\"\"", "[]",
                            "{}", "true", "-9223372036854775808", "\"a/b\"", "\"\\n\""]
        var rng = Generator(state: 0x5017E)
        var parsed = 0
        for i in 0..<3_000 {
            var lines = seeds[i % seeds.count].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let n = Int(rng.next() % UInt64(lines.count))
                if let eq = lines[n].firstIndex(of: "="), rng.next() % 4 != 0 {
                    lines[n] = String(lines[n][...eq]) + " " + replacements[Int(rng.next() % UInt64(replacements.count))]
                } else if !lines[n].isEmpty {
                    var chars = Array(lines[n])
                    chars[Int(rng.next() % UInt64(chars.count))] = Array("=[]\"#.-0x ")[Int(rng.next() % 10)]
                    lines[n] = String(chars)
                }
            }
            let file = "fuzz-\(i).toml"
            do {
                let suite = try SuiteFile.parse(lines.joined(separator: "\n"), file: file)
                parsed += 1
                #expect(throws: Never.self, "mutant \(i)") { try suite.validate() }
            } catch {
                #expect(error.code == .invalidArgument && error.message.contains(file), "mutant \(i): \(error)")
            }
        }
        #expect(parsed > 100, "the mutations were too destructive (\(parsed) parsed)")
    }
}
