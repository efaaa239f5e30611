#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

@Suite("real containers: lifecycle")
struct LifecycleTests {
    @Test("create holds the process, start runs it, kill delivers the signal, delete cleans up")
    func createStartKillDelete() async throws {
        let b = try await TestBundle.make(["sh", "-c", "trap 'exit 42' TERM; echo up; while :; do sleep 0.05; done"])
        defer { b.cleanup() }
        let rt = b.runtime
        let id = TestBundle.uniqueID
        let container = try await rt.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        #expect(try rt.state(id: id).status == .created)
        #expect(try rt.state(id: id).pid == container.pid)
        try await rt.start(id: id)
        #expect(try rt.state(id: id).status == .running)
        let again = await #expect(throws: IntermodalError.self) { try await rt.start(id: id) }
        #expect(again?.code == .invalidState)
        let notStopped = await #expect(throws: IntermodalError.self) { try await rt.delete(id: id) }
        #expect(notStopped?.message.contains("not stopped") == true)
        try await Task.sleep(for: .milliseconds(200))   // let the shell install its trap
        try rt.kill(id: id, signal: SIGTERM)
        let status = try await container.wait()
        #expect(status == ExitStatus(code: 42))
        #expect(try rt.state(id: id).status == .stopped)
        let cgroups = try rt.cgroupDirectories(id: id)
        try await rt.delete(id: id)
        let unknown = #expect(throws: IntermodalError.self) { try rt.state(id: id) }
        #expect(unknown?.code == .notFound)
        for dir in cgroups { #expect(!FileSystem.exists(dir), "cgroup \(dir) left behind") }
    }

    @Test("create from a Spec the caller holds: it is what runs (config.json is not read again), and it is validated")
    func createFromAGivenSpec() async throws {
        let b = try await TestBundle.make(["sh", "-c", "exit 3"])
        defer { b.cleanup() }
        let rt = b.runtime
        // The caller's configuration is used: the file on disk says exit 3, the given one exit 5.
        let given = Spec.default(args: ["sh", "-c", "exit 5"])
        let id = TestBundle.uniqueID
        let container = try await rt.create(id: id, bundle: b.bundle, spec: given, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        try await rt.start(id: id)
        #expect(try await container.wait() == ExitStatus(code: 5))
        try await rt.delete(id: id)

        var invalid = given
        invalid.linux?.namespaces?.append(Spec.Namespace(type: "pidx"))
        let refused = await #expect(throws: IntermodalError.self) {
            _ = try await rt.create(id: TestBundle.uniqueID, bundle: b.bundle, spec: invalid)
        }
        #expect(refused?.message.contains("config.json") == true && refused?.message.contains("pidx") == true, "\(refused?.message ?? "")")
        #expect(try rt.list().isEmpty)
    }

    @Test("delete --force of a created container kills it and leaves nothing")
    func forceDeleteCreated() async throws {
        let b = try await TestBundle.make(["sleep", "100"])
        defer { b.cleanup() }
        let rt = b.runtime
        let id = TestBundle.uniqueID
        let container = try await rt.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        try await rt.delete(id: id, force: true)
        let status = try await container.wait()
        #expect(status.signal == SIGKILL)
        #expect(try rt.list().isEmpty)
    }

    @Test("kill --all reaches every process of the container")
    func killAll() async throws {
        let b = try await TestBundle.make(["sh", "-c", "sleep 100 & sleep 100 & wait"])
        defer { b.cleanup() }
        let rt = b.runtime
        let id = TestBundle.uniqueID
        let container = try await rt.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        try await rt.start(id: id)
        try await Task.sleep(for: .milliseconds(100))
        try rt.kill(id: id, signal: SIGKILL, all: true)
        let status = try await container.wait()
        #expect(status.signal == SIGKILL)
        try await rt.delete(id: id)
    }

    @Test("hooks run in order, each with the state on stdin")
    func hooksInOrder() async throws {
        let b = try await TestBundle.make(["true"])
        defer { b.cleanup() }
        let log = b.directory.appending("hooklog")
        try FileSystem.createDirectory(log)
        chmod(log.string, 0o777)
        var spec = try Spec.load(bundle: b.bundle)
        // Host-side hooks use the host's sh; startContainer runs inside the container (busybox sh)
        // and sees the log directory through a bind mount.
        func host(_ name: String) -> Spec.Hook {
            Spec.Hook(path: "/bin/sh", args: ["sh", "-c", "read -r s; echo \(name) >> \(log)/order; echo \"$s\" > \(log)/\(name).json"])
        }
        spec.mounts?.append(Spec.Mount(destination: "/hooklog", type: "bind", source: log.string, options: ["rbind", "rw"]))
        var hooks = Spec.Hooks()
        hooks.prestart = [host("prestart")]
        hooks.createRuntime = [host("createRuntime")]
        hooks.createContainer = [host("createContainer")]
        hooks.startContainer = [Spec.Hook(path: "/bin/sh", args: ["sh", "-c", "read -r s; echo startContainer >> /hooklog/order; echo \"$s\" > /hooklog/startContainer.json"])]
        hooks.poststart = [host("poststart")]
        hooks.poststop = [host("poststop")]
        spec.hooks = hooks
        try b.writeSpec(spec)
        let id = TestBundle.uniqueID
        let result = try await b.runtime.run(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        #expect(result.status.code == 0)
        let order = try FileSystem.readString(log.appending("order")).split(separator: "\n").map(String.init)
        #expect(order == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
        for name in order {
            let json = try FileSystem.readString(log.appending("\(name).json"))
            #expect(json.contains("\"id\":\"\(id)\""), "\(name): \(json)")
        }
        #expect(try FileSystem.readString(log.appending("poststop.json")).contains("\"status\":\"stopped\""))
    }

    @Test("a missing binary fails create with runc's message and leaves nothing behind")
    func missingBinary() async throws {
        let b = try await TestBundle.make(["nosuchprog", "-x"])
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let error = await #expect(throws: IntermodalError.self) {
            _ = try await b.runtime.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        }
        // Its own code, which gives Docker's 127 (a missing file elsewhere is .notFound, 125).
        #expect(error?.code == .commandNotFound)
        #expect(error?.dockerExitStatus == 127)
        #expect(error?.description == "exec: \"nosuchprog\": executable file not found in $PATH")
        try expectNothingLeft(b, id: id)
    }

    @Test("bad config.json fails with the field named and leaves nothing behind")
    func badConfig() async throws {
        let b = try await TestBundle.make(["true"])
        defer { b.cleanup() }
        var text = try FileSystem.readString(b.bundle.appending("config.json"))
        text = text.replacingFirst("\"cwd\" : \"/\"", with: "\"cwd\" : 5")
        try FileSystem.writeAtomically(text, to: b.bundle.appending("config.json"))
        let id = TestBundle.uniqueID
        let error = await #expect(throws: IntermodalError.self) {
            _ = try await b.runtime.create(id: id, bundle: b.bundle)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("process.cwd") == true, "\(String(describing: error))")
        try expectNothingLeft(b, id: id)
    }

