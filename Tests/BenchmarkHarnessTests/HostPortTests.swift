#if canImport(Glibc)
import Glibc
#endif
@testable import BenchmarkHarness
import IntermodalCore
import Testing

/// On the host's network an instance's servers take the host's ports: a port already taken means
/// another server would answer, so the path fails instead of measuring that server.
@Suite("Servers on the host network")
struct HostPortTests {
    /// A TCP socket listening on 127.0.0.1 at a port the kernel picks; its descriptor and port.
    static func listener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound, "cannot listen on 127.0.0.1")
        return (fd, Int(UInt16(bigEndian: sa.sin_port)))
    }

    @Test func aTakenPortFailsThePathNamingThePort() async throws {
        let taken = try Self.listener()
        let free = try Self.listener()
        close(free.fd)   // now free again
        defer { close(taken.fd) }
        await #expect {
            try await BenchServers.requireFreeOnHost([free.port, taken.port], for: "runc")
        } throws: { e in
            let m = "\(e)"
            return (e as? IntermodalError)?.code == .invalidState && m.contains("port \(taken.port) on the host is already in use")
                && m.contains("runc") && !m.contains("\(free.port)")
        }
        try await BenchServers.requireFreeOnHost([free.port], for: "runc")
    }
}
