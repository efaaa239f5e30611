#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import Logging
import SystemPackage

/// A running full-OS guest (from ``FullGuest/boot(disk:)``): run commands through its agent,
/// read its boot phases and memory, then ``destroy()`` it. If it is dropped without that,
/// libvirt ends the domain when the connection closes (auto-destroy) and its directory goes.
public actor FullGuestInstance {
    public nonisolated let name: String
    public nonisolated let accelerator: DomainDefinition.Accelerator
    public nonisolated let disk: FullGuestDisk
    /// This guest's qcow2 overlay over the shared base disk.
    public nonisolated let overlay: FilePath
    public nonisolated let consoleLog: FilePath
    /// QEMU's process on this host (nil for a remote libvirt).
    public nonisolated let qemuPID: Int32?
    /// Boot phases so far, and ``Phase/domainDestroyed`` and ``Phase/cleanup`` once destroyed.
    public private(set) var timestamps: PhaseTimestamps

    let directory: FilePath
    let connection: LibvirtConnection
    let domain: LibvirtDomain
    let agent: GuestAgent
    let configuration: FullGuestConfiguration
    let logger = IntermodalLog.logger("vm.full")
    private var destroyed = false
    private var phases: FullGuestBootPhases?

    init(name: String, directory: FilePath, connection: LibvirtConnection, domain: LibvirtDomain, agent: GuestAgent,
         accelerator: DomainDefinition.Accelerator, disk: FullGuestDisk, overlay: FilePath, consoleLog: FilePath,
         qemuPID: Int32?, marks: PhaseTimestamps, configuration: FullGuestConfiguration) {
        self.name = name
        self.directory = directory
        self.connection = connection
        self.domain = domain
        self.agent = agent
        self.accelerator = accelerator
        self.disk = disk
        self.overlay = overlay
        self.consoleLog = consoleLog
        self.qemuPID = qemuPID
        self.timestamps = marks
        self.configuration = configuration
    }

    deinit {
        // Without destroy(): the connection's close ends the domain (auto-destroy); the files go here.
        if !destroyed { try? FileSystem.removeTree(directory) }
    }

    /// Runs `command` (its arguments, environment, working directory and user) through the
    /// agent and waits for it to end, polling `guest-exec-status` every
    /// ``FullGuestConfiguration/pollInterval``.
    public func exec(_ command: GuestInitramfs.RunConfiguration) async throws(IntermodalError) -> GuestExecResult {
        var marks = PhaseTimestamps()
        marks.mark(.create)
        guard !destroyed else { throw IntermodalError(.invalidArgument, "full guest \(name) was destroyed") }
        guard !command.arguments.isEmpty else { throw IntermodalError(.invalidArgument, "no command to run in the guest") }
        // guest-exec has no working directory or user of its own (qemu-ga 7.2): a shell sets
        // them and execs the command, which it finds in the command's own PATH, as Docker does.
        var arguments = ["-c", #"cd -- "$1" || exit 126; shift; exec "$@""#, "sh", command.workingDirectory]
        if let user = command.user { arguments += ["/usr/sbin/runuser", "-u", user, "--"] }
        arguments += command.arguments
        let pid = try await agent.spawn(path: "/bin/sh", arguments: arguments, environment: command.environment.isEmpty ? nil : command.environment)
        marks.mark(.commandStart)
        let limit = configuration.commandTimeout
        while true {
            try Interruption.check("while the full guest ran a command")
            if Task.isCancelled { throw IntermodalError(.interrupted, "command in full guest \(name) cancelled") }
            let status = try await agent.status(pid: pid)
            if let exit = status.exit {
                let now = MonotonicInstant.now
                marks.mark(.commandEnd, at: now)
                marks.mark(.exit, at: now)
                if !status.standardOutput.isEmpty || !status.standardError.isEmpty { marks.mark(.firstOutput, at: now) }
                return GuestExecResult(
                    status: exit, standardOutput: status.standardOutput, standardError: status.standardError,
                    outputTruncated: status.outputTruncated, timestamps: marks,
                    pollIntervalMilliseconds: Int(configuration.pollInterval.components.seconds * 1000
                        + configuration.pollInterval.components.attoseconds / 1_000_000_000_000_000))
            }
            if let limit, let started = marks[.commandStart], MonotonicInstant.now.duration(since: started) > limit {
                throw IntermodalError(.timeout, "the command in full guest \(name) ran longer than \(limit.formattedSeconds)")
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// Gives the guest's first network interface `address/prefix` and a default route via
    /// `gateway`, through the agent, as an operator would (the image needs iproute2).
    public func configureNetwork(address: String, prefix: Int, gateway: String) async throws(IntermodalError) {
        let script = """
            i=$(ls /sys/class/net | grep -v '^lo$' | head -n 1); [ -n "$i" ] || { echo 'no network interface' >&2; exit 1; }
            ip link set "$i" up && ip addr add \(address)/\(prefix) dev "$i" && ip route add default via \(gateway)
            """
        _ = try await helper(["sh", "-c", script])
    }

    /// Starts `command` in the background (its output to /dev/null) and returns once it was
    /// started: for servers, which `exec` would wait for forever.
    public func startInBackground(_ command: GuestInitramfs.RunConfiguration) async throws(IntermodalError) {
        var background = command
        background.arguments = ["sh", "-c", #""$@" > /dev/null 2>&1 < /dev/null &"#, "sh"] + command.arguments
        let r = try await exec(background)
        guard r.status.code == 0 else {
            throw IntermodalError(.externalFailure, "cannot start \(command.arguments.first ?? "a command") in the background in full guest \(name)")
        }
    }

    /// Runs a helper command of ours and returns its standard output, failing on a non-zero exit.
    func helper(_ arguments: [String]) async throws(IntermodalError) -> (output: String, result: GuestExecResult) {
        let r = try await exec(.init(arguments: arguments, environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]))
        guard r.status == ExitStatus(code: 0) else {
            throw IntermodalError(
                .externalFailure, "\(arguments.joined(separator: " ")) in full guest \(name) ended with \(r.status): "
                    + String(decoding: r.standardError.prefix(400), as: UTF8.self))
        }
        return (String(decoding: r.standardOutput, as: UTF8.self), r)
    }

    /// QEMU's RSS and PSS and the guest's /proc/meminfo, now.
    public func memory() async throws(IntermodalError) -> FullGuestMemory {
        let qemu = qemuPID.flatMap { ProcessMemory.read(pid: $0) }
        let meminfo = try await helper(["cat", "/proc/meminfo"]).output
        func field(_ name: String) -> Int64? {
            for line in meminfo.split(separator: "\n") where line.hasPrefix(name + ":") {
                return Int64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            }
            return nil
        }
        return FullGuestMemory(qemu: qemu, guestMemTotalKiB: field("MemTotal"), guestMemAvailableKiB: field("MemAvailable"))
    }

    /// Waits until systemd has finished booting (`systemctl is-system-running --wait`), then
    /// reads its boot timestamps and `systemd-analyze`, and places kernel start, systemd's start
    /// and the boot's end on the host clock (``Phase/kernelStart``, ``Phase/userspaceStart``,
    /// ``Phase/bootFinished``). Asked again, it returns the same figures.
    public func bootPhases() async throws(IntermodalError) -> FullGuestBootPhases {
        if let phases { return phases }
        // "degraded" (a unit failed) also ends the wait with a non-zero status: the boot finished.
        let running = try await exec(.init(arguments: ["systemctl", "is-system-running", "--wait"], environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]))
        let state = String(decoding: running.standardOutput, as: UTF8.self).trimmed
        guard state == "running" || state == "degraded" else {
            throw IntermodalError(.externalFailure, "full guest \(name): systemd did not finish booting (state '\(state)')")
        }
        let show = try await helper([
            "systemctl", "show", "--property=FirmwareTimestampMonotonic,LoaderTimestampMonotonic,InitRDTimestampMonotonic,UserspaceTimestampMonotonic,FinishTimestampMonotonic",
        ]).output
        var values: [String: Int64] = [:]
        for line in show.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = Int64(kv[1]) }
        }
        guard let userspace = values["UserspaceTimestampMonotonic"], let finish = values["FinishTimestampMonotonic"], finish > 0 else {
            throw IntermodalError(.corrupted, "full guest \(name): systemctl show gave no boot timestamps: \(show.prefix(300))")
        }
        let firmware = values["FirmwareTimestampMonotonic"] ?? 0, loader = values["LoaderTimestampMonotonic"] ?? 0
        let initrd = values["InitRDTimestampMonotonic"] ?? 0
        let analyze = try await helper(["systemd-analyze"]).output.split(separator: "\n").first.map(String.init) ?? ""

        // The guest's monotonic clock starts with its kernel: one read of its uptime through
        // the agent, bracketed by host times, puts that start on the host's clock.
        let sent = MonotonicInstant.now
        let (uptimeText, uptimeRun) = try await helper(["cat", "/proc/uptime"])
        let received = uptimeRun.timestamps[.exit] ?? .now
        guard let uptime = Double(uptimeText.split(separator: " ").first ?? "") else {
            throw IntermodalError(.corrupted, "full guest \(name): /proc/uptime read '\(uptimeText.prefix(60))'")
        }
        let middle = sent.nanoseconds + (received.nanoseconds - sent.nanoseconds) / 2
        let kernelStart = MonotonicInstant(nanoseconds: middle - UInt64(uptime * 1e9))
        timestamps.mark(.kernelStart, at: kernelStart)
        timestamps.mark(.userspaceStart, at: MonotonicInstant(nanoseconds: kernelStart.nanoseconds + UInt64(userspace) * 1000))
        timestamps.mark(.bootFinished, at: MonotonicInstant(nanoseconds: kernelStart.nanoseconds + UInt64(finish) * 1000))

        func micro(_ from: Phase, _ to: Phase) -> Int64? {
            timestamps.duration(from: from, to: to).map { Int64($0.seconds * 1e6) }
        }
        let direct = disk.info.bootMethod == .directKernel
        let result = FullGuestBootPhases(
            bootMethod: disk.info.bootMethod,
            systemdFirmwareMicroseconds: firmware > 0 ? firmware - loader : nil,
            systemdLoaderMicroseconds: loader > 0 ? loader : nil,
            kernelMicroseconds: initrd > 0 ? initrd : userspace,
            initrdMicroseconds: initrd > 0 ? userspace - initrd : nil,
            userspaceMicroseconds: finish - userspace,
            systemdAnalyze: analyze,
            hostFirmwareMicroseconds: direct ? nil : micro(.domainStarted, .consoleFirstByte),
            hostLoaderMicroseconds: direct ? nil : micro(.consoleFirstByte, .kernelStart),
            kernelStartUncertaintyMicroseconds: Int64(received.duration(since: sent).seconds * 5e5) + 10_000)
        phases = result
        return result
    }

    /// Ends the guest at once (pulls the plug) and removes its overlay and log. Idempotent.
    public func destroy() async throws(IntermodalError) {
        guard !destroyed else { return }
        destroyed = true
        let domain = self.domain
        try await DedicatedThread.run { () throws(IntermodalError) in try domain.destroy() }
        timestamps.mark(.domainDestroyed)
        try FileSystem.removeTree(directory)
        timestamps.mark(.cleanup)
        logger.info("full guest \(name): destroyed, its disk removed")
    }
}