    @Test("a failing mount is reported by step and leaves nothing behind")
    func failingMount() async throws {
        let b = try await TestBundle.make(["true"]) { spec in
            spec.mounts?.append(Spec.Mount(destination: "/data", type: "nosuchfs", source: "x"))
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let error = await #expect(throws: IntermodalError.self) {
            _ = try await b.runtime.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        }
        #expect(error?.description.hasPrefix("mount nosuchfs on /data: ") == true, "\(String(describing: error))")
        try expectNothingLeft(b, id: id)
    }

    @Test("raising an rlimit above the hard limit says CAP_SYS_RESOURCE is needed")
    func rlimitAboveHard() async throws {
        var current = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &current)
        let b = try await TestBundle.make(["true"]) { spec in
            spec.process?.rlimits = [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: UInt64(current.rlim_max) + 1, soft: 1024)]
        }
        defer { b.cleanup() }
        let id = TestBundle.uniqueID
        let error = await #expect(throws: IntermodalError.self) {
            _ = try await b.runtime.create(id: id, bundle: b.bundle)
        }
        #expect(error?.message.contains("CAP_SYS_RESOURCE") == true, "\(String(describing: error))")
        try expectNothingLeft(b, id: id)
    }

    @Test("a step that fails after create returned is reported by start, and nothing is left")
    func lateFailureReportedByStart() async throws {
        let b = try await TestBundle.make(["true"]) { spec in
            spec.process?.user = Spec.User(uid: 1000, gid: 1000)
            spec.process?.cwd = "/root"
        }
        defer { b.cleanup() }
        chmod(b.rootfs.appending("root").string, 0o700)   // root may enter, uid 1000 may not
        let rt = b.runtime
        let id = TestBundle.uniqueID
        let container = try await rt.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        let error = await #expect(throws: IntermodalError.self) { try await rt.start(id: id) }
        #expect(error?.description == "chdir to cwd (\"/root\") set in config.json: Permission denied", "\(String(describing: error))")
        #expect(try await container.wait().code != 0)
        try await rt.delete(id: id)
        try expectNothingLeft(b, id: id)
    }

    private func expectNothingLeft(_ b: TestBundle, id: String) throws {
        #expect(!FileSystem.exists(b.stateRoot.appending(id)), "state directory left behind")
        for controller in ["memory", "pids", "cpu", "devices", "unified"] {
            let dir = FilePath("/sys/fs/cgroup/\(controller)/intermodal-\(id)")
            #expect(!FileSystem.exists(dir), "cgroup \(dir) left behind")
        }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(r, with: replacement)
        return copy
    }
}
