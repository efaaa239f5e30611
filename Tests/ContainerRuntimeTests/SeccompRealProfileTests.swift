#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import FoundationEssentials
import IntermodalCore
import SystemPackage
import Testing

/// A production profile: the default seccomp profile of podman/containers-common (Docker's
/// format: an ENOSYS default, a 370-name allow list, rules depending on capabilities and arches).
@Suite("seccomp: the containers-common default profile", .enabled(if: FileSystem.exists("/usr/share/containers/seccomp.json")))
struct SeccompRealProfileTests {
    static let path: FilePath = "/usr/share/containers/seccomp.json"

    /// Docker's profile format, the parts needed to turn it into an OCI one.
    struct DockerProfile: Decodable {
        struct Filter: Decodable { var caps: [String]?; var arches: [String]?; var minKernel: String? }
        struct Arg: Decodable { var index: UInt32; var value: UInt64; var valueTwo: UInt64?; var op: String }
        struct Syscall: Decodable {
            var names: [String]; var action: String; var errnoRet: UInt32?
            var args: [Arg]?; var includes: Filter?; var excludes: Filter?
        }
        struct ArchMap: Decodable { var architecture: String; var subArchitectures: [String]? }
        var defaultAction: String
        var defaultErrnoRet: UInt32?
        var archMap: [ArchMap]?
        var syscalls: [Syscall]
    }

    /// As Docker/podman resolve it for an amd64 process holding `caps`.
    static func ociProfile(caps: Set<String>) throws -> SeccompProfile {
        let data = try FileSystem.readBytes(path)
        let docker = try JSONDecoder().decode(DockerProfile.self, from: Data(data))
        let arches = docker.archMap?.first { $0.architecture == "SCMP_ARCH_X86_64" }
        func applies(_ s: DockerProfile.Syscall) -> Bool {
            if let a = s.includes?.arches, !a.isEmpty, !a.contains("amd64") { return false }
            if let c = s.includes?.caps, !c.isEmpty, !c.allSatisfy(caps.contains) { return false }
            if let a = s.excludes?.arches, a.contains("amd64") { return false }
            if let c = s.excludes?.caps, c.contains(where: caps.contains) { return false }
            return true
        }
        return SeccompProfile(
            defaultAction: docker.defaultAction, defaultErrnoRet: docker.defaultErrnoRet,
            architectures: arches.map { [$0.architecture] + ($0.subArchitectures ?? []) } ?? [],
            syscalls: docker.syscalls.filter(applies).map { s in
                SeccompProfile.Rule(
                    names: s.names, action: s.action, errnoRet: s.errnoRet,
                    args: (s.args ?? []).map { SeccompProfile.Arg(index: $0.index, value: $0.value, valueTwo: $0.valueTwo ?? 0, op: $0.op) })
            })
    }

    static let defaultCaps: Set<String> = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    @Test func compilesWithinTheKernelLimit() throws {
        let profile = try Self.ociProfile(caps: Self.defaultCaps)
        #expect(profile.syscalls.reduce(0) { $0 + $1.names.count } > 400)
        let program = try profile.compile()
        #expect(program.instructionCount > 100 && program.instructionCount <= 4096, "\(program.instructionCount)")
        // Names of other architectures or newer kernels than libseccomp 2.5 knows are skipped, not fatal.
        #expect(!program.skippedSyscalls.contains("read"))
        // More capabilities, more rules turned on: a different program.
        let admin = try Self.ociProfile(caps: Self.defaultCaps.union(["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"])).compile()
        #expect(admin.bpf != program.bpf)
    }

    @Test func aContainerRunsOrdinaryCommandsUnderIt() async throws {
        let profile = try Self.ociProfile(caps: Self.defaultCaps)
        let script = """
            grep -E '^Seccomp(_filters)?:' /proc/self/status
            ls / > /dev/null && echo ls-ok
            mkdir /tmp/d && echo hello > /tmp/d/f && cat /tmp/d/f | tr a-z A-Z
            (sleep 0 &) ; wait; echo fork-ok
            """
        let b = try await TestBundle.make(["sh", "-c", script]) { spec in
            spec.mounts?.append(Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"]))
            var s = Spec.Seccomp(defaultAction: profile.defaultAction)
            s.defaultErrnoRet = profile.defaultErrnoRet
            s.architectures = profile.architectures
            s.syscalls = profile.syscalls.map { r in
                Spec.Syscall(names: r.names, action: r.action, errnoRet: r.errnoRet, args: r.args.isEmpty ? nil : r.args.map {
                    Spec.SyscallArg(index: UInt($0.index), value: $0.value, valueTwo: $0.valueTwo, op: $0.op)
                })
            }
            spec.linux?.seccomp = s
        }
        defer { b.cleanup() }
        var status: IntermodalCore.ExitStatus?
        let out = try await TestBundle.capture { io in
            status = try await b.runtime.run(id: TestBundle.uniqueID, bundle: b.bundle, io: io).status
        }
        #expect(status == IntermodalCore.ExitStatus(code: 0), "\(out)")
        #expect(out.contains("Seccomp:\t2"), "\(out)")            // SECCOMP_MODE_FILTER
        #expect(out.contains("ls-ok") && out.contains("HELLO") && out.contains("fork-ok"), "\(out)")
    }
}
