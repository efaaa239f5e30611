#if canImport(Glibc)
import Glibc
#endif
import BenchmarkResults
import Foundation
import IntermodalCore
@testable import Reports
import SystemPackage
import Testing

/// Fleet runs: the Ansible playbook in deploy/ansible run for real against two SSH endpoints on
/// this machine, its lint, the workflow's lint, and the cross-host report.
@Suite(.serialized) struct FleetTests {
    static let project = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
    static var playbook: FilePath { project.appending("deploy/ansible/bench.yml") }
    static var workflow: FilePath { project.appending(".github/workflows/benchmark.yml") }

    /// Ansible's own files (an empty config, its home, local temp, SSH control sockets, lint caches)
    /// under `dir`, and no colours.
    static func ansibleEnvironment(_ dir: FilePath) throws -> [String: String] {
        try FileSystem.writeAtomically("", to: dir.appending("ansible.cfg"))
        return [
            "ANSIBLE_CONFIG": dir.appending("ansible.cfg").string, "ANSIBLE_HOME": dir.appending("ansible-home").string,
            "ANSIBLE_LOCAL_TEMP": dir.appending("ansible-local").string,
            // The controller's own tasks (delegated to localhost) too: nothing in ~/.ansible.
            "ANSIBLE_REMOTE_TEMP": dir.appending("ansible-remote").string, "XDG_CACHE_HOME": dir.appending("cache-home").string,
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "False",
            // One SSH connection per host for the whole play, each module piped into it: on a loaded
            // machine this takes the run from minutes to about one. The masters outlive the play by 2 s.
            "ANSIBLE_PIPELINING": "True", "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=2s",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": dir.appending("ssh-control").string,
        ]
    }

    @Test func playbookPassesSyntaxCheckAndLint() async throws {
        try #require(HostCommand.find("ansible-playbook") != nil, "ansible-playbook is missing (scripts/test installs ansible-core)")
        try await withTemporaryDirectory { dir in
            let env = try Self.ansibleEnvironment(dir)
            let syntax = try await HostCommand.run(
                "ansible-playbook", ["--syntax-check", "-i", "localhost,", Self.playbook.string], environment: env, workingDirectory: dir)
            #expect(syntax.exitCode == 0, "\(syntax.standardOutput)\(syntax.standardError)")
            try #require(HostCommand.find("ansible-lint") != nil, "ansible-lint is missing (scripts/test installs it)")
            let lint = try await HostCommand.run(
                "ansible-lint", ["--offline", "--nocolor", Self.project.appending("deploy/ansible").string],
                environment: env, workingDirectory: Self.project)
            #expect(lint.exitCode == 0, "\(lint.standardOutput)\(lint.standardError)")
        }
    }

    /// actionlint where it is installed (no Debian package); everywhere, what the workflow must say
    /// for a shared root runner: one benchmark at a time whatever the ref, no fork without a label.
    @Test func workflowIsFitForASharedRunner() async throws {
        let check = try await HostCommand.run("/usr/bin/python3", ["-c", """
            import sys, yaml
            w = yaml.safe_load(open(sys.argv[1]))
            job = w["jobs"]["quick-suite"]
            group = job["concurrency"]["group"]
            assert "${{" not in group, "the runner's group must not depend on the ref: " + group
            assert job["concurrency"]["cancel-in-progress"] is False, "a benchmark must not cancel another ref's"
            guard = " ".join(job["if"].split())
            assert "head.repo.full_name == github.repository" in guard, guard
            assert "github.event.label.name == 'benchmark-approved'" in guard, guard
            assert "pull_request_target" not in w[True], "forks' code must not run with the base's rights"
            """, Self.workflow.string])
        #expect(check.exitCode == 0, "\(check.standardError)")
        if HostCommand.find("actionlint") != nil {
            let lint = try await HostCommand.run("actionlint", [Self.workflow.string], workingDirectory: Self.project)
            #expect(lint.exitCode == 0, "\(lint.standardOutput)\(lint.standardError)")
        }
    }

    // MARK: The playbook against two SSH endpoints

