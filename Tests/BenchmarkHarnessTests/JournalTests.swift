#if canImport(Glibc)
import Glibc
#endif
@testable import BenchmarkHarness
import IntermodalCore
import SystemPackage
import Testing

/// What a killed run left is removed by the next one, also what the journal cannot name by pid.
@Suite("The run journal")
struct JournalTests {
    /// A daemon in a chroot (as native's redis-server) has left its process group and session,
    /// and its pid is in no journal: the dead run's work directory still finds it by its root.
    @Test func aDeadRunsDirectoryTakesItsChrootedDaemonsWithIt() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-journal-test")
        defer { try? FileSystem.removeTree(root) }
        let work = root.appending("work")
        let rootfs = work.appending("rootfs")
        try await BusyboxRootfs.populate(at: rootfs)
        try await HostCommand.check("mknod", ["-m", "666", rootfs.appending("dev/null").string, "c", "1", "3"])   // for sh's `&`
        // setsid: a session of its own, as `--daemonize yes` makes; the shell exits at once.
        let started = try await HostCommand.run("/usr/sbin/chroot", [rootfs.string, "/bin/sh", "-c", "setsid sleep 600 </dev/null >/dev/null 2>&1 &"])
        try #require(started.succeeded, "\(started.standardError)")
        var daemons: [Int32] = []
        for _ in 0..<3000 where daemons.isEmpty {
            daemons = HostProcesses.rooted(under: work)
            if daemons.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        try #require(!daemons.isEmpty, "the daemon did not start")
        defer { for pid in daemons { kill(pid, SIGKILL) } }   // should the replay miss it

        // The journal of a run that died: this process's record, under a pid no process has.
        let journals = root.appending("journal")
        let journal = try Journal(directory: journals)
        journal.add(.directory(work.string))
        var dead = try FileSystem.readString(journal.file)
        let field = try #require(dead.range(of: "\"pid\":\(getpid())"), "the record's pid field: \(dead)")
        dead.replaceSubrange(field, with: "\"pid\":2147483000")
        try FileSystem.writeAtomically(dead, to: journals.appending("run-2147483000.json"))
        journal.close()

        let done = await Journal.replay(directory: journals, intermodal: "/bin/false")
        #expect(done == ["directory \(work.string)"])
        #expect(!FileSystem.exists(work))
        #expect(HostProcesses.rooted(under: root).isEmpty)
        for pid in daemons { #expect(HostProcesses.hasExited(pid), "daemon \(pid) still runs") }
        #expect(((try? FileSystem.list(journals)) ?? []).isEmpty)
    }
}
