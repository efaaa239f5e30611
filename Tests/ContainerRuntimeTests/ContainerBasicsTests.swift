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

extension ContainerBasicsTests {
    @Test("read-only root, masked and read-only paths")
    func readonlyAndMasked() async throws {
        let script = """
            touch /rootwrite 2>/dev/null && echo root=rw || echo root=ro
            echo keys=$(wc -c < /proc/keys)
            grep ' /proc/sys ' /proc/mounts | grep -q ' ro,' && echo procsys=ro || echo procsys=rw
            ls /sys/firmware | wc -l | sed 's/^/firmware=/'
            """
        let b = try await TestBundle.make(["sh", "-c", script])
        defer { b.cleanup() }
        var result: RunResult?
        let out = try await TestBundle.capture { io in
            result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(result?.status.code == 0)
        #expect(out.contains("root=ro"), "\(out)")
        #expect(out.contains("keys=0"), "\(out)")
        #expect(out.contains("procsys=ro"), "\(out)")
        #expect(out.contains("firmware=0"), "\(out)")
    }

    @Test("capabilities are reduced to the configured set and no_new_privs is set")
    func capabilitiesAndNoNewPrivs() async throws {
        let b = try await TestBundle.make(["sh", "-c", "grep -E 'CapEff|CapBnd|NoNewPrivs' /proc/self/status"])
        defer { b.cleanup() }
        let out = try await TestBundle.capture { io in
            _ = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29) = 0x20000420
        #expect(out.contains("CapEff:\t0000000020000420"), "\(out)")
        #expect(out.contains("CapBnd:\t0000000020000420"), "\(out)")
        #expect(out.contains("NoNewPrivs:\t1"), "\(out)")
    }

    @Test("a user namespace maps container root to the configured host range")
    func userNamespace() async throws {
        let b = try await TestBundle.make(["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u"]) { spec in
            spec.linux?.namespaces?.append(Spec.Namespace(type: "user"))
            spec.linux?.uidMappings = [Spec.IDMapping(containerID: 0, hostID: 100000, size: 65536)]
            spec.linux?.gidMappings = [Spec.IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        }
        defer { b.cleanup() }
        var result: RunResult?
        let out = try await TestBundle.capture { io in
            result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(result?.status.code == 0, "\(out)")
        let lines = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.first == "0 100000 65536", "\(out)")
        #expect(lines.dropFirst().first == "0 100000 65536", "\(out)")
        #expect(lines.last == "0", "\(out)")
    }

    @Test("the exit code of the process is propagated")
    func exitCode() async throws {
        let b = try await TestBundle.make(["sh", "-c", "exit 7"])
        defer { b.cleanup() }
        let result = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        #expect(result.status == ExitStatus(code: 7))
        #expect(result.timestamps[.create] != nil && result.timestamps[.start] != nil)
        #expect(result.timestamps[.exit] != nil && result.timestamps[.cleanup] != nil)
        #expect(try b.runtime.list().isEmpty)
    }

    @Test("a seccomp rule makes a syscall fail with EPERM")
    func seccompErrno() async throws {
        let b = try await TestBundle.make(["sh", "-c", "mkdir /tmp/x && echo made || echo refused"]) { spec in
            spec.root?.readonly = false
            var s = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
            s.syscalls = [Spec.Syscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1)]
            spec.linux?.seccomp = s
        }
        defer { b.cleanup() }
        let out = try await TestBundle.capture { io in
            _ = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io)
        }
        #expect(out.contains("refused"), "\(out)")
        #expect(out.contains("Operation not permitted"), "\(out)")
    }
}
