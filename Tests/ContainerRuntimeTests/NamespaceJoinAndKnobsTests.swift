#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

@Suite("real containers: joined namespaces, sysctl, oomScoreAdj, devices")
struct NamespaceJoinAndKnobsTests {
    @Test("a container joins another's uts and network namespaces by path")
    func joinByPath() async throws {
        let a = try await TestBundle.make(["sleep", "300"]) { spec in spec.hostname = "intermodal-first" }
        defer { a.cleanup() }
        let idA = TestBundle.uniqueID
        let first = try await a.runtime.create(id: idA, bundle: a.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        try await a.runtime.start(id: idA)
        defer { try? a.runtime.deleteSync(id: idA, force: true) }

        let b = try await TestBundle.make(["sh", "-c", "hostname; readlink /proc/self/ns/net"]) { spec in
            spec.hostname = nil
            let joined = spec.linux?.namespaces?.map { ns -> Spec.Namespace in
                switch ns.type {
                case "uts": return Spec.Namespace(type: "uts", path: "/proc/\(first.pid)/ns/uts")
                case "network": return Spec.Namespace(type: "network", path: "/proc/\(first.pid)/ns/net")
                default: return ns
                }
            }
            spec.linux?.namespaces = joined
        }
        defer { b.cleanup() }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/\(first.pid)/ns/net", &buffer, buffer.count - 1)
        let expectedNet = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var result: RunResult?
        let out = try await TestBundle.capture { io in
            result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(result?.status.code == 0, "\(out)")
        #expect(out == "intermodal-first\n\(expectedNet)\n", "\(out)")
    }

    @Test("sysctl, oomScoreAdj and an extra device are applied")
    func knobs() async throws {
        let b = try await TestBundle.make(["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; ls -l /dev/intermodal-null | cut -c1"]) { spec in
            spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
            spec.process?.oomScoreAdj = 500
            spec.linux?.devices = [Spec.Device(type: "c", path: "/dev/intermodal-null", major: 1, minor: 3, fileMode: 0o666)]
        }
        defer { b.cleanup() }
        let hostBefore = try FileSystem.readString("/proc/sys/net/ipv4/ip_forward")
        var result: RunResult?
        let out = try await TestBundle.capture { io in
            result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(result?.status.code == 0, "\(out)")
        #expect(out == "1\n500\nc\n", "\(out)")
        // The sysctl went to the container's network namespace, not the host's.
        #expect(try FileSystem.readString("/proc/sys/net/ipv4/ip_forward") == hostBefore)
    }
}
