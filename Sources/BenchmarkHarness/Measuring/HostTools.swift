#if canImport(Glibc)
import Glibc
#endif
import ImageStore
import IntermodalCore
import SystemPackage

/// The clients of the network and app workloads (iperf3, redis-benchmark) run on the host, in
/// its network namespace, by chroot into the suite image's root file system: client and server
/// are the same builds on every backend, and the host needs none of them installed.
public struct HostTools: Sendable {
    public let rootfs: FilePath

    public init(rootfs: FilePath) { self.rootfs = rootfs }

    /// Runs `arguments` from the image on the host; its output, or an error with its end.
    public func run(_ arguments: [String], timeout: Duration) async throws(IntermodalError) -> String {
        let t = try await ProcessTimer.run(
            ["/usr/sbin/chroot", rootfs.string] + arguments, environment: ["PATH=\(InstanceProcess.defaultPath)", "HOME=/root"],
            timeout: timeout)
        let text = String(decoding: t.output, as: UTF8.self)
        guard t.status == ExitStatus(code: 0) else {
            throw IntermodalError(.externalFailure, "\(arguments[0]) on the host ended with \(t.status): \(ToolOutput.tail(text))")
        }
        return text
    }
}

/// Waiting for a server in an instance to accept connections, off the cooperative pool.
enum PortProbe {
    /// Returns once `address:port` accepts a TCP connection; throws `.timeout` after `timeout`.
    static func waitUntilOpen(_ address: String, _ port: Int, timeout: Duration) async throws(IntermodalError) {
        let ok = await DedicatedThread.run { () -> Bool in
            Poll.blockingUntil(timeout, .every(.milliseconds(20))) { connects(address, port) }
        }
        guard ok else { throw IntermodalError(.timeout, "nothing accepted connections on \(address):\(port) within \(timeout)") }
    }

    /// True when something accepts a TCP connection on `address:port` now (a blocking connect
    /// of at most a second: call it off the cooperative pool).
    static func connects(_ address: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &sa.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
