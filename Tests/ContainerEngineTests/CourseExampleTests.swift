import ContainerEngine
import ImageStore
import IntermodalCore
import SystemPackage
import Testing

/// The course's example end to end (the one slow test: it needs the host's apt mirror).
@Suite("Course example: debian + apt-get install inetutils-ping", .serialized)
struct CourseExampleTests {
    @Test("FROM debian, RUN apt-get update, RUN apt-get install -y inetutils-ping, run ping -c1 127.0.0.1",
          .timeLimit(.minutes(20)))
    func debianPing() async throws {
        try await EngineFixture.with { f in
            // debootstrap is cached under IntermodalPaths.cacheRoot (minutes the first time, a second after).
            _ = try await f.engine.store.bootstrapDebian(name: try ImageReference.parse("debian:bookworm"), bootstrap: DebianBootstrap())
            let before = try await f.cli(["run", "--rm", "debian:bookworm", "ping", "-c1", "127.0.0.1"])
            #expect(before.exitCode == 127)
            #expect(before.standardError.contains("exec: \"ping\": executable file not found in $PATH"))

            let context = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-course")
            defer { try? FileSystem.removeTree(context) }
            try FileSystem.writeAtomically("""
                FROM debian:bookworm
                RUN apt-get update
                RUN apt-get install -y inetutils-ping
                """, to: context.appending("Dockerfile"))
            let build = try await f.cli(["build", "-t", "course:ping", context.string])
            #expect(build.exitCode == 0, "\(build.standardError)")
            let ping = try await f.cli(["run", "--rm", "course:ping", "ping", "-c1", "127.0.0.1"])
            #expect(ping.exitCode == 0, "\(ping.standardError)")
            #expect(ping.standardOutput.contains("1 packets transmitted, 1 packets received"), "\(ping.standardOutput)")
            let history = try await f.cli(["history", "--no-trunc", "course:ping"])
            #expect(history.standardOutput.contains("apt-get install -y inetutils-ping"))
        }
    }
}