    /// An sshd of the test's own: its config, host key and PID file in the test's directory.
    struct SSHD {
        var pid: pid_t

        static func start(_ dir: FilePath, name: String, address: String, port: Int, netns: String?) async throws -> SSHD {
            let config = dir.appending("sshd-\(name).conf"), pidFile = dir.appending("sshd-\(name).pid")
            try FileSystem.writeAtomically("""
                Port \(port)
                ListenAddress \(address)
                HostKey \(dir.appending("host_key"))
                PidFile \(pidFile)
                AuthorizedKeysFile \(dir.appending("authorized_keys"))
                StrictModes no
                PermitRootLogin prohibit-password
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                Subsystem sftp /usr/lib/openssh/sftp-server

                """, to: config)
            let sshd = ["/usr/sbin/sshd", "-f", config.string, "-E", dir.appending("sshd-\(name).log").string]
            // sshd detaches once it listens and has written its PID file.
            if let netns {
                try await HostCommand.check("nsenter", ["--net=/run/netns/\(netns)"] + sshd)
            } else {
                try await HostCommand.check(sshd[0], Array(sshd.dropFirst()))
            }
            for _ in 0..<100 where !FileSystem.exists(pidFile) { try await Task.sleep(for: .milliseconds(100)) }
            try #require(FileSystem.exists(pidFile), "sshd \(name) wrote no PID file: \((try? FileSystem.readString(dir.appending("sshd-\(name).log"))) ?? "")")
            let pid = try #require(pid_t((try FileSystem.readString(pidFile)).trimmed))
            return SSHD(pid: pid)
        }

        /// Stops the listener and waits until it is gone.
        func stop() async {
            guard pid > 1 else { return }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(50)) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
    }

