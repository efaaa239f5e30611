import IntermodalCore

/// Finds host programs and asks each for its version.
enum ToolProbe {
    struct Tool: Sendable {
        var label: String
        var program: String
        var versionArguments: [String]
        var package: String
        var required: Bool
        /// Picks the version out of the first lines of output.
        var pick: @Sendable (String) -> String = { $0.split(separator: "\n").first.map(String.init)?.trimmed ?? "" }
    }

    static let tools: [Tool] = [
        Tool(label: "qemu", program: "qemu-system-x86_64", versionArguments: ["--version"], package: "qemu-system-x86", required: true),
        Tool(label: "qemu-img", program: "qemu-img", versionArguments: ["--version"], package: "qemu-utils", required: true),
        Tool(label: "mkfs.ext4", program: "mkfs.ext4", versionArguments: ["-V"], package: "e2fsprogs", required: true,
             pick: { $0.split(separator: "\n").first.map(String.init)?.trimmed ?? "" }),
        Tool(label: "busybox-static", program: "busybox", versionArguments: [], package: "busybox-static", required: true,
             pick: { $0.split(separator: "\n").first.map(String.init)?.trimmed ?? "" }),
        Tool(label: "debootstrap", program: "debootstrap", versionArguments: ["--version"], package: "debootstrap", required: false),
        Tool(label: "gnuplot", program: "gnuplot", versionArguments: ["--version"], package: "gnuplot-nox", required: true),
        Tool(label: "peer: runc", program: "runc", versionArguments: ["--version"], package: "runc", required: false),
        Tool(label: "peer: crun", program: "crun", versionArguments: ["--version"], package: "crun", required: false),
        Tool(label: "peer: podman", program: "podman", versionArguments: ["--version"], package: "podman", required: false),
        Tool(label: "peer: docker", program: "docker", versionArguments: ["--version"], package: "docker.io", required: false),
        Tool(label: "hyperfine", program: "hyperfine", versionArguments: ["--version"], package: "hyperfine", required: false),
    ]

    static func probe(_ tool: Tool) async -> ProbeResult {
        guard let path = HostCommand.find(tool.program) else {
            return ProbeResult(tool.label, .missing, "\(tool.program) not found in PATH",
                               fix: "apt-get install \(tool.package) (or run scripts/setup)", required: tool.required)
        }
        do {
            let r = try await HostCommand.run(path.string, tool.versionArguments)
            let text = r.standardOutput.isEmpty ? r.standardError : r.standardOutput
            let version = tool.pick(text)
            guard r.succeeded || !version.isEmpty else {
                return ProbeResult(tool.label, .missing, "\(path) did not run: \(r.standardError.trimmed)",
                                   fix: "reinstall \(tool.package)", required: tool.required)
            }
            return ProbeResult(tool.label, .ok, "\(version) (\(path))", required: tool.required)
        } catch {
            return ProbeResult(tool.label, .missing, error.description, required: tool.required)
        }
    }

    /// Docker's client may be installed while no engine answers: say which.
    static func dockerEngine() async -> ProbeResult? {
        guard HostCommand.find("docker") != nil else { return nil }
        guard let r = try? await HostCommand.run("docker", ["version", "--format", "{{.Server.Version}}"]) else { return nil }
        if r.succeeded, !r.standardOutput.trimmed.isEmpty {
            return ProbeResult("peer: docker engine", .ok, "server \(r.standardOutput.trimmed)")
        }
        return ProbeResult("peer: docker engine", .warning, "client only: no docker daemon answers (docker is skipped as a peer)",
                           fix: "start dockerd to include docker in comparisons")
    }

    static func probeAll() async -> [ProbeResult] {
        var results: [ProbeResult] = []
        for tool in tools { results.append(await probe(tool)) }
        if let engine = await dockerEngine() { results.append(engine) }
        return results
    }
}
