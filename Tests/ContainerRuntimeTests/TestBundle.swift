#if canImport(Glibc)
import Glibc
#endif
import ContainerRuntime
import IntermodalCore
import SystemPackage

/// A temporary bundle with a busybox rootfs and a state root of its own; removed by `cleanup`.
struct TestBundle {
    let directory: FilePath
    var bundle: FilePath { directory.appending("bundle") }
    var rootfs: FilePath { bundle.appending("rootfs") }
    var stateRoot: FilePath { directory.appending("state") }
    var runtime: Runtime { Runtime(stateRoot: stateRoot) }

    static func make(_ args: [String], configure: (inout Spec) -> Void = { _ in }) async throws -> TestBundle {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-rt")
        chmod(dir.string, 0o755)   // a user namespace's root must be able to reach the rootfs
        let b = TestBundle(directory: dir)
        do {
            try FileSystem.createDirectory(b.bundle)
            try await BusyboxRootfs.populate(at: b.rootfs)
            var spec = Spec.default(args: args)
            configure(&spec)
            try spec.write(bundle: b.bundle)
        } catch {
            b.cleanup()
            throw error
        }
        return b
    }

    func writeSpec(_ spec: Spec) throws { try spec.write(bundle: bundle) }

    /// Force-deletes any container left under the state root, then removes everything.
    func cleanup() {
        let rt = runtime
        for s in (try? rt.list()) ?? [] { try? rt.deleteSync(id: s.id, force: true) }
        try? FileSystem.removeTree(directory)
    }

    /// A pipe whose write end goes to the container's stdout/stderr; returns everything written.
    static func capture(_ body: (ProcessIO) async throws -> Void) async throws -> String {
        // Close-on-exec from the start: tests run in parallel and spawn processes concurrently.
        let (r, w) = try ProcessIO.pipe()
        let readEnd = r.rawValue, writeEnd = w.rawValue
        defer { close(readEnd) }
        do {
            try await body(.fileDescriptors(stdin: nil, stdout: FileDescriptor(rawValue: writeEnd), stderr: FileDescriptor(rawValue: writeEnd)))
        } catch {
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static var uniqueID: String { "intermodal-t\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }
}
