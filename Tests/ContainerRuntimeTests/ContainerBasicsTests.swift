import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

@Suite("real containers: isolation")
struct ContainerBasicsTests {
    @Test("the process is PID 1 with the configured hostname, only lo in its netns")
    func pidHostnameNetwork() async throws {
        let b = try await TestBundle.make(["sh", "-c", "echo pid=$$; hostname; ls /sys/class/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1"])
        defer { b.cleanup() }
        var result: RunResult?
        let out = try await TestBundle.capture { io in
            result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(result?.status == ExitStatus(code: 0))
        #expect(out.contains("pid=1\n"))
        #expect(out.contains("intermodal\n"))
        let interfaces = out.split(separator: "\n").dropFirst(2).map { $0.trimmed }
        #expect(Set(interfaces) == ["lo"], "output: \(out)")
    }
}
