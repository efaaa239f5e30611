#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

@Suite("real containers: console socket")
struct ConsoleSocketTests {
    /// Receives one descriptor (SCM_RIGHTS) on an accepted connection.
    static func receiveDescriptor(_ conn: Int32) -> Int32 {
        var byte = [UInt8](repeating: 0, count: 2048)
        var control = [UInt8](repeating: 0, count: 64)
        return byte.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctrl in
                var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = ctrl.baseAddress
                    msg.msg_controllen = ctrl.count
                    guard recvmsg(conn, &msg, 0) > 0, msg.msg_controllen >= MemoryLayout<cmsghdr>.size else { return -1 }
                    // The descriptor follows the cmsghdr header (16 bytes on 64-bit Linux).
                    return ctrl.load(fromByteOffset: MemoryLayout<cmsghdr>.size, as: Int32.self)
                }
            }
        }
    }

    @Test("--console-socket receives the pseudo-terminal master; the program's output arrives on it")
    func consoleSocket() async throws {
        let b = try await TestBundle.make(["sh", "-c", "echo on-the-console; tty"]) { spec in
            spec.process?.terminal = true
        }
        defer { b.cleanup() }
        let path = b.directory.appending("console.sock").string
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes + [0])
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 1) == 0)

        let rt = b.runtime
        let id = TestBundle.uniqueID
        // create blocks until the child has connected, so accept in parallel.
        let acceptor = Task.detached { () -> Int32 in
            let conn = accept(listener, nil, nil)
            if conn >= 0 { _ = fcntl(conn, F_SETFD, FD_CLOEXEC) }
            defer { if conn >= 0 { close(conn) } }
            return conn >= 0 ? ConsoleSocketTests.receiveDescriptor(conn) : -1
        }
        let container = try await rt.create(id: id, bundle: b.bundle, io: .consoleSocket(FilePath(path)))
        let master = await acceptor.value
        #expect(master >= 0)
        defer { if master >= 0 { close(master) } }
        try await rt.start(id: id)
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1024)
        while master >= 0 {
            let n = buf.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("on-the-console"), "\(text)")
        #expect(text.contains("/dev/pts/0"), "\(text)")
        #expect(try await container.wait().code == 0)
        try await rt.delete(id: id)
    }
}
