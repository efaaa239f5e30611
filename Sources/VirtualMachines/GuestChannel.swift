#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The host end of the guest's virtio-serial port: QEMU listens on a unix socket, we connect
/// and read the init's frames (type byte, little-endian 32-bit length, payload).
final class GuestChannel {
    enum Event { case none, closed, frame(UInt8, [UInt8]) }

    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var eof = false

    /// Wraps a connected stream socket.
    init(connected fd: Int32) { self.fd = fd }

    init(socket path: FilePath) throws(IntermodalError) {
        // QEMU creates the socket before virDomainCreateXML returns; retry briefly all the same.
        for attempt in 0..<100 {
            let s = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { throw .system("cannot create a unix socket") }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.string.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
                Glibc.close(s)
                throw IntermodalError(.invalidArgument, "socket path \(path) is too long for a unix socket")
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if r == 0 { fd = s; return }
            let e = errno
            Glibc.close(s)
            if attempt == 99 { throw .system("cannot connect to the guest channel \(path)", errno: e) }
            usleep(10_000)
        }
    }

    /// Sends bytes to the guest (the init waits for any byte before powering off).
    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next complete frame, `.closed` at end of stream, or `.none` after the timeout.
    /// Also wakes on SIGINT/SIGTERM (the caller checks ``Interruption``).
    func next(timeoutMilliseconds: Int32) throws(IntermodalError) -> Event {
        while true {
            if let frame = takeFrame() { return frame }
            if eof { return .closed }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if Interruption.fileDescriptor >= 0 {
                fds.append(pollfd(fd: Interruption.fileDescriptor, events: Int16(POLLIN), revents: 0))
            }
            let r = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
            if r < 0 {
                if errno == EINTR { return .none }
                throw .system("poll on the guest channel failed")
            }
            if r == 0 { return .none }
            if fds.count > 1 && fds[1].revents != 0 { return .none }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                eof = true
            } else if n == 0 {
                eof = true
            } else {
                buffer += chunk[0..<n]
            }
        }
    }

    private func takeFrame() -> Event? {
        guard buffer.count >= 5 else { return nil }
        let len = Int(buffer[1]) | Int(buffer[2]) << 8 | Int(buffer[3]) << 16 | Int(buffer[4]) << 24
        guard buffer.count >= 5 + len else { return nil }
        let type = buffer[0]
        let payload = Array(buffer[5..<(5 + len)])
        buffer.removeFirst(5 + len)
        return .frame(type, payload)
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}