    /// A free TCP port on 127.0.0.1 (the kernel's choice).
    static func freePort() async throws -> Int {
        let out = try await HostCommand.check("/usr/bin/python3", ["-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(out.trimmed))
    }

    @Test(.timeLimit(.minutes(10))) func playbookBenchmarksTwoHostsOverSSH() async throws {
        try #require(HostCommand.find("ansible-playbook") != nil, "ansible-playbook is missing (scripts/test installs ansible-core)")
        try #require(FileSystem.exists("/usr/sbin/sshd"), "sshd is missing (scripts/test installs openssh-server)")
        let products = FilePath(ReportCommandTests.intermodal).removingLastComponent()
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-fleet-test")
        // A network namespace, a veth pair into it and addresses from TEST-NET-2 (RFC 5737),
        // named so that scripts/check-leftovers sees them if they outlive the test.
        let tag = String(getpid() % 100_000)
        // Not imv*: scripts/clean-test-leftovers of another checkout's suite removes those as containers' links.
        let netns = "intermodal-fleet-\(tag)", outside = "vethfl\(tag)a", inside = "vethfl\(tag)b"
        // A /30 of its own per test process: two checkouts' suites may run this test at once.
        let subnet = 4 * Int(getpid() % 63)
        let hostAddress = "198.51.100.\(subnet + 1)", nsAddress = "198.51.100.\(subnet + 2)"
        var daemons: [SSHD] = []
        let madePrivsepDir = !FileSystem.exists("/run/sshd")
        do {
            for args in [["netns", "add", netns],
                         ["link", "add", outside, "type", "veth", "peer", "name", inside],
                         ["link", "set", inside, "netns", netns],
                         ["addr", "add", "\(hostAddress)/30", "dev", outside],
                         ["link", "set", outside, "up"],
                         ["-n", netns, "addr", "add", "\(nsAddress)/30", "dev", inside],
                         ["-n", netns, "link", "set", inside, "up"],
                         ["-n", netns, "link", "set", "lo", "up"]] {
                try await HostCommand.check("ip", args)
            }
            if madePrivsepDir { try FileSystem.createDirectory("/run/sshd", mode: 0o755) }
            for key in ["host_key", "client_key"] {
                try await HostCommand.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "intermodal-fleet-test", "-f", dir.appending(key).string])
            }
            try FileSystem.writeAtomically(try FileSystem.readString(dir.appending("client_key.pub")), to: dir.appending("authorized_keys"))
            let loopbackPort = try await Self.freePort(), nsPort = 2222
            daemons.append(try await SSHD.start(dir, name: "loopback", address: "127.0.0.1", port: loopbackPort, netns: nil))
            daemons.append(try await SSHD.start(dir, name: "namespaced", address: nsAddress, port: nsPort, netns: netns))

            // The tiny suite: native and our containers, start-up only, three runs each.
            try FileSystem.writeAtomically("""
                name = "fleet-test"
                extends = "quick"
                image = "busybox"
                workloads = ["startup"]
                backends = ["native", "intermodal"]
                runs = 3
                warmup = 0

                """, to: dir.appending("tiny.toml"))
            let cache = getenvString("INTERMODAL_CACHE") ?? dir.appending("cache").string
            let results = dir.appending("results/fleet-test")
            func host(_ name: String, _ address: String, _ port: Int) -> [String: Any] {
                let home = dir.appending(name)
                return [
                    "ansible_host": address, "ansible_port": port,
                    "ansible_remote_tmp": home.appending("ansible-tmp").string,
                    "ansible_async_dir": home.appending("ansible-async").string,
                    "intermodal_bench_home": home.appending("home").string,
                    "intermodal_bench_root": home.appending("bench-root").string,
                ]
            }
            // JSON is YAML: the inventory as Ansible reads it, without indentation to get wrong.
            let inventory: [String: Any] = ["all": [
                "vars": [
                    "ansible_user": "root",
                    "ansible_ssh_private_key_file": dir.appending("client_key").string,
                    "ansible_ssh_common_args": "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no",
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "intermodal_bench_fleet": "test",
                    "intermodal_bench_suite": dir.appending("tiny.toml").string,
                    "intermodal_bench_seed": 4242,
                    "intermodal_bench_build_dir": products.string,
                    "intermodal_bench_results_dir": results.string,
                    "intermodal_bench_setup_services": false,
                    "intermodal_bench_budget_minutes": 8,
                    "intermodal_bench_environment": ["INTERMODAL_CACHE": cache],
                ] as [String: Any],
                "hosts": [
                    "loopback": host("loopback", "127.0.0.1", loopbackPort), "namespaced": host("namespaced", nsAddress, nsPort),
                    // A third host, through the loopback endpoint, whose run fails: it is reported, the others go on.
                    "broken": host("broken", "127.0.0.1", loopbackPort).merging(["intermodal_bench_skip_backends": ["no-such-backend"]]) { $1 },
                ],
            ] as [String: Any]]
            try FileSystem.writeAtomically(Array(try JSONSerialization.data(withJSONObject: inventory, options: [.sortedKeys])),
                                           to: dir.appending("inventory.yml"))

            let run = try await HostCommand.run(
                "ansible-playbook", ["-i", dir.appending("inventory.yml").string, Self.playbook.string],
                environment: try Self.ansibleEnvironment(dir), workingDirectory: dir)
            // 2: a host failed (Ansible's code), and only that one.
            #expect(run.exitCode == 2, "\(run.standardOutput.suffix(6000))\(run.standardError.suffix(3000))")
            #expect(run.standardOutput.contains("broken") && run.standardOutput.contains("failed=1"))
            let failure = try FileSystem.readString(results.appending("broken.failed.txt"))
            #expect(failure.contains("Run the suite") && failure.contains("no-such-backend"), "\(failure)")
            #expect(!FileSystem.exists(results.appending("broken.json")))

            // Both results files came back, each the suite's with the one seed, measured.
            var suites: Set<String> = []
            for name in ["loopback", "namespaced"] {
                let file = try LabelledResults.load(results.appending("\(name).json")).results
                #expect(file.label == name)
                #expect(file.seed == 4242)
                suites.insert(file.suiteHash)
                for backend in ["native", "intermodal"] {
                    #expect(file.measuredSeries.keys.contains { $0.workload == "startup" && $0.backend == backend },
                            "\(name) has no start-up sample of \(backend): \(file.backends) \(file.failures)")
                }
                let doctor = try FileSystem.readString(results.appending("\(name).doctor.json"))
                #expect(doctor.contains("\"results\""))
                #expect(!FileSystem.exists(results.appending("\(name).failed.txt")))
            }
            #expect(suites.count == 1, "one suite file for both hosts")
            // The controller rendered the cross-host report, and it names both hosts.
            let report = try FileSystem.readString(results.appending("report/report.md"))
            #expect(report.contains("| loopback | namespaced |") || report.contains("| namespaced | loopback |"), "\(report.prefix(3000))")
            #expect(report.contains("Intermodal fleet report: test"))
            #expect(report.contains("**broken failed**: Run the suite"))
            let plots = try FileSystem.list(results.appending("report/plots"))
            #expect(plots.contains { $0.hasPrefix("fleet-startup-") && $0.hasSuffix(".svg") }, "\(plots)")
        } catch {
            Issue.record(error)
        }
        // The SSH masters go 2 s after their last use.
        for _ in 0..<100 {
            let masters = try? await HostCommand.run("pgrep", ["-f", dir.appending("ssh-control").string])
            if masters?.exitCode != 0 { break }
            try? await Task.sleep(for: .milliseconds(200))
        }
        for d in daemons { await d.stop() }
        _ = try? await HostCommand.run("ip", ["netns", "delete", netns])
        _ = try? await HostCommand.run("ip", ["link", "delete", outside])
        if madePrivsepDir { _ = try? FileSystem.removeTree("/run/sshd") }
        try? FileSystem.removeTree(dir)
        #expect(!FileSystem.exists(FilePath("/run/netns/\(netns)")))
        for d in daemons { #expect(kill(d.pid, 0) != 0, "sshd \(d.pid) outlived the test") }
        let masters = try? await HostCommand.run("pgrep", ["-af", dir.appending("ssh-control").string])
        #expect(masters?.exitCode != 0, "SSH masters outlived the test: \(masters?.standardOutput ?? "")")
    }

