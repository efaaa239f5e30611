import FoundationEssentials
import ImageStore
import IntermodalCore
import SystemPackage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What docker-registry never does on loopback but real registries and networks do: redirect a
/// blob to another host (object storage), and break a download off half-way.
@Suite("Registry client against redirects and broken downloads")
struct RegistryFaultTests {
    @Test func redirectsDropTheTokenAndABrokenDownloadLeavesNothingBehind() async throws {
        let t = try TemporaryStore()
        let server = try await FlakyRegistry(in: t.root)
        defer { server.stop() }
        let store = t.store
        let client = RegistryClient(
            registry: "127.0.0.1:\(server.port)", insecure: true,
            credentials: .init(username: "intermodal", password: "s3cret"))
        let failure = await #expect(throws: IntermodalError.self) {
            _ = try await client.pull(.parse("127.0.0.1:\(server.port)/flaky/bb:v1"), into: store)
        }
        try await client.shutdown()
        // The config came through a redirect to another origin, which refuses requests that carry
        // the registry's Authorization header (as object storage does): it was not sent there.
        #expect(store.hasBlob(server.configDigest), "config blob fetched through the redirect")
        #expect(try FileSystem.readString(FilePath(server.directory).appending("storage-auth")).trimmed == "none")
        // The layer broke off half-way: a clear error, no blob, no half file, no image.
        #expect(failure?.code == .externalFailure, "\(failure?.description ?? "")")
        #expect(!store.hasBlob(server.layerDigest))
        #expect(try FileSystem.list(store.root.appending("tmp")).isEmpty, "the partial download was removed")
        #expect(throws: IntermodalError.self) { _ = try store.resolve("flaky/bb:v1") }
        #expect(try store.verify().isEmpty)
    }
}

/// A registry on loopback (Python) that needs basic auth, redirects the config blob to
/// `localhost` (another origin than `127.0.0.1`) and cuts the layer's body off half-way.
final class FlakyRegistry {
    let directory: String
    let port: Int
    let pid: Int32
    let configDigest: String
    let layerDigest: String

    init(in root: FilePath) async throws {
        let dir = root.appending("flaky")
        try FileSystem.createDirectory(dir)
        directory = dir.string
        port = try LoopbackRegistry.freePort()
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let layer = [UInt8](repeating: 7, count: 200_000)
        configDigest = Digest.sha256(config)
        layerDigest = Digest.sha256(layer)
        try FileSystem.writeAtomically(config, to: dir.appending("config"))
        try FileSystem.writeAtomically(layer, to: dir.appending("layer"))
        let manifest = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(configDigest)","size":\(config.count)},\
        "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(layerDigest)","size":\(layer.count)}]}
        """
        try FileSystem.writeAtomically(manifest, to: dir.appending("manifest"))
        try FileSystem.writeAtomically(Self.script, to: dir.appending("server.py"))
        let out = try await HostCommand.check("/bin/sh", ["-c",
            "python3 \(dir)/server.py \(port) \(dir) \(configDigest) \(layerDigest) >\(dir)/log 2>&1 & echo $!"])
        guard let pid = Int32(out.trimmed) else { throw IntermodalError(.externalFailure, "could not start the flaky registry") }
        self.pid = pid
        for _ in 0..<100 {
            let code = try? await HostCommand.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v2/"])
            if code?.standardOutput.trimmed == "401" { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw IntermodalError(.timeout, "the flaky registry did not answer")
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    static let script = #"""
import base64, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, d, config, layer = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
basic = "Basic " + base64.b64encode(b"intermodal:s3cret").decode()
def body(name): return open(f"{d}/{name}", "rb").read()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, data=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        auth = self.headers.get("Authorization")
        if self.path.startswith("/storage/"):
            # Object storage: a request carrying the registry's credentials is refused.
            open(f"{d}/storage-auth", "w").write("none" if auth is None else auth)
            return self.send(400 if auth else 200, b"" if auth else body("config"))
        if auth != basic:
            return self.send(401, b"{}", [("WWW-Authenticate", 'Basic realm="flaky"')])
        if self.path == "/v2/flaky/bb/manifests/v1":
            return self.send(200, body("manifest"), [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        if self.path == f"/v2/flaky/bb/blobs/{config}":
            return self.send(307, b"", [("Location", f"http://localhost:{port}/storage/{config}")])
        if self.path == f"/v2/flaky/bb/blobs/{layer}":
            data = body("layer")
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data[: len(data) // 2]); self.wfile.flush()
            self.close_connection = True
            return
        self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"""#
}
