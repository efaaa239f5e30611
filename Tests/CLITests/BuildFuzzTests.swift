#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import IntermodalCore
import SystemPackage
import Testing

/// `intermodal build` fed generated Dockerfiles and `.dockerignore` files over a hostile context
/// (links out of it, absolute and `..` links, names with glob characters), as a user runs it:
/// each build ends within a bound, by exit 0 or a clear error (never a signal), nothing outside
/// the store and the context is written, and no host file reaches an image. The parser alone is
/// fuzzed harder in DockerfileFuzzTests; this drives context resolution, globbing, `.dockerignore`
/// matching and the layer writer end to end. Seeded: a failure names its case.
@Suite struct BuildFuzzTests {
    static let secret = "host-secret-7f3a"

    /// Pieces of instructions a generated Dockerfile is made of (no RUN: each build stays a
    /// matter of the context and the store, and quick).
    static let instructions = [
        "COPY a /a", "COPY dir /d/", "COPY *.txt /t/", "COPY [\"dir/sub\", \"/s\"]", "COPY out/token /x",
        "COPY up/* /u/", "COPY abs/token /y", "COPY ../outside /z", "COPY dir/../../ /w", "COPY link-dir/ /l/",
        "COPY ?a* /q/", "COPY [[]b /r", "COPY dir/*/*.txt /deep/", "ADD a.tar /unpacked/", "ADD dir /added",
        "ENV K=v L=\"a b\"", "ARG A=1", "WORKDIR /work/$A", "LABEL x=y", "USER 1:1", "EXPOSE 80",
        "COPY --chown=1:1 a /owned", "COPY a*a*a*a*a*a*a*a*a*a*a*a*b /p/", "COPY nonexistent /n",
    ]
    static let ignores = ["*.txt", "!keep.txt", "dir/**", "**/token", "a*a*a*a*a*a*a*a*a*a*a*a*a*b", "[", "\\", "out", ""]

    @Test("generated builds over a hostile context end cleanly, write nothing outside, leak no host file")
    func generatedBuilds() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-buildfuzz")
        defer { try? FileSystem.removeTree(root) }
        let store = root.appending("store"), context = root.appending("context"), outside = root.appending("outside")
        for d in [context, outside, context.appending("dir"), context.appending("dir/sub")] { try FileSystem.createDirectory(d) }
        try FileSystem.writeAtomically("\(Self.secret)\n", to: outside.appending("token"))
        try FileSystem.writeAtomically("a\n", to: context.appending("a"))
        try FileSystem.writeAtomically("t\n", to: context.appending("one.txt"))
        try FileSystem.writeAtomically("k\n", to: context.appending("keep.txt"))
        try FileSystem.writeAtomically("s\n", to: context.appending("dir/sub/s.txt"))
        try FileSystem.writeAtomically("n\n", to: context.appending("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac"))
        try FileSystem.writeAtomically("b\n", to: context.appending("[b"))
        // Links out of the context, every way a path can leave it.
        symlink(outside.string, context.appending("out").string)
        symlink("../../../../../../../../..\(outside.string)", context.appending("up").string)
        symlink(outside.string, context.appending("abs").string)
        symlink("dir", context.appending("link-dir").string)
        symlink(outside.appending("token").string, context.appending("dir/sub/escape.txt").string)
        let tar = try await HostCommand.run("tar", ["-C", context.string, "-cf", context.appending("a.tar").string, "a"])
        #expect(tar.succeeded)
        let env = ["INTERMODAL_ROOT": store.string]
        #expect(try await BuiltProducts.intermodal(["image", "bootstrap", "busybox", "busybox:latest"], environment: env).succeeded)
        let outsideBefore = try Self.snapshot(outside)
        let contextBefore = try Self.snapshot(context)

        var rng = SplitMix64(seed: 0xB01D)
        var built = 0
        for i in 0..<60 {
            var lines = [i % 3 == 0 ? "FROM scratch" : "FROM busybox"]
            for _ in 0..<Int.random(in: 1...5, using: &rng) { lines.append(Self.instructions.randomElement(using: &rng)!) }
            let ignore = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Self.ignores.randomElement(using: &rng)! }
            let dockerfile = lines.joined(separator: "\n") + "\n"
            try FileSystem.writeAtomically(dockerfile, to: context.appending("Dockerfile"))
            try FileSystem.writeAtomically(ignore.joined(separator: "\n"), to: context.appending(".dockerignore"))
            let tag = "fuzz:\(i)"
            // A bound on each build: the glob matcher is linear, a build of this context takes seconds.
            let r = try await HostCommand.run("timeout", ["-s", "KILL", "120", BuiltProducts.directory.appending("intermodal").string,
                                                         "build", "-t", tag, context.string], environment: env)
            let what = "case \(i):\n\(dockerfile).dockerignore: \(ignore)\n\(r.standardError.suffix(600))"
            #expect(r.signal == nil && r.exitCode != 137 && r.exitCode != 124, "killed or crashed: \(what)")
            if r.succeeded {
                built += 1
            } else {
                #expect(r.standardError.contains("intermodal: error:"), "no clear error: \(what)")
            }
        }
        #expect(built >= 10, "most generated files should build (\(built) of 60)")
        #expect(try Self.snapshot(outside) == outsideBefore, "the build wrote outside its context and store")
        var contextAfter = try Self.snapshot(context)
        contextAfter.removeValue(forKey: "Dockerfile")
        contextAfter.removeValue(forKey: ".dockerignore")
        var before = contextBefore
        before.removeValue(forKey: "Dockerfile")
        before.removeValue(forKey: ".dockerignore")
        #expect(contextAfter == before, "the build changed its context")
        // No file of the store, layer blobs decompressed, holds the host's file.
        let leaks = try await HostCommand.run("sh", ["-c", "find \"$1\" -type f -size -64M | while read -r f; do "
            + "if zcat -f \"$f\" 2>/dev/null | grep -q \"$2\"; then echo \"$f\"; fi; done", "sh", store.string, Self.secret])
        #expect(leaks.succeeded && leaks.standardOutput.isEmpty, "the host's secret reached the store: \(leaks.standardOutput)")
    }

    /// Every regular file and link below `dir` (relative path: content or link target).
    static func snapshot(_ dir: FilePath) throws -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ d: FilePath, _ prefix: String) throws {
            for name in try FileSystem.list(d) {
                let path = d.appending(name), key = prefix + name
                var st = stat()
                guard lstat(path.string, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFLNK: out[key] = "-> " + ((try? FileSystem.readLink(path)) ?? "?")
                case S_IFDIR: out[key + "/"] = "dir"; try walk(path, key + "/")
                default: out[key] = (try? FileSystem.readString(path)) ?? "<unreadable>"
                }
            }
        }
        try walk(dir, "")
        return out
    }
}
