/// One test at a time among those that drive podman, docker or containerd: their shims make
/// directories at fixed host paths (`/run/containerd/s`, `/run/containerd/runc`), which each
/// test removes only if it made them, and a backend's cgroup parent is named by the process and
/// the engine (`/intermodal-bench-podman-PID`), shared by every test of that engine in this
/// process. Suites run in parallel, so these tests take this lock around their engine's life.
actor PeerEngineLock {
    static let shared = PeerEngineLock()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func exclusively<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
