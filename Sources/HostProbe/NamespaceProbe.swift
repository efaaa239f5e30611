import IntermodalCore

/// Tries each namespace kind for real: util-linux `unshare` makes one and runs a command in it.
/// A probe in a child process leaves this process (and the host) untouched.
enum NamespaceProbe {
    struct Kind: Sendable {
        var name: String
        var flags: [String]
        /// A command whose output proves the namespace is new, and what it must print.
        var command: [String]
        var expect: String?
        var required: Bool
    }

    static let kinds: [Kind] = [
        Kind(name: "mount", flags: ["--mount"], command: ["true"], expect: nil, required: true),
        Kind(name: "uts", flags: ["--uts"], command: ["sh", "-c", "hostname intermodal-probe && hostname"], expect: "intermodal-probe", required: true),
        Kind(name: "ipc", flags: ["--ipc"], command: ["true"], expect: nil, required: true),
        Kind(name: "pid", flags: ["--pid", "--fork", "--mount-proc"], command: ["sh", "-c", "echo $$"], expect: "1", required: true),
        Kind(name: "network", flags: ["--net"], command: ["sh", "-c", "ip -o link | cut -d: -f2 | tr -d ' \\n'"], expect: "lo", required: true),
        Kind(name: "user", flags: ["--user", "--map-root-user"], command: ["id", "-u"], expect: "0", required: false),
        Kind(name: "cgroup", flags: ["--cgroup"], command: ["true"], expect: nil, required: false),
        Kind(name: "time", flags: ["--time"], command: ["true"], expect: nil, required: false),
    ]

    static func probe(_ kind: Kind) async -> ProbeResult {
        let name = "namespace: \(kind.name)"
        guard HostCommand.find("unshare") != nil else {
            return ProbeResult(name, .missing, "util-linux unshare not found", fix: "apt-get install util-linux", required: kind.required)
        }
        do {
            let r = try await HostCommand.run("unshare", kind.flags + kind.command)
            guard r.succeeded else {
                return ProbeResult(
                    name, .missing, "unshare \(kind.flags.joined(separator: " ")) failed: \(r.standardError.trimmed)",
                    required: kind.required)
            }
            if let expect = kind.expect, r.standardOutput.trimmed != expect {
                return ProbeResult(
                    name, .missing, "inside, expected \(expect) but got \(r.standardOutput.trimmed)", required: kind.required)
            }
            return ProbeResult(name, .ok, "created and entered", required: kind.required)
        } catch {
            return ProbeResult(name, .missing, error.description, required: kind.required)
        }
    }

    static func probeAll() async -> [ProbeResult] {
        var results: [ProbeResult] = []
        for kind in kinds { results.append(await probe(kind)) }
        return results
    }
}