    // MARK: The cross-host report from generated files

    @Test func fleetReportComparesHostsRowByRowAndNamesTheFailedOne() async throws {
        try await withTemporaryDirectory { dir in
            let fleet = dir.appending("fleet-lab")
            try FileSystem.createDirectory(fleet)
            var kvm = SyntheticResults.file(label: "kvm-box", seed: 1, host: "kvm-box", accelerator: "kvm")
            kvm.environment.kernel = "6.12.0-synthetic"
            // A host name that tries to break out of gnuplot's string and run a command.
            let hostile = "tcg'\nsystem('touch pwned')\n#"
            try ReportCommandTests.write(kvm, fleet.appending("kvm-box.json"))
            try ReportCommandTests.write(SyntheticResults.file(label: "tcg-box", seed: 2, host: "tcg-box"), fleet.appending("\(hostile).json"))
            try FileSystem.writeAtomically("Run the suite: non-zero return code\nqemu: no kernel\n", to: fleet.appending("arm-board.failed.txt"))
            try FileSystem.writeAtomically("""
                {"generatedAtUnix": 1800000000, "results": [
                  {"name": "kvm", "status": "ok", "detail": "guest reached init", "required": false},
                  {"name": "cgroup v2", "status": "ok", "detail": "mounted", "required": true}]}
                """, to: fleet.appending("kvm-box.doctor.json"))
            try FileSystem.writeAtomically("""
                {"generatedAtUnix": 1800000000, "results": [
                  {"name": "kvm", "status": "missing", "detail": "probe boot timed out", "required": false},
                  {"name": "cgroup v2", "status": "ok", "detail": "mounted", "required": true}]}
                """, to: fleet.appending("\(hostile).doctor.json"))

            let r = try await HostCommand.run(ReportCommandTests.intermodal, ["report", "--fleet", fleet.string])
            #expect(r.exitCode == 0, "\(r.standardError)")
            let md = try FileSystem.readString(fleet.appending("report/report.md"))
            #expect(md.contains("Intermodal fleet report: lab"))
            #expect(md.contains("**arm-board failed**: Run the suite: non-zero return code qemu: no kernel"))
            #expect(md.contains("| **accelerator** (differs) | **kvm** | **tcg** |"), "\(md.prefix(4000))")
            #expect(md.contains("| **kernel** (differs) |"))
            #expect(md.contains("| CPU | Synthetic CPU"), "what does not differ stays plain")
            #expect(md.contains("| **kvm** (differs) | **ok: guest reached init** | **missing: probe boot timed out** |"))
            #expect(!md.contains("| cgroup v2 |"), "a check ok everywhere is left out")
            #expect(md.contains("### startup") && md.contains("(IQR"))
            #expect(md.contains("n=10), TCG") && md.contains("n=10), KVM"), "a guest's figure carries its accelerator")
            #expect(md.contains("## The course's table, host by host"))
            // The hostile name went into the plots as text, not as a command.
            let script = try FileSystem.readString(fleet.appending("report/plots/fleet-startup-echo-spawn-to-exit.gp"))
            #expect(!script.split(separator: "\n").contains { $0.hasPrefix("system(") })
            #expect(!FileSystem.exists(fleet.appending("report/plots/pwned")))

            // A fleet directory with nothing of a fleet in it: a clear error.
            let empty = dir.appending("fleet-empty")
            try FileSystem.createDirectory(empty)
            let none = try await HostCommand.run(ReportCommandTests.intermodal, ["report", "--fleet", empty.string])
            #expect(none.exitCode != 0 && none.standardError.contains("not a fleet run's directory"), "\(none.standardError)")
        }
    }

