#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// The registry's own bookkeeping under `<root>/containers/`: the name index, recycled directories
/// and what a crash in the middle of a removal leaves.
@Suite("Container directories: names, recycling, crash leftovers", .serialized)
struct ContainerDirectoryTests {
    static func entries(_ dir: FilePath) -> [String] { (try? FileSystem.list(dir)) ?? [] }

    @Test("a recycled directory starts from the original image; a spare with files in it is never used")
    func recycledDirectories() async throws {
        try await EngineFixture.with { f in
            let containers = f.root.appending("containers")
            let dirty = try await f.cli(["run", "--rm", "busybox", "sh", "-c", "echo x > /marker; mkdir -p /a/b/c; echo y > /a/b/c/f; rm /bin/ls"])
            #expect(dirty.exitCode == 0, "\(dirty.standardError)")
            #expect(Self.entries(containers).filter { !$0.hasPrefix(".") }.isEmpty, "--rm left a container directory")
            #expect(Self.entries(containers.appending(".removing")).isEmpty, "a removal was left half done")
            let spares = Self.entries(containers.appending(".spare"))
            #expect(!spares.isEmpty, "the removed directory was not kept for reuse")
            for spare in spares {
                for sub in ["rootfs", "upper", "work"] {
                    #expect(Self.entries(containers.appending(".spare/\(spare)/\(sub)")).isEmpty, "\(spare)/\(sub) is not empty")
                }
            }
            let clean = try await f.cli(["run", "--rm", "busybox", "sh", "-c", "test -e /marker && echo marker; test -e /a && echo a; test -e /bin/ls && echo ls"])
            #expect(clean.standardOutput == "ls\n", "\(clean.standardOutput)")

            // A spare that is not clean (planted here; a bug or a hand could do it) is deleted, not used.
            for spare in Self.entries(containers.appending(".spare")) {
                try FileSystem.writeAtomically("planted\n", to: containers.appending(".spare/\(spare)/upper/planted"))
            }
            let planted = try await f.cli(["run", "--rm", "busybox", "sh", "-c", "cat /planted 2>/dev/null; echo done"])
            #expect(planted.standardOutput == "done\n", "\(planted.standardOutput)")
            for spare in Self.entries(containers.appending(".spare")) {
                #expect(!FileSystem.exists(containers.appending(".spare/\(spare)/upper/planted")))
            }
        }
    }

    @Test("names: a stopped container keeps its name, rm frees it, a name left by a crash is taken over, an old store is indexed")
    func names() async throws {
        try await EngineFixture.with { f in
            let index = f.root.appending("containers/.names")
            let kept = try await f.cli(["run", "--name", "keeper", "busybox", "true"])
            #expect(kept.exitCode == 0)
            let record = try await f.engine.container("keeper")
            #expect(try FileSystem.readString(index.appending("keeper")) == record.id)
            let taken = try await f.cli(["run", "--name", "keeper", "busybox", "true"])
            #expect(taken.exitCode == 125)
            #expect(taken.standardError.contains("the container name \"keeper\" is already in use"), "\(taken.standardError)")

            // A store made before the index: the index is rebuilt from the records, the name stays taken.
            try FileSystem.removeTree(index)
            let stillTaken = try await f.cli(["run", "--name", "keeper", "busybox", "true"])
            #expect(stillTaken.exitCode == 125, "\(stillTaken.standardError)")
            #expect(try FileSystem.readString(index.appending("keeper")) == record.id)

            // An entry whose container does not exist (a crash between naming and creating).
            try FileSystem.writeAtomically(String(repeating: "0", count: 64), to: index.appending("orphan"))
            let orphan = try await f.cli(["run", "--rm", "--name", "orphan", "busybox", "true"])
            #expect(orphan.exitCode == 0, "\(orphan.standardError)")
            #expect(!FileSystem.exists(index.appending("orphan")), "--rm kept the name")

            #expect(try await f.cli(["rm", "keeper"]).exitCode == 0)
            #expect(!FileSystem.exists(index.appending("keeper")))
            let again = try await f.cli(["run", "--rm", "--name", "keeper", "busybox", "true"])
            #expect(again.exitCode == 0, "\(again.standardError)")
        }
    }

    @Test("a removal cut short by a crash is finished by the next run")
    func crashedRemoval() async throws {
        try await EngineFixture.with { f in
            // What a process killed while emptying a retired directory leaves: `<id>.<its pid>`.
            var pid: pid_t = 0
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            defer { free(argv[0]) }
            #expect(posix_spawn(&pid, "/bin/true", nil, nil, &argv, environ) == 0)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let leftover = f.root.appending("containers/.removing/\(String(repeating: "a", count: 64)).\(pid)")
            try FileSystem.createDirectory(leftover.appending("upper/deep/er"))
            try FileSystem.writeAtomically("x", to: leftover.appending("upper/deep/er/file"))
            try FileSystem.writeAtomically("{}", to: leftover.appending("record.json"))
            let r = try await f.cli(["run", "--rm", "busybox", "true"])
            #expect(r.exitCode == 0)
            #expect(!FileSystem.exists(leftover), "the crashed removal was not finished")
        }
    }
}
