#if canImport(Glibc)
import Glibc
#endif
import ContainerEngine
import ContainerRuntime
import ImageStore
import IntermodalCore
import SystemPackage
import Testing
import VirtualMachines

/// What the benchmark harness does in a density run: many instances of both kinds at once in one
/// process. Every one of them must finish, whatever the number of cores.
@Suite("Concurrent containers and guests in one process")
struct ConcurrentInstancesTests {
    @Test func eightContainersAndThreeGuestsAllFinish() async throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-concurrency-test")
        defer {
            // Anything a failure left mounted under the root goes before the files do.
            if let mounts = try? FileSystem.readString("/proc/self/mountinfo") {
                for line in mounts.split(separator: "\n") {
                    let fields = line.split(separator: " ")
                    if fields.count > 4, fields[4].hasPrefix(root.string) { umount2(String(fields[4]), Int32(MNT_DETACH)) }
                }
            }
            try? FileSystem.removeTree(root)
        }
        let engine = try Engine(root: root.appending("store"), runtime: Runtime(stateRoot: root.appending("runtime")))
        _ = try await engine.store.bootstrapBusybox(name: try ImageReference.parse("busybox:latest"))
        var vmConfiguration = VirtualMachineConfiguration()
        vmConfiguration.accelerator = .tcg
        vmConfiguration.stateRoot = root.appending("vms")
        vmConfiguration.cacheRoot = root.appending("cache")
        vmConfiguration.initTimeout = .seconds(240)
        vmConfiguration.commandTimeout = .seconds(60)
        let vm = VirtualMachine(configuration: vmConfiguration)
        let disk = VirtualMachine.DiskSource(key: "concurrency-busybox") { dir throws(IntermodalError) in
            try await BusyboxRootfs.populate(at: dir)
        }

        let watchdog = Watchdog(seconds: 480, what: "8 containers and 3 guests")
        let outputs = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for i in 0..<8 {
                group.addTask {
                    var options = RunOptions()
                    options.command = ["sh", "-c", "sleep 0.3; echo container \(i)"]
                    let outcome = try await engine.run(image: "busybox", options: options, output: .log)
                    let log = try FileSystem.readString(FilePath(outcome.container.logPath))
                    try await engine.remove(outcome.container.id, force: true)
                    return ("container \(i)", "\(outcome.status.code) \(log.trimmed)")
                }
            }
            for i in 0..<3 {
                group.addTask {
                    let r = try await vm.run(
                        disk: disk,
                        command: GuestInitramfs.RunConfiguration(arguments: ["echo", "guest \(i)"], environment: ["PATH=/bin"]))
                    return ("guest \(i)", "\(r.status.code) \(String(decoding: r.standardOutput, as: UTF8.self).trimmed)")
                }
            }
            var all: [String: String] = [:]
            for try await (who, what) in group { all[who] = what }
            return all
        }
        watchdog.disarm()
        for i in 0..<8 { #expect(outputs["container \(i)"] == "0 container \(i)") }
        for i in 0..<3 { #expect(outputs["guest \(i)"] == "0 guest \(i)") }
        #expect(try FileSystem.list(root.appending("runtime")).isEmpty, "no runtime state left")
        #expect(((try? FileSystem.list(root.appending("vms"))) ?? []).isEmpty, "no guest directory left")
    }
}
