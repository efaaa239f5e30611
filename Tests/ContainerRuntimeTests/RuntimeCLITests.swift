#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

/// The built `intermodal-runtime` binary, end to end, as a runc caller would drive it.
@Suite("intermodal-runtime binary")
struct RuntimeCLITests {
    /// The products directory holds the test runner and the executables.
    static var binary: FilePath {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = FilePath(String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        return exe.removingLastComponent().appending("intermodal-runtime")
    }

    func cli(_ b: TestBundle, _ args: [String]) async throws -> CommandResult {
        try await HostCommand.run(Self.binary.string, ["--root", b.stateRoot.string] + args)
    }

    @Test("create, state, start, kill, delete and the runc-style errors")
    func lifecycle() async throws {
        let b = try await TestBundle.make(["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"])
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let pidFile = b.directory.appending("pid")
        var r = try await cli(b, ["create", "--bundle", b.bundle.string, "--pid-file", pidFile.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["state", id])
        #expect(r.standardOutput.contains("\"status\":\"created\""), "\(r.standardOutput)")
        let pid = try FileSystem.readString(pidFile)
        #expect(r.standardOutput.contains("\"pid\":\(pid)"))
        r = try await cli(b, ["start", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["start", id])
        #expect(r.exitCode == 1)
        #expect(r.standardError.contains("cannot start an already running container"), "\(r.standardError)")
        r = try await cli(b, ["delete", id])
        #expect(r.exitCode == 1)
        #expect(r.standardError.contains("that is not stopped: running"), "\(r.standardError)")
        r = try await cli(b, ["list", "--format", "json"])
        #expect(r.standardOutput.contains("\"id\":\"\(id)\""))
        try await Task.sleep(for: .milliseconds(200))
        r = try await cli(b, ["kill", id, "TERM"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        var stopped = false
        for _ in 0..<1200 where !stopped {
            stopped = try await cli(b, ["state", id]).standardOutput.contains("\"status\":\"stopped\"")
            if !stopped { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(stopped)
        r = try await cli(b, ["delete", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        r = try await cli(b, ["state", id])
        #expect(r.exitCode == 1)
        #expect(r.standardError.contains("container \"\(id)\" does not exist"), "\(r.standardError)")
    }

    @Test("run propagates the exit code; a missing binary fails with runc's text and a log line")
    func runAndErrors() async throws {
        let b = try await TestBundle.make(["sh", "-c", "echo hello from $(hostname); exit 5"])
        defer { b.cleanup() }
        var r = try await cli(b, ["run", "-b", b.bundle.string, TestBundle.uniqueID])
        #expect(r.exitCode == 5)
        #expect(r.standardOutput == "hello from intermodal\n")

        var spec = try Spec.load(bundle: b.bundle)
        spec.process?.args = ["nosuchprog"]
        try b.writeSpec(spec)
        let log = b.directory.appending("log.json")
        r = try await HostCommand.run(Self.binary.string, ["--root", b.stateRoot.string, "--log", log.string, "--log-format", "json", "run", "-b", b.bundle.string, TestBundle.uniqueID])
        #expect(r.exitCode == 1)
        #expect(r.standardError.contains("exec: \"nosuchprog\": executable file not found in $PATH"), "\(r.standardError)")
        #expect(try FileSystem.readString(log).contains("\"level\":\"error\""))
        #expect(try b.runtime.list().isEmpty)

        r = try await cli(b, ["--version"])
        #expect(r.exitCode == 0 && r.standardOutput.hasPrefix("intermodal-runtime version"))
    }
}
