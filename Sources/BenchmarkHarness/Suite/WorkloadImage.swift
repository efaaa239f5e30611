import BenchmarkResults
import ContainerEngine
import Crypto
import ImageStore
import IntermodalCore
import SystemPackage
import VirtualMachines

/// The throughput workloads' image (`image = "workload"`): built by our own `build` from the
/// committed `Benchmarks/images/workload/Dockerfile`, FROM our debootstrapped Debian, and named
/// `workload:<first 12 hex digits of the SHA-256 of the Dockerfile and its context>`, so it is
/// built once and an edit builds it anew. Every backend then runs these same binaries.
public enum WorkloadImage {
    public static let name = "workload"
    static let repositoryPath = "Benchmarks/images/workload/Dockerfile"
    /// The tools each throughput workload runs from the image (servers in the instance, clients
    /// on the host).
    static let tools: [String: [String]] = [
        "cpu": ["sysbench"], "memory-bandwidth": ["stream"], "disk-io": ["fio"],
        "network": ["iperf3", "redis-server", "redis-benchmark"], "app": ["redis-server", "redis-benchmark"],
    ]

    /// The suite's Dockerfile: its own, or this repository's (found from the working directory,
    /// then from the executable's location, `.build/<configuration>/intermodal`).
    static func dockerfile(_ suite: Suite, executable: FilePath) throws(IntermodalError) -> FilePath {
        if let given = suite.dockerfile {
            guard FileSystem.exists(FilePath(given)) else { throw IntermodalError(.notFound, "the suite's dockerfile \(given) does not exist") }
            return FileSystem.absolute(FilePath(given))
        }
        var candidates = [FilePath(repositoryPath)]
        var dir = executable.removingLastComponent()
        for _ in 0..<5 {
            candidates.append(dir.appending(repositoryPath))
            dir = dir.removingLastComponent()
        }
        guard let found = candidates.first(where: { FileSystem.exists($0) }) else {
            throw IntermodalError(.notFound, "\(repositoryPath) is not under the working directory or above \(executable): run from the repository or set dockerfile in the suite")
        }
        return FileSystem.absolute(found)
    }

    /// SHA-256 over the Dockerfile and every other file of its directory (the build context:
    /// `stream.c`), by name and content, so that an edit of any of them builds the image anew.
    static func contextDigest(_ dockerfile: FilePath) throws(IntermodalError) -> String {
        let directory = dockerfile.removingLastComponent()
        var hasher = SHA256()
        let names = [dockerfile.lastComponent?.string ?? "Dockerfile"]
            + (try FileSystem.list(directory)).sorted().filter { $0 != dockerfile.lastComponent?.string }
        for name in names {
            let path = directory.appending(name)
            guard !FileSystem.isDirectory(path) else { continue }
            hasher.update(data: Array("\(name)\u{0}".utf8))
            hasher.update(data: try FileSystem.readBytes(path))
        }
        return Hex.lowercase(hasher.finalize())
    }

    /// The image in `engine`'s store, built (with its base, `debian:bookworm`) when missing.
    static func make(_ suite: Suite, engine: Engine, executable: FilePath, note: @escaping @Sendable (String) -> Void) async throws(IntermodalError) -> (Image, String) {
        let file = try dockerfile(suite, executable: executable)
        let digest = try contextDigest(file)
        let tag = try ImageReference.parse("\(name):\(digest.prefix(12))")
        if let existing = try? engine.store.resolve(tag.description) { return (existing, tag.description) }
        if (try? engine.store.resolve("debian:bookworm")) == nil {
            note("bench: making debian:bookworm by debootstrap (once)")
            _ = try await engine.store.bootstrapDebian(name: try ImageReference.parse("debian:bookworm"), bootstrap: try DebianBootstrap())
        }
        note("bench: building \(tag) from \(file) (once per Dockerfile)")
        let result = try await engine.build(BuildOptions(
            context: file.removingLastComponent(), dockerfile: file, tag: tag, progress: { note("bench: build: \($0)") }))
        return (result.image, tag.description)
    }

    /// The full-OS guest's image: the workload image plus what an installation has (a kernel
    /// and initramfs, systemd, the guest agent: ``FullGuestImage/packages``; iproute2, for the
    /// agent to give it an address on the bridge), installed FROM it
    /// by our own build, so the full guest runs the same tools as every other backend. Named by
    /// the digest of the Dockerfile generated here (which names the workload image's tag).
    static func fullGuest(from imageName: String, engine: Engine, directory: FilePath, note: @escaping @Sendable (String) -> Void) async throws(IntermodalError) -> Image {
        let text = """
            FROM \(imageName)
            RUN apt-get update \\
             && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \((FullGuestImage.packages + ["iproute2"]).joined(separator: " ")) \\
             && apt-get clean && rm -rf /var/lib/apt/lists/*

            """
        let digest = Hex.lowercase(SHA256.hash(data: Array(text.utf8)))
        let tag = try ImageReference.parse("intermodal-vm-full:\(digest.prefix(12))")
        if let existing = try? engine.store.resolve(tag.description) { return existing }
        try FileSystem.createDirectory(directory)
        let file = directory.appending("Dockerfile")
        try FileSystem.writeAtomically(Array(text.utf8), to: file)
        note("bench: building \(tag), the full guest's image, FROM \(imageName) (once)")
        return try await engine.build(BuildOptions(context: directory, dockerfile: file, tag: tag, progress: { note("bench: build: \($0)") })).image
    }

    /// The tools of `tools` that `rootfs` (the image's files) lacks.
    static func missingTools(_ tools: [String], in rootfs: FilePath) -> [String] {
        tools.filter { tool in !["usr/bin", "bin", "usr/sbin", "usr/local/bin"].contains { FileSystem.exists(rootfs.appending($0).appending(tool)) } }
    }

    /// The tool versions the image records in /etc/workload-versions (`sysbench 1.0.20+ds-5`).
    static func versions(in rootfs: FilePath) -> [String: String] {
        guard let text = try? FileSystem.readString(rootfs.appending("etc/workload-versions")) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 1)
            if f.count == 2 { out[String(f[0])] = String(f[1]) }
        }
        return out
    }
}
