import Foundation
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
    /// The token server's pid when the registry uses bearer tokens.
    var tokenServerPID: Int32?
    var host: String { "127.0.0.1:\(port)" }

    /// `user`: htpasswd basic auth; `tokenUser`: bearer tokens from a token server on loopback
    /// (a Python script signing JWTs with openssl; the registry verifies them with the certificate).
    init(user: (name: String, password: String)? = nil, tokenUser: (name: String, password: String)? = nil) async throws {
        Self.reclaimOrphans()
        directory = try FileSystem.makeTemporaryDirectory(prefix: Self.prefix)
        // Who owns the servers: a later run kills them if this test process dies without stop().
        try FileSystem.writeAtomically("\(getpid()) \(Self.startTime(of: getpid()) ?? "")\n", to: directory.appending("owner"))
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
        if let tokenUser {
            let tokenPort = try Self.freePort()
            try FileSystem.writeAtomically(Self.tokenServerScript, to: directory.appending("token_server.py"))
            let key = directory.appending("key.pem"), cert = directory.appending("cert.pem")
            try await HostCommand.check("openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.string, "-out", cert.string,
                "-days", "1", "-subj", "/CN=intermodal-token"])
            let out = try await HostCommand.check("/bin/sh", ["-c",
                "python3 \(directory.appending("token_server.py")) \(tokenPort) \(key) \(cert) \(tokenUser.name) \(tokenUser.password) >\(directory.appending("token.log")) 2>&1 & echo $!"])
            tokenServerPID = Int32(out.trimmed)
            // The token server must be the one listening on its port (not another test's server
            // that took the port first) before the registry sends clients there.
            guard let tokenPID = tokenServerPID, await Self.waitUntil(pid: tokenPID, listensOn: tokenPort) else {
                if let tokenServerPID { kill(tokenServerPID, SIGKILL) }
                try? FileSystem.removeTree(directory)
                throw IntermodalError(.timeout, "the token server did not listen on 127.0.0.1:\(tokenPort)")
            }
            auth = """
            auth:
              token:
                realm: http://127.0.0.1:\(tokenPort)/token
                service: intermodal-registry
                issuer: intermodal-test-issuer
                rootcertbundle: \(cert)

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
            // curl: the readiness probe stays independent of the client under test.
            let code = try? await HostCommand.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"])
            // Ours must be the process listening: a port picked beforehand can be taken by a
            // parallel test's server, which would answer this probe just as well.
            if let code, ["200", "401"].contains(code.standardOutput.trimmed), Self.listens(pid: pid, port: port) { return }
            if kill(pid, 0) != 0 { break }   // it exited (port taken): no use waiting
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw IntermodalError(.timeout, "docker-registry did not answer on \(host): \((try? FileSystem.readString(directory.appending("log"))) ?? "")")
    }

    static let prefix = "intermodal-registry"

    /// The start time of `pid` (field 22 of /proc/PID/stat), which tells a reused pid apart.
    static func startTime(of pid: Int32) -> String? {
        ProcessStat.read(pid).map { String($0.startTime) }
    }

    /// Servers of a test process that was killed (kill -9, a watchdog) outlive it, reparented to
    /// init: every registry directory whose owner is gone has its processes (those whose command
    /// line names the directory) killed, and is removed.
    static func reclaimOrphans() {
        let tmp = FilePath(getenvString("TMPDIR") ?? "/tmp")
        for name in (try? FileSystem.list(tmp)) ?? [] where name.hasPrefix(prefix + ".") {
            let dir = tmp.appending(name)
            let owner = ((try? FileSystem.readString(dir.appending("owner"))) ?? "").trimmed.split(separator: " ")
            if owner.count == 2, let pid = Int32(owner[0]), startTime(of: pid) == String(owner[1]) { continue }
            // No owner file yet may mean a registry being set up this instant: leave young ones.
            var st = stat()
            if owner.isEmpty, stat(dir.string, &st) == 0, time(nil) - st.st_mtim.tv_sec < 60 { continue }
            for entry in (try? FileSystem.list("/proc")) ?? [] {
                guard let pid = Int32(entry), let cmdline = try? FileSystem.readBytes(FilePath("/proc/\(entry)/cmdline")) else { continue }
                if String(decoding: cmdline.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(dir.string) { kill(pid, SIGKILL) }
            }
            try? FileSystem.removeTree(dir)
        }
    }

    /// True when process `pid` holds a TCP socket listening on `port` (its descriptors' socket
    /// inodes against the LISTEN entries of /proc/net/tcp).
    static func listens(pid: Int32, port: Int) -> Bool {
        guard let table = try? FileSystem.readString(FilePath("/proc/\(pid)/net/tcp")) else { return false }
        let hexPort = String(format: "%04X", port)
        var inodes: Set<String> = []
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // local_address is "0100007F:1F90"; st 0A is LISTEN; the inode is field 9.
            guard f.count > 9, f[1].hasSuffix(":" + hexPort), f[3] == "0A" else { continue }
            inodes.insert(String(f[9]))
        }
        guard !inodes.isEmpty, let fds = try? FileSystem.list(FilePath("/proc/\(pid)/fd")) else { return false }
        for fd in fds {
            var buffer = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/\(pid)/fd/\(fd)", &buffer, buffer.count - 1)
            guard n > 0 else { continue }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) { return true }
        }
        return false
    }

    /// Polls ``listens(pid:port:)`` for up to ten seconds; false as soon as the process is gone.
    static func waitUntil(pid: Int32, listensOn port: Int) async -> Bool {
        for _ in 0..<100 {
            if listens(pid: pid, port: port) { return true }
            if kill(pid, 0) != 0 { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func stop() {
        if let tokenServerPID { kill(tokenServerPID, SIGKILL) }
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

    static let tokenServerScript = #"""
# A minimal Docker token server for tests: checks basic credentials, issues an RS256 JWT
# (signed with openssl) whose x5c header carries the certificate the registry trusts.
import base64, json, subprocess, sys, time, os
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs

port, key, cert, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        auth = self.headers.get("Authorization", "")
        ok = auth == "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if not ok:
            self.send_response(401); self.end_headers(); return
        access = []
        for scope in q.get("scope", []):
            for s in scope.split(" "):
                parts = s.split(":")
                if len(parts) >= 3:
                    access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "intermodal-test-issuer", "sub": user, "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input, capture_output=True, check=True).stdout
        token = signing_input.decode() + "." + b64(sig)
        body = json.dumps({"token": token, "access_token": token}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)

HTTPServer(("127.0.0.1", port), H).serve_forever()
"""#

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
