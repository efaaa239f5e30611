#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import Foundation
import IntermodalCore
import SystemPackage
import Testing

/// The findings of runtime-tools' validation suite, each as a test of our own through the
/// `intermodal-runtime` binary on runtime-tools-style bundles.
// 10 minutes per test (was 3): alone the poststart test below takes about a second, but in the
// whole suite it took minutes. Its 100 runtime calls each wait for a turn on the 2-thread
// cooperative pool, and gdb found both threads filling busybox trees for other tests. That and
// the store's unpacking now run on threads of their own (271 s became 153 s in a cold run); the
// rest is other tests' work on the same two cores. The hang watchdog of scripts/test still
// catches a real hang.
@Suite("intermodal-runtime: OCI conformance", .timeLimit(.minutes(10)))
struct ConformanceCLITests {
    // MARK: linux_cgroups_memory: kernel memory limits

    @Test("memory.kernel and memory.kernelTCP are accepted and ignored with a warning naming each; the memory limit applies")
    func kernelMemoryIgnored() async throws {
        let b = try await RuntimeToolsBundle.make(["true"]) { spec in
            spec.linux?.resources = Spec.LinuxResources()
            var memory = Spec.Memory(limit: 64 << 20, reservation: 32 << 20)
            memory.kernel = 16 << 20
            memory.kernelTCP = 8 << 20
            spec.linux?.resources?.memory = memory
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let r = try await b.cli(["create", "--bundle", b.bundle.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(r.standardError.contains("linux.resources.memory.kernel: ignored"), "\(r.standardError)")
        #expect(r.standardError.contains("linux.resources.memory.kernelTCP: ignored"), "\(r.standardError)")
        let dirs = try Runtime(stateRoot: b.test.stateRoot).cgroupDirectories(id: id)
        let limits = dirs.compactMap { dir in
            (try? FileSystem.readString(dir.appending("memory.max"))) ?? (try? FileSystem.readString(dir.appending("memory.limit_in_bytes")))
        }
        #expect(limits.map(\.trimmed).contains("\(64 << 20)"), "memory limit files: \(limits) in \(dirs)")
        #expect(try await b.cli(["start", id]).exitCode == 0)
        #expect(try await b.waitStopped(id))
        #expect(try await b.cli(["delete", id]).exitCode == 0)
    }

    // MARK: linux_mount_label: SELinux labels without SELinux

    @Test("linux.mountLabel and process.selinuxLabel are ignored with a warning on a host without SELinux",
          .enabled(if: !FileSystem.exists("/sys/fs/selinux/enforce")))
    func selinuxLabelsIgnored() async throws {
        let b = try await RuntimeToolsBundle.make(["sh", "-c", "echo ran"]) { spec in
            spec.linux?.mountLabel = "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811"
            spec.process?.selinuxLabel = "system_u:system_r:svirt_lxc_net_t:s0:c715,c811"
        }
        defer { b.cleanup() }
        let r = try await b.cli(["run", "--bundle", b.bundle.string, TestBundle.uniqueID])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(r.standardOutput == "ran\n")
        #expect(r.standardError.contains("linux.mountLabel: ignored: SELinux is not enabled on this host"), "\(r.standardError)")
        #expect(r.standardError.contains("process.selinuxLabel: ignored: SELinux is not enabled on this host"), "\(r.standardError)")
    }

    // MARK: linux_ns_itype: no namespaces at all

    @Test("without a mount namespace the container shares the host's namespaces, is chrooted, and mounts nothing on the host")
    func noMountNamespace() async throws {
        let b = try await RuntimeToolsBundle.make(["sh", "-c", "echo in-root > /chrooted; exec sleep 300"]) { spec in
            spec.linux?.namespaces = []     // every namespace inherited, as linux_ns_itype does
            spec.hostname = nil             // a hostname needs a uts namespace
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        var r = try await b.cli(["create", "--bundle", b.bundle.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        for field in ["mounts", "linux.maskedPaths", "linux.readonlyPaths"] {
            #expect(r.standardError.contains("\(field): ignored: the container has no mount namespace"), "\(field): \(r.standardError)")
        }
        let pid = try #require(try await b.pid(id))
        for ns in ["mnt", "pid", "net", "ipc", "uts", "user", "cgroup"] {
            let mine = HostPaths.readLink("/proc/self/ns/\(ns)")
            #expect(HostPaths.readLink("/proc/\(pid)/ns/\(ns)") == mine, "namespace \(ns)")
        }
        #expect(HostPaths.readLink("/proc/\(pid)/root") == HostPaths.real(b.rootfs))
        // Nothing was mounted in the host's namespace: no bind of the root, no /proc in it.
        let mountinfo = try FileSystem.readString("/proc/self/mountinfo")
        #expect(!mountinfo.contains(HostPaths.real(b.rootfs)), "\(mountinfo)")
        r = try await b.cli(["start", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        var written = false
        for _ in 0..<3000 where !written {
            written = (try? FileSystem.readString(b.rootfs.appending("chrooted"))) == "in-root\n"
            if !written { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(written, "the process should have written /chrooted inside its root")
        // exec gets the same root.
        r = try await b.cli(["exec", id, "cat", "/chrooted"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(r.standardOutput == "in-root\n")
        r = try await b.cli(["delete", "--force", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
    }

    // MARK: linux_ns_path: a uts namespace joined by path, with a hostname

    @Test("joining a uts namespace by path with hostname sets the name inside the joined namespace")
    func utsJoinedByPathWithHostname() async throws {
        // The namespace to join belongs to a first container, as an `unshare --uts` process would hold it.
        let holder = try await RuntimeToolsBundle.make(["sleep", "300"]) { spec in spec.hostname = "holder" }
        defer { holder.cleanup() }
        let holderID = TestBundle.uniqueID
        var r = try await holder.cli(["run", "--detach", "--bundle", holder.bundle.string, holderID])
        #expect(r.exitCode == 0, "\(r.standardError)")
        let holderPID = try #require(try await holder.pid(holderID))
        let utsPath = "/proc/\(holderPID)/ns/uts"

        let b = try await RuntimeToolsBundle.make(["sh", "-c", "hostname > /name; exec sleep 300"]) { spec in
            spec.hostname = "joined"
            let namespaces = spec.linux?.namespaces ?? []
            spec.linux?.namespaces = namespaces.map { $0.type == "uts" ? Spec.Namespace(type: "uts", path: utsPath) : $0 }
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        r = try await b.cli(["run", "--detach", "--bundle", b.bundle.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        let pid = try #require(try await b.pid(id))
        #expect(HostPaths.readLink("/proc/\(pid)/ns/uts") == HostPaths.readLink(utsPath))
        var name = ""
        for _ in 0..<3000 where name.isEmpty {
            name = (try? FileSystem.readString(b.rootfs.appending("name"))) ?? ""
            if name.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(name == "joined\n")
        // The holder sees the name too: it is the same namespace, not the host's.
        r = try await holder.cli(["exec", holderID, "hostname"])
        #expect(r.standardOutput == "joined\n", "\(r.standardError)")
        #expect(try await b.cli(["delete", "--force", id]).exitCode == 0)
        #expect(try await holder.cli(["delete", "--force", holderID]).exitCode == 0)
    }

    // MARK: linux_rootfs_propagation

    /// runtime-tools' check, in the container (privileged): bind "/" elsewhere, mount a tmpfs,
    /// and see whether it shows through the bind (only when "/" is shared); an unbindable "/"
    /// cannot be bound at all.
    static let propagationProbe = """
        if mount --rbind / /probe-target 2>/dev/null; then
          mount -t tmpfs tmpfs /probe-mount && touch /probe-mount/file || { echo setup-failed; exit 1; }
          if [ -e /probe-target/probe-mount/file ]; then echo exposed; else echo hidden; fi
        else
          echo unbindable
        fi
        """

    @Test("rootfsPropagation: every mode starts, and / propagates as asked",
          arguments: [("shared", "exposed"), ("rshared", "exposed"), ("slave", "hidden"), ("rslave", "hidden"),
                      ("private", "hidden"), ("rprivate", "hidden"), ("unbindable", "unbindable"), ("runbindable", "unbindable")])
    func rootfsPropagation(_ mode: String, _ expected: String) async throws {
        let b = try await RuntimeToolsBundle.make(["sh", "-c", Self.propagationProbe]) { spec in
            spec.linux?.rootfsPropagation = mode
            let all = RuntimeToolsBundle.capabilities + ["CAP_SYS_ADMIN"]
            spec.process?.capabilities = Spec.Capabilities(bounding: all, effective: all, permitted: all)
            spec.linux?.maskedPaths = []
            spec.linux?.readonlyPaths = []
        }
        defer { b.cleanup() }
        try FileSystem.createDirectory(b.rootfs.appending("probe-mount"))
        try FileSystem.createDirectory(b.rootfs.appending("probe-target"))
        let r = try await b.cli(["run", "--bundle", b.bundle.string, TestBundle.uniqueID])
        #expect(r.exitCode == 0, "\(mode): \(r.standardError)")
        #expect(r.standardOutput == expected + "\n", "\(mode): \(r.standardOutput) \(r.standardError)")
    }

    // MARK: hooks_stdin, poststart

    struct HookState: Decodable {
        var ociVersion: String
        var id: String
        var status: String
        var pid: Int?
        var bundle: String
        var annotations: [String: String]?
    }

    @Test("prestart, poststart and poststop hooks read the state from stdin: created, running, stopped")
    func hooksReadStateFromStdin() async throws {
        let b = try await RuntimeToolsBundle.make(["true"])
        defer { b.cleanup() }
        var spec = try Spec.load(bundle: b.bundle)
        spec.annotations = ["org.opencontainers.runtime-tools": "hook stdin test"]
        spec.hooks = Spec.Hooks()
        spec.hooks?.prestart = [b.shellHook("cat > \(b.directory.appending("prestart"))")]
        spec.hooks?.poststart = [b.shellHook("cat > \(b.directory.appending("poststart"))")]
        spec.hooks?.poststop = [b.shellHook("cat > \(b.directory.appending("poststop"))")]
        try b.test.writeSpec(spec)
        let id = TestBundle.uniqueID
        var r = try await b.cli(["create", "--bundle", b.bundle.string, id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        let pid = try #require(try await b.pid(id))
        r = try await b.cli(["start", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(try await b.waitStopped(id))
        r = try await b.cli(["delete", id])
        #expect(r.exitCode == 0, "\(r.standardError)")
        for (hook, status) in [("prestart", "created"), ("poststart", "running"), ("poststop", "stopped")] {
            let data = try Data(contentsOf: URL(fileURLWithPath: b.directory.appending(hook).string))
            let state = try JSONDecoder().decode(HookState.self, from: data)
            #expect(state.status == status, "\(hook): \(state.status)")
            #expect(state.id == id, "\(hook)")
            #expect(state.bundle == b.bundle.string, "\(hook)")
            #expect(state.annotations == ["org.opencontainers.runtime-tools": "hook stdin test"], "\(hook)")
            if hook != "poststop" { #expect(state.pid.map(Int32.init) == pid, "\(hook)") }
        }
    }

    @Test("poststart hooks run after the user's program has executed, before start returns (20 runs)")
    func poststartAfterTheProcess() async throws {
        let b = try await RuntimeToolsBundle.make(["sh", "-c", "echo 'process called' >> /output"])
        defer { b.cleanup() }
        let output = b.rootfs.appending("output")
        var spec = try Spec.load(bundle: b.bundle)
        spec.hooks = Spec.Hooks()
        spec.hooks?.poststart = [b.shellHook("echo 'post-start called' >> \(output)", timeout: nil)]
        try b.test.writeSpec(spec)
        for run in 0..<20 {
            unlink(output.string)
            let id = TestBundle.uniqueID
            var r = try await b.cli(["create", "--bundle", b.bundle.string, id])
            #expect(r.exitCode == 0, "\(r.standardError)")
            #expect(!FileSystem.exists(output), "run \(run): nothing may run before start")
            r = try await b.cli(["start", id])
            #expect(r.exitCode == 0, "\(r.standardError)")
            // When start returns the poststart hook has run: its line is there.
            let afterStart = (try? FileSystem.readString(output)) ?? ""
            #expect(afterStart.contains("post-start called"), "run \(run): \(afterStart.debugDescription)")
            #expect(try await b.waitStopped(id))
            #expect(try FileSystem.readString(output) == "process called\npost-start called\n", "run \(run)")
            #expect(try await b.cli(["delete", id]).exitCode == 0)
        }
    }
}

