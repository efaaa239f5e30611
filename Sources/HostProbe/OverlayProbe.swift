import IntermodalCore
import SystemPackage

/// Mounts an overlay for real, inside a private mount namespace of a child process, so nothing
/// reaches the host's mount table even if the probe is killed half-way.
enum OverlayProbe {
    static func probe() async -> ProbeResult {
        let name = "overlayfs"
        let dir: FilePath
        do { dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-doctor-overlay") } catch {
            return ProbeResult(name, .missing, error.description)
        }
        defer { try? FileSystem.removeTree(dir) }
        let d = dir.string
        let script = """
            mkdir -p \(d)/lower \(d)/upper \(d)/work \(d)/merged && echo lower > \(d)/lower/f && \
            mount -t overlay overlay -o lowerdir=\(d)/lower,upperdir=\(d)/upper,workdir=\(d)/work \(d)/merged && \
            echo upper >> \(d)/merged/f && cat \(d)/upper/f
            """
        do {
            let r = try await HostCommand.run("unshare", ["--mount", "--propagation", "private", "sh", "-c", script])
            if r.succeeded && r.standardOutput == "lower\nupper\n" {
                return ProbeResult(name, .ok, "mounted, copy-up works", required: false)
            }
            return ProbeResult(
                name, .warning, "not usable (\(r.standardError.trimmed)); containers fall back to a copy of the image",
                fix: "modprobe overlay")
        } catch {
            return ProbeResult(name, .warning, error.description)
        }
    }
}
