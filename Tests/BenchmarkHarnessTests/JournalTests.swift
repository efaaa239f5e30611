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
        let work = root.appending("work").appending("native")
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

        let done = await Journal.replay(root: root, intermodal: "/bin/false")
        #expect(done == ["directory \(work.string)"])
        #expect(!FileSystem.exists(work))
        #expect(HostProcesses.rooted(under: root).isEmpty)
        for pid in daemons { #expect(HostProcesses.hasExited(pid), "daemon \(pid) still runs") }
        #expect(((try? FileSystem.list(journals)) ?? []).isEmpty)
    }

    /// A journal is data from the bench root: replaying it as root must not delete, kill or run
    /// anything the harness could not have made, and a journal someone else owns is not read.
    @Test func aForgedJournalIsNotObeyed() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-journal-test")
        defer { try? FileSystem.removeTree(root) }
        let outside = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-journal-outside")
        defer { try? FileSystem.removeTree(outside) }
        let marker = outside.appending("ran")
        let program = outside.appending("docker")
        try FileSystem.writeAtomically("#!/bin/sh\ntouch \(marker.string)\n", to: program)
        chmod(program.string, 0o755)
        let entries: [Journal.Entry] = [
            .directory(outside.string),
            .directory(root.appending("work/../../").string + outside.lastComponent!.string),
            .peerContainer(cli: program.string, name: "intermodal-bench-docker-2147483000-1", environment: []),
            .ociContainer(runtime: program.string, stateRoot: root.appending("work/runc/state").string, id: "x", hideCgroup2: false),
            .container(root: outside.string, id: "bench-2147483000-1"),
            .guests(stateRoot: outside.string, uri: "qemu:///system"),
            .cgroup("/"),
            .process(pid: 1, startTime: 0),
        ]
        let text = "{\"pid\":2147483000,\"startTime\":1,\"entries\":" + String(decoding: try JSON.encode(entries), as: UTF8.self) + "}"
        let journals = root.appending("journal")
        try FileSystem.createDirectory(journals)
        let file = journals.appending("run-2147483000.json")

        // Owned by nobody: not read at all, and left where it is.
        try FileSystem.writeAtomically(text, to: file)
        chown(file.string, 65534, 65534)
        let refused = await Journal.replay(root: root, intermodal: program)
        #expect(refused.count == 1 && refused[0].contains("owned by uid 65534"), "\(refused)")
        #expect(FileSystem.exists(file))
        chown(file.string, 0, 0)
        chmod(file.string, 0o666)
        let writable = await Journal.replay(root: root, intermodal: program)
        #expect(writable.count == 1 && writable[0].contains("writable by others"), "\(writable)")

        // Owned by root: read, but no entry is done.
        chmod(file.string, 0o644)
        let done = await Journal.replay(root: root, intermodal: program)
        #expect(done.count == entries.count && done.allSatisfy { $0.hasPrefix("ignored") }, "\(done)")
        #expect(FileSystem.exists(outside.appending("docker")), "a directory outside the bench root was removed")
        #expect(!FileSystem.exists(marker), "a program the journal named was run")
        #expect(!FileSystem.exists(file))
    }
}
