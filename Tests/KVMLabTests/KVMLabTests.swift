#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import FoundationEssentials
import ImageStore
import IntermodalCore
import SystemPackage
import Testing
import VirtualMachines

/// The project's KVM path and a pure cgroup v2 kernel, exercised for real inside the nested lab
/// (`scripts/kvm-lab`): an L1 guest under TCG with emulated AMD SVM, whose own `/dev/kvm` runs
/// L2 guests, and whose cgroup2 is mounted alone with every controller. Each test boots one L1 and
/// runs a script there against this build's binaries; the script leaves its findings as files in
/// the shared work directory, and the test reads them here.
///
/// These prove that the code paths work, not what they cost: L2 runs on TCG's emulation of SVM.
// The two labs boot side by side: each L1 is one emulated CPU, and on two cores they finish
// about when the rest of the suite has, instead of one after the other.
@Suite("KVM lab: nested KVM guests and a pure cgroup v2 host")
struct KVMLabTests {
    /// Bad usage is refused at once, naming what was wrong, before any guest boots.
    @Test func labRefusesBadUsageClearly() async throws {
        let none = try await KVMLab.run([], in: "/tmp")
        #expect(none.exitCode == 125)
        #expect(none.standardError.contains("no command given"), "\(none.standardError)")
        let badTimeout = try await KVMLab.run(["--timeout", "soon", "--", "true"], in: "/tmp")
        #expect(badTimeout.exitCode == 125)
        #expect(badTimeout.standardError.contains("'soon' is not a positive whole number"), "\(badTimeout.standardError)")
        let badEnv = try await KVMLab.run(["--env", "1X=y", "--", "true"], in: "/tmp")
        #expect(badEnv.standardError.contains("--env takes NAME=VALUE"), "\(badEnv.standardError)")
        let badOption = try await KVMLab.run(["--fast", "--", "true"], in: "/tmp")
        #expect(badOption.standardError.contains("unknown option '--fast'"), "\(badOption.standardError)")
        let root = try await KVMLab.run(["--", "true"], in: "/")
        #expect(root.exitCode == 125 && root.standardError.contains("other than /"), "\(root.standardError)")
        #expect(KVMLab.leftovers(of: "/tmp").isEmpty, "\(KVMLab.leftovers(of: "/tmp"))")
    }

