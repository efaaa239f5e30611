#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// `rmi` of an image that containers were made from, as Docker does it.
@Suite("rmi of an image in use", .serialized)
struct RemoveImageTests {
    @Test("rmi refuses an image a stopped or running container uses, naming it; --force untags and keeps the layers")
    func conflicts() async throws {
        try await EngineFixture.with { f in
            let image = try f.engine.store.resolve("busybox")
            let imageID = String(Digest.hex(image.configDigest).prefix(12))
            #expect(try await f.cli(["tag", "busybox", "bb:second"]).exitCode == 0)
            #expect(try await f.cli(["run", "--name", "user", "busybox", "sh", "-c", "echo kept > /kept"]).exitCode == 0)
            let user = try await f.engine.container("user")

            // Another name remains: only the name goes, as in Docker.
            let second = try await f.cli(["rmi", "bb:second"])
            #expect(second.exitCode == 0, "\(second.standardError)")
            #expect(second.standardOutput == "Untagged: bb:second\n")

            let byName = try await f.cli(["rmi", "busybox"])
            #expect(byName.exitCode == 125)
            #expect(byName.standardError.contains(
                "conflict: unable to remove repository reference \"busybox:latest\" (must force) - container \(user.shortID) is using its referenced image \(imageID)"),
                "\(byName.standardError)")
            let byID = try await f.cli(["rmi", imageID])
            #expect(byID.exitCode == 125)
            #expect(byID.standardError.contains(
                "conflict: unable to delete \(imageID) (must be forced) - image is being used by stopped container \(user.shortID)"),
                "\(byID.standardError)")
            #expect((try? f.engine.store.resolve("busybox:latest")) != nil, "a refused rmi removed the name")

            // A running container: by ID not even with --force.
            let running = try await f.cli(["run", "-d", "busybox", "sleep", "30"])
            #expect(running.exitCode == 0, "\(running.standardError)")
            let runningID = String(running.standardOutput.trimmed.prefix(12))
            let hard = try await f.cli(["rmi", "-f", imageID])
            #expect(hard.exitCode == 125)
            #expect(hard.standardError.contains("(cannot be forced) - image is being used by running container \(runningID)"), "\(hard.standardError)")
            #expect(try await f.cli(["rm", "-f", runningID]).exitCode == 0)

            let forced = try await f.cli(["rmi", "--force", "busybox"])
            #expect(forced.exitCode == 0, "\(forced.standardError)")
            #expect(forced.standardOutput == "Untagged: busybox:latest\n")
            #expect((try? f.engine.store.resolve("busybox:latest")) == nil)
            // The image stays, untagged, under the container: commit still finds its layers.
            let committed = try await f.engine.commit("user", as: try ImageReference.parse("kept:v1"))
            let (run, output) = try await f.run(["cat", "/kept"], image: "kept:v1")
            #expect(run.status.code == 0)
            #expect(output == "kept\n")
            _ = committed

            // Once no container uses it, the untagged image goes by ID.
            #expect(try await f.cli(["rm", "user"]).exitCode == 0)
            for record in try await f.engine.list(all: true) { try await f.engine.remove(record.id, force: true) }
            let gone = try await f.cli(["rmi", imageID])
            #expect(gone.exitCode == 0, "\(gone.standardError)")
            #expect(gone.standardOutput.contains("Deleted: \(image.configDigest)"), "\(gone.standardOutput)")
        }
    }
}
