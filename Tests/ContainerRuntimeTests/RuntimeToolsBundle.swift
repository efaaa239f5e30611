#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// Bundles shaped like the ones opencontainers/runtime-tools' validation generates (its default
/// generator: many fields set at once, a writable root, the conventional capability set and
/// hostname), driven through the `intermodal-runtime` binary as that suite drives a runtime.
struct RuntimeToolsBundle {
    let test: TestBundle
    var bundle: FilePath { test.bundle }
    var rootfs: FilePath { test.rootfs }
    var directory: FilePath { test.directory }

    /// The capabilities runtime-tools' generator gives the process, in every set.
    static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    static func make(_ args: [String], configure: (inout Spec) -> Void = { _ in }) async throws -> RuntimeToolsBundle {
        let test = try await TestBundle.make(args) { spec in
            spec.root?.readonly = false
            spec.hostname = "mrsdalloway"
            let caps = Self.capabilities
            spec.process?.capabilities = Spec.Capabilities(bounding: caps, effective: caps, permitted: caps)
            spec.process?.capabilities?.inheritable = caps
            spec.process?.capabilities?.ambient = caps
            spec.process?.rlimits = [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
            spec.process?.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]
            spec.annotations = ["org.opencontainers.runtime-tools": "conformance"]
            spec.linux?.namespaces = ["pid", "network", "ipc", "uts", "mount"].map { Spec.Namespace(type: $0) }
            configure(&spec)
        }
        return RuntimeToolsBundle(test: test)
    }

    func cleanup() { test.cleanup() }

    /// `intermodal-runtime --root <state> args...`.
    func cli(_ args: [String]) async throws -> CommandResult {
        try await HostCommand.run(RuntimeCLITests.binary.string, ["--root", test.stateRoot.string] + args)
    }

    /// A hook running the rootfs's busybox `sh -c script` (runtime-tools' hooks are written so).
    func shellHook(_ script: String, timeout: Int? = 1) -> Spec.Hook {
        Spec.Hook(path: rootfs.appending("bin/sh").string, args: ["sh", "-c", script], timeout: timeout)
    }

    /// Polls `state` until the container has stopped (at most `seconds`).
    func waitStopped(_ id: String, seconds: Int = 10) async throws -> Bool {
        for _ in 0..<(seconds * 20) {
            if try await cli(["state", id]).standardOutput.contains("\"status\":\"stopped\"") { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// The container's init pid, from `state`.
    func pid(_ id: String) async throws -> Int32? {
        let out = try await cli(["state", id]).standardOutput
        guard let r = out.range(of: "\"pid\":") else { return nil }
        return Int32(out[r.upperBound...].prefix { $0.isNumber })
    }
}

/// Symbolic links and real paths as the kernel reports them (/proc/<pid>/ns, /proc/<pid>/root).
enum HostPaths {
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func real(_ path: FilePath) -> String {
        guard let p = realpath(path.string, nil) else { return path.string }
        defer { free(p) }
        return String(cString: p)
    }
}
