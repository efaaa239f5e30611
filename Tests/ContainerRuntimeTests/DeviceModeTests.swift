import ContainerRuntime
import IntermodalCore
import Testing

@Suite("device nodes")
struct DeviceModeTests {
    /// The default devices carry the spec's modes whatever our umask: /dev/null is 0666 and a
    /// non-root process can write it (apt-get's `_apt` user relies on that).
    @Test func defaultDevicesAreWorldWritableForANonRootUser() async throws {
        let b = try await TestBundle.make(["sh", "-c", "stat -c '%a %n' /dev/null /dev/zero /dev/urandom; echo x > /dev/null && echo wrote"]) { spec in
            spec.process?.user.uid = 1000
            spec.process?.user.gid = 1000
        }
        defer { b.cleanup() }
        var result: RunResult?
        let out = try await TestBundle.capture { io in
            result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(result?.status == ExitStatus(code: 0), "output: \(out)")
        #expect(out.contains("666 /dev/null"))
        #expect(out.contains("666 /dev/zero"))
        #expect(out.contains("666 /dev/urandom"))
        #expect(out.contains("wrote"))
    }
}
