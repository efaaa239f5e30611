#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// The host end of the guest init's reports: frames (type byte, little-endian 32-bit length,
/// payload) from the virtio-serial port, whose unix socket QEMU listens on; and, as the fallback
/// for guests without that port, "@@intermodal:<type>:<hex>" lines in the serial console's log.
/// `@unchecked Sendable`: one task owns a channel and uses it from one thread at a time (the
/// dedicated thread of ``nextEvent(timeoutMilliseconds:)``, then the owner again).
final class GuestChannel: @unchecked Sendable {
    enum Event { case none, closed, frame(UInt8, [UInt8]) }

    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var eof = false
    private var console: FilePath?
    private var consoleOffset: Int64 = 0
    private var consoleLine: [UInt8] = []
    private var consoleFrames: [(UInt8, [UInt8])] = []

    /// Wraps a connected stream socket.
    init(connected fd: Int32, consoleLog: FilePath? = nil) {
        self.fd = fd
        self.console = consoleLog
    }

    /// Reads only the console log (no virtio-serial port); `.closed` never comes from it.
    init(consoleLog: FilePath) {
        self.console = consoleLog
    }

    /// Connects to QEMU's socket for the port, and also watches `consoleLog` for fallback frames.
    init(socket path: FilePath, consoleLog: FilePath? = nil) throws(IntermodalError) {
        console = consoleLog
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

    /// ``next(timeoutMilliseconds:)`` waited for on a dedicated thread, off the cooperative pool.
    func nextEvent(timeoutMilliseconds: Int32) async throws(IntermodalError) -> Event {
        try await DedicatedThread.run { () throws(IntermodalError) in try self.next(timeoutMilliseconds: timeoutMilliseconds) }
    }

    /// Connects to QEMU's socket for the port (retrying while QEMU creates it), off the pool.
    static func connected(socket path: FilePath, consoleLog: FilePath?) async throws(IntermodalError) -> GuestChannel {
        try await DedicatedThread.run { () throws(IntermodalError) in try GuestChannel(socket: path, consoleLog: consoleLog) }
    }

    /// The next complete frame, `.closed` at end of the socket stream, or `.none` after the
    /// timeout. Also wakes on SIGINT/SIGTERM (the caller checks ``Interruption``).
    func next(timeoutMilliseconds: Int32) throws(IntermodalError) -> Event {
        // The console log is a plain file (no poll): look at it every 50 ms while waiting.
        let slice: Int32 = console == nil ? timeoutMilliseconds : min(timeoutMilliseconds, 50)
        var waited: Int32 = 0
        while true {
            if let frame = takeFrame() { return frame }
            readConsole()
            if !consoleFrames.isEmpty {
                let (t, p) = consoleFrames.removeFirst()
                return .frame(t, p)
            }
            if eof { return .closed }
            if waited >= timeoutMilliseconds { return .none }
            var fds: [pollfd] = []
            if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            if Interruption.fileDescriptor >= 0 {
                fds.append(pollfd(fd: Interruption.fileDescriptor, events: Int16(POLLIN), revents: 0))
            }
            let r = poll(&fds, nfds_t(fds.count), slice)
            waited += slice
            if r < 0 {
                if errno == EINTR { return .none }
                throw .system("poll on the guest channel failed")
            }
            if r == 0 { continue }
            if fds.contains(where: { $0.fd == Interruption.fileDescriptor && $0.revents != 0 }) { return .none }
            guard fd >= 0, fds[0].revents != 0 else { continue }
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

    /// Appends what the console log gained since last time and decodes complete fallback lines.
    private func readConsole() {
        guard let console else { return }
        let f = open(console.string, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return }
        defer { Glibc.close(f) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(f, $0.baseAddress, $0.count, off_t(consoleOffset)) }
            guard n > 0 else { break }
            consoleOffset += Int64(n)
            for b in chunk[0..<n] {
                if b == UInt8(ascii: "\n") {
                    decodeConsoleLine()
                    consoleLine.removeAll(keepingCapacity: true)
                } else if b != UInt8(ascii: "\r") {
                    consoleLine.append(b)
                }
            }
        }
    }

    private func decodeConsoleLine() {
        let prefix = Array("@@intermodal:".utf8)
        guard consoleLine.count >= prefix.count + 2, Array(consoleLine.prefix(prefix.count)) == prefix,
              consoleLine[prefix.count + 1] == UInt8(ascii: ":") else { return }
        let type = consoleLine[prefix.count]
        let hex = consoleLine[(prefix.count + 2)...]
        guard hex.count % 2 == 0 else { return }
        var payload: [UInt8] = []
        payload.reserveCapacity(hex.count / 2)
        var high: UInt8?
        for c in hex {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: return   // a line broken by kernel output: not ours to guess at
            }
            if let h = high { payload.append(h << 4 | v); high = nil } else { high = v }
        }
        consoleFrames.append((type, payload))
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}
