import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Debian's docker-registry (distribution 2.8) started on a free loopback port with its storage
/// in a temporary directory; `stop()` kills it. Optionally with htpasswd basic auth.
final class LoopbackRegistry {
    let directory: FilePath
    let port: Int
    let pid: Int32
    var host: String { "127.0.0.1:\(port)" }

    init(user: (name: String, password: String)? = nil) async throws {
        directory = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-registry")
        port = try Self.freePort()
        var auth = ""
        if let user {
            let hash = try await HostCommand.check("python3", ["-W", "ignore", "-c",
                "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))", user.password])
            try FileSystem.writeAtomically("\(user.name):\(hash.trimmed)\n", to: directory.appending("htpasswd"))
            auth = """
            auth:
              htpasswd:
                realm: intermodal-test
                path: \(directory.appending("htpasswd"))

            """
        }
        let config = """
        version: 0.1
        log:
          level: error
        storage:
          filesystem:
            rootdirectory: \(directory.appending("data"))
          delete:
            enabled: true
        \(auth)http:
          addr: 127.0.0.1:\(port)
        """
        try FileSystem.writeAtomically(config, to: directory.appending("config.yml"))
        let out = try await HostCommand.check("/bin/sh", ["-c",
            "docker-registry serve \(directory.appending("config.yml")) >\(directory.appending("log")) 2>&1 & echo $!"])
        guard let pid = Int32(out.trimmed) else { throw IntermodalError(.externalFailure, "could not start docker-registry") }
        self.pid = pid
        // Wait until it answers (200, or 401 with auth).
        for _ in 0..<100 {
            // curl, not URLSession: corelibs' URLSession without a delegate hangs on a 401 Basic challenge.
            let code = try? await HostCommand.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"])
            if let code, ["200", "401"].contains(code.standardOutput.trimmed) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw IntermodalError(.timeout, "docker-registry did not answer on \(host): \((try? FileSystem.readString(directory.appending("log"))) ?? "")")
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 {
            if kill(pid, 0) != 0 { break }
            usleep(20_000)
        }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        _ = waitpid(pid, &status, WNOHANG)
        try? FileSystem.removeTree(directory)
    }

    /// A TCP port nobody listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IntermodalError.system("socket") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 ? getsockname(fd, p, &len) : -1
            }
        }
        guard rc == 0 else { throw IntermodalError.system("bind") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