    /// Random names with quotes, backslashes, newlines and other control characters: gnuplot reads
    /// each back as the text the report meant, in a command and in a data block, and nothing else runs.
    @Test func quotedNamesReachGnuplotAsText() async throws {
        try #require(HostCommand.find("gnuplot") != nil, "gnuplot is missing (scripts/setup installs gnuplot-nox)")
        var rng = SplitMix64(seed: 28)
        let alphabet = Array("ab '\"\\\n\r\t\u{0}\u{7f}$`;#()system")
        let names = (0..<200).map { _ in
            String((0..<Int(rng.next() % 16)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        try await withTemporaryDirectory { dir in
            let prints = names.map { "print \(Gnuplot.quoted($0))" }.joined(separator: "\n") + "\n"
            #expect(prints.split(separator: "\n", omittingEmptySubsequences: false).count == names.count + 1)
            try FileSystem.writeAtomically(prints, to: dir.appending("names.gp"))
            let r = try await HostCommand.run("gnuplot", ["names.gp"], workingDirectory: dir)
            #expect(r.exitCode == 0, "\(r.standardError)")
            // gnuplot prints to standard error, a line per name.
            let printed = r.standardError.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(printed == names.map(Gnuplot.shown), "\(printed)")

            // The same names as the first column of a data block, read back as strings.
            let table = Gnuplot.dataBlock("d", names.enumerated().map { [Gnuplot.column($0.element), String($0.offset)] })
                + "set table $out\nplot $d using (strcol(1)):2 with table\nunset table\nprint $out\n"
            try FileSystem.writeAtomically(table, to: dir.appending("table.gp"))
            let t = try await HostCommand.run("gnuplot", ["table.gp"], workingDirectory: dir)
            #expect(t.exitCode == 0, "\(t.standardError)")
            // Each row: the string, " \t ", the row's number.
            let rows = t.standardError.split(separator: "\n").compactMap { line -> (Int, String)? in
                guard let tab = line.range(of: " \t ", options: .backwards), let i = Int(line[tab.upperBound...]) else { return nil }
                return (i, String(line[..<tab.lowerBound]))
            }
            #expect(rows.map(\.0) == Array(names.indices))
            #expect(rows.map(\.1) == names.map(Gnuplot.columnShown), "\(rows.map(\.1))")
            #expect(try FileSystem.list(dir).sorted() == ["names.gp", "table.gp"], "nothing else was made")
        }
    }
}
