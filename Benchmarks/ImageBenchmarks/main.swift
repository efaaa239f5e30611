// image-unpack-benchmark: unpacking an image's layer with our safe unpacker against `tar -x` and
// `umoci unpack` on the same layer blob, interleaved in the same run so all see the same host load.
//
//   swift build -c release --product image-unpack-benchmark
//   .build/release/image-unpack-benchmark [RUNS] [busybox|debian]     (root; umoci, tar installed)
//
// Ours is measured twice: `flatten` (layers applied into a plain tree, as VM disks use) and
// `unpackedLayers` (the overlay lower directory `run` uses). Both verify the blob's digest while
// reading, which `tar` does not; umoci verifies too.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ImageStore
import IntermodalCore
import SystemPackage

@main
enum ImageUnpackBenchmark {
    static func main() async {
        let args = Array(CommandLine.arguments.dropFirst())
        let runs = args.first.flatMap { Int($0) } ?? 5
        let which = args.dropFirst().first ?? "debian"
        do {
            try await measure(runs: runs, which: which)
        } catch {
            StandardStreams.writeError("image-unpack-benchmark: error: \(error)\n")
            exit(1)
        }
    }

    static func measure(runs: Int, which: String) async throws {
        guard let umoci = HostCommand.find("umoci") else { throw IntermodalError(.notFound, "umoci is not installed") }
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-unpack-bench")
        defer { try? FileSystem.removeTree(root) }
        let store = try ImageStore(root: root.appending("store"))
        let image: Image = which == "busybox"
            ? try await store.bootstrapBusybox(name: .parse("img:bench"))
            : try await store.bootstrapDebian(name: .parse("img:bench"), bootstrap: DebianBootstrap())
        guard image.layers.count == 1 else { throw IntermodalError(.internalError, "expected a one-layer image") }
        let layer = image.layers[0]
        let blob = try store.blobPath(layer.digest)
        let cachedLayer = root.appending("store/layers/sha256").appending(Digest.hex(layer.diffID))

        var samples: [String: [Double]] = [:]
        func time(_ name: String, _ body: () async throws -> Void) async throws {
            let start = MonotonicInstant.now
            try await body()
            let end = MonotonicInstant.now
            samples[name, default: []].append(Double(end.duration(since: start).components.attoseconds) / 1e15
                + Double(end.duration(since: start).components.seconds) * 1000)
        }
        for i in 0...runs {
            let scratch = root.appending("run-\(i)")
            try FileSystem.createDirectory(scratch)
            // Run 0 warms the page cache and is not counted.
            let record = i > 0
            let order = (0..<4).map { ($0 + i) % 4 }
            for step in order {
                switch step {
                case 0:
                    let dir = scratch.appending("flatten")
                    try await time("intermodal flatten") { try await store.flatten(image, into: dir) }
                case 1:
                    try? FileSystem.removeTree(cachedLayer)
                    try await time("intermodal unpackedLayers") { _ = try await store.unpackedLayers(of: image) }
                case 2:
                    let dir = scratch.appending("tar")
                    try FileSystem.createDirectory(dir)
                    try await time("tar -xzf") { try await HostCommand.check("tar", ["-xzf", blob.string, "-C", dir.string]) }
                default:
                    let bundle = scratch.appending("umoci")
                    try await time("umoci unpack") {
                        try await HostCommand.check(umoci.string, ["unpack", "--image", "\(store.layoutDirectory):img:bench", bundle.string])
                    }
                }
            }
            if !record { samples = [:] }
            try FileSystem.removeTree(scratch)
        }
        var report = "layer \(layer.digest) (\(ByteCount.human(layer.size)) gzip), \(runs) interleaved runs\n"
        report += "what                        median ms   min ms   max ms\n"
        var json: [[String: Any]] = []
        for name in ["intermodal flatten", "intermodal unpackedLayers", "tar -xzf", "umoci unpack"] {
            let values = (samples[name] ?? []).sorted()
            guard !values.isEmpty else { continue }
            let median = values[values.count / 2]
            report += name.padding(toLength: 28, withPad: " ", startingAt: 0)
                + String(format: "%9.1f %8.1f %8.1f\n", median, values.first!, values.last!)
            json.append(["name": name, "medianMs": median, "samplesMs": values])
        }
        StandardStreams.writeOutput(report)
        let out: [String: Any] = [
            "benchmark": "image-unpack", "image": which, "layerDigest": layer.digest, "layerBytes": layer.size,
            "runs": runs, "results": json, "version": IntermodalVersion.string,
        ]
        let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "results/image-unpack-benchmark-\(which).json"))
    }
}