    /// In L1: doctor finds KVM usable by a real boot; `vm run` boots a libvirt domain of type
    /// kvm and returns the command's output and status; the full-OS guest (Debian's kernel,
    /// initramfs and systemd, commands through the guest agent) boots under KVM; and the
    /// quick suite's start-up on native and vm writes a results file that says kvm, and that the
    /// measuring host is itself a guest, and renders a report with that caveat.
    @Test(.timeLimit(.minutes(30)))
    func kvmPathWorksInTheLab() async throws {
        let work = try KVMLab.workDirectory("kvm")
        defer { try? FileSystem.removeTree(work) }
        let store = work.appending("store")
        // The full guest's image and disk are made here, on the host, where they are minutes
        // quicker than in L1 (and cached by their inputs for the rest of the suite); L1 sees them
        // through its read-only view of this host's root. It boots Debian's kernel directly:
        // SeaBIOS and GRUB are the same under either accelerator (the TCG tests take that path)
        // and cost 90 s on emulated SVM.
        let images = try ImageStore(root: store)
        let image = try await FullGuestImage.bootstrap(store: images, name: try ImageReference.parse("debian-full:lab"))
        _ = try await FullGuestImage.disk(
            source: VirtualMachine.diskSource(image: image, store: images), boot: .directKernel, cacheRoot: IntermodalPaths.cacheRoot)

        let script = """
            B=\(KVMLab.binaries.string)
            W=\(work.string)
            R=$W/store
            L=/var/lib/intermodal/lab
            step() { local name=$1; shift; "$@" > $W/$name.out 2> $W/$name.err; echo $? > $W/$name.status; }
            stat -fc %T /sys/fs/cgroup > $W/cgroupfs
            step doctor $B/intermodal doctor --json --refresh-kvm
            step image $B/intermodal image bootstrap busybox bb --root $L
            step vm $B/intermodal vm run --root $L --accel kvm --timings --result $W/vm.json bb \\
              sh -c 'echo hello from L2; grep -c ^processor /proc/cpuinfo; exit 7'
            step full $B/intermodal vm run --root $R --full --boot direct --boot-timeout 1200 --accel kvm --result $W/full.json debian-full:lab \\
              sh -c 'echo hello from the full guest; systemd-detect-virt; exit 5'
            step bench $B/intermodal bench --quick --backends native,vm --workloads startup --runs 3 --warmup 0 \\
              --bench-root /var/lib/intermodal-bench/lab --out $W/bench.json
            step report $B/intermodal report $W/bench.json --out $W/report
            virsh -c qemu:///system list --all --name > $W/domains-after
            """
        let lab = try await KVMLab.run(["--console", work.appending("console.log").string, "--", "bash", "-c", script], in: work)
        let console = (try? FileSystem.readString(work.appending("console.log"))) ?? ""
        #expect(lab.exitCode == 0, "lab: \(lab.standardError)\nL1 console tail: \(console.suffix(1500))")
        let steps = KVMLab.Steps(work: work)
        let (file, status, explain) = (steps.file, steps.status, steps.explain)

        #expect(file("cgroupfs").trimmed == "cgroup2fs")

        // doctor: KVM usable, found by a boot under -accel kvm with the CPU it proved.
        #expect(status("doctor") == 0, "\(explain("doctor"))")
        struct Row: Decodable { var name: String; var status: String; var detail: String }
        struct Doctor: Decodable { var results: [Row] }
        let doctor = try? JSONDecoder().decode(Doctor.self, from: Data(file("doctor.out").utf8))
        let kvm = doctor?.results.first { $0.name == "KVM" }
        #expect(kvm?.status == "ok", "\(kvm.map { "\($0.status): \($0.detail)" } ?? explain("doctor"))")
        #expect(kvm?.detail.contains("reached init under KVM") == true, "\(kvm?.detail ?? "")")

        // vm run: a kvm domain, the command's output and its exit status.
        #expect(status("image") == 0, "\(explain("image"))")
        #expect(status("vm") == 7, "\(explain("vm"))")
        #expect(file("vm.out") == "hello from L2\n1\n", "\(explain("vm"))")
        #expect(file("vm.err").contains("accel=kvm"), "\(explain("vm"))")
        #expect(file("vm.json").contains("\"accelerator\" : \"kvm\"") || file("vm.json").contains("\"accelerator\":\"kvm\""), "\(file("vm.json").prefix(400))")

        // The full-OS guest: firmware, GRUB, Debian's kernel and systemd, under KVM.
        #expect(status("full") == 5, "\(explain("full"))")
        #expect(file("full.out").hasPrefix("hello from the full guest\nkvm\n"), "\(explain("full"))")
        #expect(file("full.json").contains("kvm"), "\(file("full.json").prefix(400))")

        // The harness: accelerator kvm, the measuring host named as a guest, and the caveat in the report.
        #expect(status("bench") == 0, "\(explain("bench"))")
        let results = try JSON.decode(ResultsFile.self, from: try FileSystem.readBytes(work.appending("bench.json")), what: "bench.json")
        #expect(results.environment.accelerator == "kvm")
        #expect(results.environment.cgroupMode == "v2")
        #expect(results.environment.hostVirtualization?.contains("virtual machine") == true)
        #expect(results.environment.nestedKVM)
        // The guest's shape is recorded beside the figures, with the CPU the probe proved.
        #expect(results.environment.guestShape?.cpuMode == "host-passthrough", "\(String(describing: results.environment.guestShape))")
        #expect(results.environment.guestShape?.machine == "pc" && results.environment.guestShape?.diskCache == "unsafe")
        let vmSamples = results.samples.filter { $0.backend == "vm" && !$0.warmup }
        #expect(vmSamples.count >= 3)
        #expect(vmSamples.allSatisfy { $0.accelerator == "kvm" })
        #expect(results.backends.first { $0.name == "vm" }?.state == .measured)
        #expect(file("bench.out").contains("guests: KVM, nested"), "\(file("bench.out").suffix(1500))")
        #expect(status("report") == 0, "\(explain("report"))")
        #expect(file("report/report.md").contains("nested KVM"))
        #expect(file("domains-after").trimmed.isEmpty, "guests left in L1: \(file("domains-after"))")
        #expect(KVMLab.leftovers(of: work).isEmpty, "\(KVMLab.leftovers(of: work))")
    }

