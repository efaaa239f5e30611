import Foundation
import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP proxy on a free loopback port (a Python script, as LoopbackRegistry runs
/// docker-registry): CONNECT tunnels and absolute-URI forwarding, optional basic
/// Proxy-Authorization, one log line per proxied request. `stop()` kills it and removes its directory.
final class LoopbackProxy {
    let directory: FilePath
    let port: Int
    let pid: Int32
    var address: String { "127.0.0.1:\(port)" }

    /// `credentials` (`user:password`): requests without them get 407.
    ///
    /// The script binds port 0 and writes the port the kernel gave it to a file: a port picked
    /// beforehand could be taken by a server of a test running in parallel before the script binds
    /// it, and a readiness probe would then find that other server and pass.
    init(credentials: String? = nil) async throws {
        directory = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-proxy")
        let portFile = directory.appending("port")
        try FileSystem.writeAtomically(Self.script, to: directory.appending("proxy.py"))
        try FileSystem.writeAtomically("", to: directory.appending("requests.log"))
        let auth = credentials.map { " '\($0)'" } ?? ""
        let out = try await HostCommand.check("/bin/sh", ["-c",
            "python3 \(directory.appending("proxy.py")) \(portFile) \(directory.appending("requests.log"))\(auth) >\(directory.appending("stderr")) 2>&1 & echo $!"])
        guard let pid = Int32(out.trimmed) else {
            try? FileSystem.removeTree(directory)
            throw IntermodalError(.externalFailure, "could not start the test proxy")
        }
        self.pid = pid
        var bound: Int?
        for _ in 0..<100 {
            if let text = try? FileSystem.readString(portFile), let p = Int(text.trimmed) { bound = p; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        port = bound ?? 0
        guard bound != nil else {
            stop()
            throw IntermodalError(.timeout, "the test proxy did not start (no port in \(portFile))")
        }
    }

    /// The proxied requests so far, as "METHOD target STATUS" (direct, non-proxy requests left out).
    var requests: [String] {
        ((try? FileSystem.readString(directory.appending("requests.log"))) ?? "")
            .split(separator: "\n").map(String.init).filter { $0 != "GET / 400" }
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid || kill(pid, 0) != 0 { break }
            usleep(20_000)
        }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        _ = waitpid(pid, &status, WNOHANG)
        try? FileSystem.removeTree(directory)
    }

    static let script = #"""
# A minimal HTTP proxy for tests: CONNECT tunnels and absolute-URI forwarding, optional
# basic Proxy-Authorization; logs one line per proxied request ("METHOD target STATUS").
import base64, http.client, select, socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import os
port_path, log_path = sys.argv[1], sys.argv[2]
expected = "Basic " + base64.b64encode(sys.argv[3].encode()).decode() if len(sys.argv) > 3 else None
lock = threading.Lock()

def record(line):
    with lock, open(log_path, "a") as f:
        f.write(line + "\n")

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def refuse(self, target, code, extra=()):
        record(f"{self.command} {target} {code}")
        self.send_response(code)
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", "0"); self.send_header("Connection", "close"); self.end_headers()
        self.close_connection = True

    def authorized(self, target):
        if expected is None or self.headers.get("Proxy-Authorization") == expected: return True
        self.refuse(target, 407, [("Proxy-Authenticate", 'Basic realm="test"')])
        return False

    def do_CONNECT(self):
        if not self.authorized(self.path): return
        host, _, p = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(p)), timeout=10)
        except OSError:
            self.refuse(self.path, 502); return
        record(f"CONNECT {self.path} 200")
        self.send_response(200, "Connection established"); self.end_headers(); self.wfile.flush()
        client = self.connection
        upstream.settimeout(None)
        try:
            while True:
                ready, _, _ = select.select([client, upstream], [], [], 60)
                if not ready: break
                done = False
                for s in ready:
                    data = s.recv(65536)
                    if not data: done = True; break
                    (upstream if s is client else client).sendall(data)
                if done: break
        except OSError:
            pass
        upstream.close()
        self.close_connection = True

    def forward(self):
        if not self.path.startswith("http://"):
            self.refuse(self.path, 400); return
        if not self.authorized(self.path): return
        u = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-authorization", "proxy-connection", "connection", "keep-alive")}
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        conn.request(self.command, (u.path or "/") + ("?" + u.query if u.query else ""), body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        record(f"{self.command} {self.path} {r.status}")
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.send_header("Connection", "close"); self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
        self.close_connection = True
        conn.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(port_path + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_path + ".tmp", port_path)
server.serve_forever()
"""#
}
