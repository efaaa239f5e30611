#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage
import Testing
@testable import VirtualMachines

/// Faults leave nothing behind: no domain of ours, no state directory (overlay disk).
@Suite("Guest faults roll back", .serialized)
struct GuestFaultTests {
    func leftovers(_ root: FilePath, name: String? = nil) throws -> [String] {
        var found = (try? FileSystem.list(root.appending("vms")))?.filter { $0.hasPrefix("intermodal-") } ?? []
        if let name, try LibvirtConnection().domain(named: name) != nil { found.append("domain \(name)") }
        return found
    }

    @Test func kernelPanicIsReportedAndCleanedUp() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        let vm = VirtualMachine(configuration: GuestBootTests.configuration(root))
        let crash = GuestInitramfs.RunConfiguration(
            arguments: ["sh", "-c", "echo c > /proc/sysrq-trigger; sleep 30"], environment: ["PATH=/bin:/usr/bin"])
        await #expect {
            _ = try await vm.run(disk: GuestBootTests.busyboxDisk(), command: crash)
        } throws: { e in
            let m = "\(e)"
            return m.contains("kernel panicked") && m.contains("intermodal-")
        }
        #expect(try leftovers(root).isEmpty)
    }

    @Test func initTimeoutDestroysTheGuest() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        var cfg = GuestBootTests.configuration(root)
        // Far too short for any boot: the guest is still in its firmware or kernel. (1 s was,
        // under TCG, until no_timer_check took the timer check's delay out of the boot.)
        cfg.initTimeout = .milliseconds(50)
        let vm = VirtualMachine(configuration: cfg)
        await #expect {
            _ = try await vm.run(disk: GuestBootTests.busyboxDisk(), command: .init(arguments: ["true"], environment: []))
        } throws: { e in
            (e as? IntermodalError)?.code == .timeout && "\(e)".contains("did not reach its init within") && "\(e)".contains("budget of 0.05 s")
                && "\(e)".contains("TCG, host load")
        }
        #expect(try leftovers(root).isEmpty)
    }

    @Test func deadLibvirtIsAClearErrorAndLeavesNothing() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        var cfg = GuestBootTests.configuration(root)
        cfg.uri = "qemu+unix:///system?socket=\(root.string)/no-libvirtd.sock"
        let vm = VirtualMachine(configuration: cfg)
        await #expect {
            _ = try await vm.run(disk: GuestBootTests.busyboxDisk(), command: .init(arguments: ["true"], environment: []))
        } throws: { e in
            "\(e)".contains("no-libvirtd.sock") && "\(e)".contains("libvirtd -d")
        }
        #expect(try leftovers(root).isEmpty)
    }

    /// `intermodal vm run` as a subprocess, SIGINT or SIGTERM once its guest is booting: clear
    /// error, no domain, no disk.
    @Test(arguments: [SIGINT, SIGTERM])
    func signalMidBootRollsBack(signal: Int32) async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        let binary = try GuestInitramfs.locateInit().removingLastComponent().appending("intermodal")
        try #require(access(binary.string, X_OK) == 0, "build the intermodal product first")
        let env = ["INTERMODAL_CACHE=\(root.string)/cache"]
        let boot = try await HostCommand.run(
            "env", env + [binary.string, "image", "bootstrap", "busybox", "--root", root.string, "bb"])
        try #require(boot.succeeded, "bootstrap failed: \(boot.standardError)")

        let errPath = root.appending("stderr.txt")
        let pid = try BareQEMU.spawnForTest(
            ["/usr/bin/env"] + env + [binary.string, "vm", "run", "--root", root.string, "--accel", "tcg", "bb", "sleep", "60"],
            stderr: errPath)
        var domainName: String?
        let start = MonotonicInstant.now
        // Wait until the guest's domain exists (its state directory names it), then interrupt mid-boot.
        while domainName == nil && MonotonicInstant.now.duration(since: start) < .seconds(300) {
            if let n = (try? FileSystem.list(root.appending("vms")))?.first(where: { $0.hasPrefix("intermodal-") }),
               try LibvirtConnection().domain(named: n) != nil {
                domainName = n
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let name = try #require(domainName, "the guest never started")
        // `vm ps` (another process) sees the booting guest.
        let ps = try await HostCommand.run(binary.string, ["vm", "ps", "-q", "--root", root.string])
        #expect(ps.standardOutput.split(separator: "\n").contains(Substring(name)), "vm ps: \(ps.standardOutput)")
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        #expect(exited && code != 0)
        let err = try FileSystem.readString(errPath)
        #expect(err.contains("interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")"), "stderr: \(err)")
        #expect(try LibvirtConnection().domain(named: name) == nil)
        #expect(try leftovers(root).isEmpty)
    }

    /// What a SIGKILLed run leaves (a state directory whose owner is dead and whose domain libvirt
    /// auto-destroyed) is pruned; a live owner's is kept.
    @Test func staleStateIsPrunedLiveIsKept() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        defer { try? FileSystem.removeTree(root) }
        let stale = root.appending("vms/intermodal-deadbeef0001")
        let live = root.appending("vms/intermodal-deadbeef0002")
        try FileSystem.createDirectory(stale)
        try FileSystem.createDirectory(live)
        try FileSystem.writeAtomically("2147483000\n", to: stale.appending("owner.pid"))   // no such process
        try FileSystem.writeAtomically("\(getpid())\n", to: live.appending("owner.pid"))
        try FileSystem.writeAtomically("x", to: stale.appending("disk.qcow2"))
        let removed = GuestInventory.pruneStale(uri: "qemu:///system", stateRoot: root.appending("vms"))
        #expect(removed == ["intermodal-deadbeef0001"])
        #expect(!FileSystem.exists(stale))
        #expect(FileSystem.exists(live))
        #expect {
            try GuestInventory.remove(name: "intermodal-deadbeef0003", uri: "qemu:///system", stateRoot: root.appending("vms"))
        } throws: { ($0 as? IntermodalError)?.code == .notFound }
    }

    /// `intermodal vm rm --all` with no guest of its store running removes the store's orphaned
    /// guest disks (a kill -9'd run's state directory), and never another store's guest: a running
    /// `intermodal-*` domain whose state lives elsewhere survives (it was destroyed before guests
    /// were scoped by store), as does its disk in that other store.
    @Test func rmAllRemovesOrphanedDisksOfItsStoreOnly() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest")
        let other = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-vmtest-other")
        defer { try? FileSystem.removeTree(root); try? FileSystem.removeTree(other) }
        let binary = try GuestInitramfs.locateInit().removingLastComponent().appending("intermodal")
        try #require(access(binary.string, X_OK) == 0, "build the intermodal product first")
        let orphan = root.appending("vms/intermodal-0dead0disk01")
        try FileSystem.createDirectory(orphan)
        try FileSystem.writeAtomically("2147483000\n", to: orphan.appending("owner.pid"))   // no such process
        try FileSystem.writeAtomically("x", to: orphan.appending("disk.qcow2"))
        // Another store's guest: a domain that idles in its firmware (no disk, 16 MiB), its state
        // directory in the other store. Destroyed when this connection closes (auto-destroy).
        let foreignName = "intermodal-" + String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16).prefix(12)
        let foreignDir = other.appending("vms").appending(foreignName)
        try FileSystem.createDirectory(foreignDir)
        try FileSystem.writeAtomically("\(getpid())\n", to: foreignDir.appending("owner.pid"))
        let connection = try LibvirtConnection()
        let foreign = try connection.createTransientDomain(xml: """
            <domain type='qemu'><name>\(foreignName)</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>
            <os><type arch='x86_64'>hvm</type></os><devices></devices></domain>
            """)
        defer { try? foreign.destroy() }

        let ps = try await HostCommand.run(binary.string, ["vm", "ps", "-q", "--root", root.string])
        #expect(ps.succeeded && ps.standardOutput.trimmed.isEmpty, "this store has no guest running: \(ps.standardOutput)")
        let rm = try await HostCommand.run(binary.string, ["vm", "rm", "--all", "--root", root.string])
        #expect(rm.succeeded, "vm rm --all: \(rm.standardError)")
        #expect(rm.standardOutput.split(separator: "\n") == ["intermodal-0dead0disk01"], "\(rm.standardOutput)")
        #expect(!FileSystem.exists(orphan), "the orphaned guest disk is removed")
        #expect(connection.domain(named: foreignName) != nil, "another store's running guest survives vm rm --all")
        #expect(FileSystem.exists(foreignDir.appending("owner.pid")))
        let again = try await HostCommand.run(binary.string, ["vm", "rm", "--all", "--root", root.string])
        #expect(again.succeeded && again.standardOutput.isEmpty, "nothing left to remove: \(again.standardOutput) \(again.standardError)")
    }
}