    /// In L1, a pure cgroup v2 host with every controller: the runtime's cgroup tests against the
    /// real kernel (OOM, fork storm, cpu quota, devices), `intermodal run` with -m, --pids-limit and
    /// --cpus, and the quick suite's memory workload, whose cgroup figures come from v2 files; crun
    /// runs unwrapped there.
    @Test(.timeLimit(.minutes(30)))
    func pureCgroupV2HostInTheLab() async throws {
        let work = try KVMLab.workDirectory("cgroup2")
        defer { try? FileSystem.removeTree(work) }
        let script = """
            B=\(KVMLab.binaries.string)
            W=\(work.string)
            R=/var/lib/intermodal/lab
            step() { local name=$1; shift; "$@" > $W/$name.out 2> $W/$name.err; echo $? > $W/$name.status; }
            stat -fc %T /sys/fs/cgroup > $W/cgroupfs
            cat /sys/fs/cgroup/cgroup.subtree_control > $W/controllers
            step runtime \(KVMLab.testBundle.string) --testing-library swift-testing \\
              --filter CgroupContainerTests --filter CgroupV2Tests --filter CgroupDeviceFilterTests --filter CgroupDetectionTests --filter CgroupPureV2ContainerTests
            step image $B/intermodal image bootstrap busybox bb --root $R
            # The limits as the kernel holds them, read from the container's own v2 directory.
            limits() {
              $B/intermodal run --root $R --rm -m 64m --pids-limit 20 --cpus 0.5 bb sleep 15 &
              local run=$! i
              for i in $(seq 1 300); do
                d=$(ls -d /sys/fs/cgroup/intermodal-* 2>/dev/null | head -n 1)
                # (cgroup files say size 0: read them to see whether a process has joined)
                [ -n "$d" ] && [ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] && break
                sleep 0.2
              done
              cat "$d/memory.max" "$d/pids.max" "$d/cpu.max"
              wait $run
            }
            step limits limits
            step oom $B/intermodal run --root $R --rm -m 32m bb sh -c 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'
            step bench $B/intermodal bench --quick --backends native,intermodal,crun --workloads memory --runs 3 \\
              --bench-root /var/lib/intermodal-bench/lab --out $W/bench.json
            find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name '*intermodal*' > $W/cgroups-after
            """
        let lab = try await KVMLab.run(
            ["--no-libvirt", "--console", work.appending("console.log").string, "--", "bash", "-c", script], in: work)
        let console = (try? FileSystem.readString(work.appending("console.log"))) ?? ""
        #expect(lab.exitCode == 0, "lab: \(lab.standardError)\nL1 console tail: \(console.suffix(1500))")
        let steps = KVMLab.Steps(work: work)
        let (file, status, explain) = (steps.file, steps.status, steps.explain)

        #expect(file("cgroupfs").trimmed == "cgroup2fs")
        for controller in ["cpu", "io", "memory", "pids", "cpuset"] {
            #expect(file("controllers").split(separator: " ").map { $0.trimmed }.contains(controller), "\(file("controllers"))")
        }
        // The runtime's cgroup tests ran (none skipped for want of a controller) and passed on the real v2 kernel.
        #expect(status("runtime") == 0, "\(explain("runtime"))")
        let log = file("runtime.out") + file("runtime.err")
        #expect(log.contains("a memory limit OOM-kills the process") && log.contains("a pids limit stops a fork bomb")
                && log.contains("a cpu quota caps the CPU time"), "\(log.suffix(2000))")
        #expect(!log.contains("skipped"), "\(log.suffix(2000))")

