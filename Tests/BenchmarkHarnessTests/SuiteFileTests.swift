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
}
