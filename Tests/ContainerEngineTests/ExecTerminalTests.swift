#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import IntermodalCore
import Testing

/// `exec -t`: the extra process gets a pseudo-terminal of its own on all three standard streams
/// (what `docker exec -it CONTAINER sh` gives a course); without `-t` it has none.
@Suite("Containers: exec with and without a terminal", .serialized)
struct ExecTerminalTests {
    @Test("exec -t: stdin, stdout and stderr are a terminal in the container; exec without -t: not")
    func execTerminal() async throws {
        try await EngineFixture.with { f in
            let record = try await f.engine.runDetached(image: "busybox", options: RunOptions(command: ["sleep", "3600"]))
            // The exit code carries the answer: the output goes to this process's streams.
            let withTerminal = try await f.engine.exec(
                record.id, command: ["sh", "-c", "test -t 0 && test -t 1 && test -t 2 && tty | grep -q '^/dev/pts/' && exit 7; exit 3"],
                tty: true)
            #expect(withTerminal.code == 7)
            let withoutTerminal = try await f.engine.exec(record.id, command: ["sh", "-c", "test -t 0 && exit 7; exit 3"])
            #expect(withoutTerminal.code == 3)
            // The container is still running, and its exit code passes through a terminal exec too.
            let failing = try await f.engine.exec(record.id, command: ["sh", "-c", "exit 42"], tty: true)
            #expect(failing.code == 42)
            try await f.engine.remove(record.id, force: true)
            #expect(try await f.engine.list(all: true).isEmpty)
        }
    }
}
