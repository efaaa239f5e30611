#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

@Suite("real containers: terminal and exec")
struct TerminalAndExecTests {
    @Test("process.terminal gives the container a pseudo-terminal whose master we get back")
    func terminal() async throws {
        let b = try await TestBundle.make(["sh", "-c", "tty; echo rows=$(stty size)"]) { spec in
            spec.process?.terminal = true
            spec.process?.consoleSize = Spec.ConsoleSize(height: 24, width: 80)
        }
        defer { b.cleanup() }
        let rt = b.runtime
        let id = TestBundle.uniqueID
        let container = try await rt.create(id: id, bundle: b.bundle, io: .terminal)
        let master = try #require(container.terminal)
        defer { try? master.close() }
        try await rt.start(id: id)
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = buf.withUnsafeMutableBytes { read(master.rawValue, $0.baseAddress, $0.count) }
            if n <= 0 { break }   // EIO once the slave side is closed
            out += buf[0..<n]
        }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("/dev/pts/0"), "\(text)")
        #expect(text.contains("rows=24 80"), "\(text)")
        #expect(try await container.wait().code == 0)
        try await rt.delete(id: id)
    }

    @Test("exec runs a process in a running container's namespaces")
    func exec() async throws {
        let b = try await TestBundle.make(["sleep", "30"])
        defer { b.cleanup() }
        let rt = b.runtime
        let id = TestBundle.uniqueID
        _ = try await rt.create(id: id, bundle: b.bundle, io: .fileDescriptors(stdin: nil, stdout: nil, stderr: nil))
        try await rt.start(id: id)
        var status: IntermodalCore.ExitStatus?
        let out = try await TestBundle.capture { io in
            var p = Spec.Process(args: ["sh", "-c", "hostname; cat /proc/1/comm; exit 4"], env: ["PATH=/bin"])
            p.noNewPrivileges = true
            status = try await rt.exec(id: id, process: p, io: io)
        }
        #expect(status?.code == 4)
        #expect(out == "intermodal\nsleep\n", "\(out)")
        let missing = await #expect(throws: IntermodalError.self) {
            _ = try await rt.exec(id: id, process: Spec.Process(args: ["nosuchprog"], env: ["PATH=/bin"]))
        }
        #expect(missing?.description == "exec: \"nosuchprog\": executable file not found in $PATH")
        try await rt.delete(id: id, force: true)
    }
}
