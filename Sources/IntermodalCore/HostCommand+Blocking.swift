#if canImport(Glibc)
import Glibc
#endif

/// Running a program to completion on the calling thread (for code that is synchronous already, or
/// runs on a ``DedicatedThread``): `posix_spawnp`, output collected, `waitpid`.
extension HostCommand {
    /// Runs `program` (a name looked up in `PATH`, or a path); `input` (small: it must fit in a
    /// pipe) is its standard input.
    public static func runBlocking(_ program: String, _ arguments: [String], input: String? = nil) throws(IntermodalError) -> CommandResult {
        var inp: [CInt] = [-1, -1]
        var out: [CInt] = [-1, -1]
        var err: [CInt] = [-1, -1]
        func closeAll() { for fd in inp + out + err where fd >= 0 { close(fd) } }
        // Close-on-exec from the start: a program another thread starts meanwhile must not hold
        // our pipes open (the reads below would wait for it).
        guard makePipe(&inp), makePipe(&out), makePipe(&err) else {
            let e = errno
            closeAll()
            throw .system("cannot create a pipe", errno: e)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inp[0], 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        let args = [program] + arguments
        var cArgs = args.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, program, &actions, nil, &cArgs, environ)
        close(inp[0]); inp[0] = -1
        close(out[1]); out[1] = -1
        close(err[1]); err[1] = -1
        guard rc == 0 else {
            closeAll()
            throw .system("cannot run \(program)", errno: rc)
        }
        if let input {
            // A program that exits without reading must not kill us (as for container output).
            signal(SIGPIPE, SIG_IGN)
            let bytes = Array(input.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { write(inp[1], $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                written += n
            }
        }
        close(inp[1]); inp[1] = -1
        // The programs run here write little; stdout is read first, then stderr.
        let standardOutput = readToEnd(out[0])
        let standardError = readToEnd(err[0])
        closeAll()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return CommandResult(
            exitCode: exited ? (status >> 8) & 0xff : nil, signal: exited ? nil : status & 0x7f,
            standardOutput: standardOutput, standardError: standardError)
    }

    /// Runs `program` and throws unless it exits 0 (the message as ``HostCommand/check``'s); returns its output.
    @discardableResult
    public static func checkBlocking(_ program: String, _ arguments: [String], input: String? = nil) throws(IntermodalError) -> String {
        let r = try runBlocking(program, arguments, input: input)
        guard r.succeeded else { throw failure(program, arguments, r) }
        return r.standardOutput
    }

    private static func readToEnd(_ fd: CInt) -> String {
        String(decoding: FileSystem.readToEnd(fd), as: UTF8.self)
    }
}