        #expect(status("image") == 0, "\(explain("image"))")
        #expect(status("limits") == 0, "\(explain("limits"))")
        #expect(file("limits.out") == "67108864\n20\n50000 100000\n", "\(explain("limits"))")
        #expect(status("oom") == 137, "\(explain("oom"))")
        #expect(!file("oom.out").contains("survived"))

        #expect(status("bench") == 0, "\(explain("bench"))")
        let results = try JSON.decode(ResultsFile.self, from: try FileSystem.readBytes(work.appending("bench.json")), what: "bench.json")
        #expect(results.environment.cgroupMode == "v2")
        for backend in ["intermodal", "crun"] {
            let cgroupSamples = results.samples.filter { $0.backend == backend && $0.metric == "idle:cgroup-memory-per-instance" }
            #expect(!cgroupSamples.isEmpty && cgroupSamples.allSatisfy { $0.value > 0 }, "\(backend): no v2 memory.current figures")
        }
        let crun = results.backends.first { $0.name == "crun" }
        #expect(crun?.state == .measured, "\(crun?.reason ?? "")")
        #expect(crun?.adjustments.contains { $0.contains("private mount namespace") } == false, "crun is wrapped on a pure v2 host")
        #expect(file("cgroups-after").trimmed.isEmpty, "cgroups left in L1: \(file("cgroups-after"))")
        #expect(KVMLab.leftovers(of: work).isEmpty, "\(KVMLab.leftovers(of: work))")
    }
}

/// Runs `scripts/kvm-lab` from this checkout against this build.
enum KVMLab {
    /// The checkout this test file belongs to.
    static let repository = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()

    /// The test bundle's own executable: L1 runs it again, filtered, for the runtime's cgroup tests.
    static var testBundle: FilePath { FilePath((try? FileSystem.readLink("/proc/self/exe")) ?? "") }

    /// Where SwiftPM put the package's executables: beside the test bundle.
    static var binaries: FilePath { testBundle.removingLastComponent() }

    static func run(_ arguments: [String], in directory: FilePath) async throws -> CommandResult {
        try await HostCommand.run(repository.appending("scripts/kvm-lab").string, arguments, workingDirectory: directory)
    }

    /// What the in-lab script's `step NAME CMD` left in the work directory: NAME.out, .err, .status.
    struct Steps {
        let work: FilePath
        func file(_ name: String) -> String { (try? FileSystem.readString(work.appending(name))) ?? "" }
        func status(_ step: String) -> Int? { Int(file("\(step).status").trimmed) }
        func explain(_ step: String) -> String {
            "\(step): status \(file("\(step).status").trimmed)\n\(file("\(step).out").suffix(1500))\n\(file("\(step).err").suffix(1500))"
        }
    }

    /// A directory of the test's own, shared read-write with L1.
    static func workDirectory(_ name: String) throws -> FilePath {
        try FileSystem.makeTemporaryDirectory(prefix: "intermodal-kvmlab-\(name)")
    }

    /// The lab's own traces on this host: a QEMU of an L1, or a lab directory; with `work`, only
    /// those of the lab run from that directory (the tests' labs run side by side).
    static func leftovers(of work: FilePath? = nil) -> [String] {
        var found: [String] = []
        for entry in (try? FileSystem.list("/var/tmp")) ?? [] where entry.hasPrefix("kvm-lab.") {
            let dir = FilePath("/var/tmp/\(entry)")
            if let work, (try? FileSystem.readString(dir.appending("cwd"))) != work.string { continue }
            found.append(dir.string)
        }
        for pid in (try? FileSystem.list("/proc")) ?? [] where Int32(pid) != nil {
            let cmdline = ((try? FileSystem.readBytes(FilePath("/proc/\(pid)/cmdline"))) ?? []).map { $0 == 0 ? 32 : $0 }
            let text = String(decoding: cmdline, as: UTF8.self)
            guard text.contains("qemu-system") && text.contains("mount_tag=hostroot") else { continue }
            if let work, !text.contains("path=\(work.string),mount_tag=work") { continue }
            found.append("L1 QEMU, pid \(pid)")
        }
        return found
    }
}
