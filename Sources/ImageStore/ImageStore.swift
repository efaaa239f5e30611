import Foundation
import IntermodalCore
import Logging
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The local image store: an OCI image layout plus caches, under an Intermodal store root.
///
/// Layout of `root` (the store root, `IntermodalPaths.storeRoot()`):
/// - `images/` — a plain OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that
///   skopeo and umoci read directly (`oci:ROOT/images:NAME:TAG`). Each name is one `index.json`
///   entry whose `org.opencontainers.image.ref.name` is `repository:tag`.
/// - `layers/sha256/<diff-id>/` — unpacked layers, ready as overlayfs lower directories.
/// - `tmp/` — blobs and trees being written; only renamed into place once verified.
///
/// Safe for several processes at once: `index.json` is changed under an exclusive `flock`, blobs
/// appear by `rename` only after their digest checked out, and garbage collection never runs while
/// another process is between writing blobs and naming them.
public final class ImageStore: Sendable {
    /// The store root given at creation.
    public let root: FilePath
    /// The OCI image layout directory.
    public let layoutDirectory: FilePath
    let blobsDirectory: FilePath
    let layersDirectory: FilePath
    let temporaryDirectory: FilePath
    let indexLockPath: FilePath
    let ingestLockPath: FilePath
    let logger = IntermodalLog.logger("images")
    /// The most bytes one layer (or imported or loaded archive) may expand to; more is an error
    /// that leaves nothing behind.
    public let layerSizeLimit: Int64

    /// Opens the store at `root`, creating the OCI layout if it is missing.
    public init(root: FilePath, layerSizeLimit: Int64 = LayerSizeLimit.default) throws(IntermodalError) {
        self.root = root
        self.layerSizeLimit = layerSizeLimit
        layoutDirectory = root.appending("images")
        blobsDirectory = layoutDirectory.appending("blobs/sha256")
        layersDirectory = root.appending("layers/sha256")
        temporaryDirectory = root.appending("tmp")
        indexLockPath = root.appending("images.lock")
        ingestLockPath = root.appending("images.ingest.lock")
        for dir in [blobsDirectory, layersDirectory, temporaryDirectory] { try FileSystem.createDirectory(dir) }
        // A store that has its layout file but lost index.json is damaged, not new: an empty index
        // made here would silently drop every image (``readIndex()`` says so instead).
        let established = FileSystem.exists(layoutDirectory.appending("oci-layout"))
        if !established || FileSystem.exists(indexPath) {
            try OCILayout.initialize(layoutDirectory)
        }
    }

    /// The layout's `index.json`: every image name.
    var indexPath: FilePath { layoutDirectory.appending("index.json") }

    // MARK: Blobs

    /// Path of a blob in the layout.
    public func blobPath(_ digest: String) throws(IntermodalError) -> FilePath {
        guard Digest.isValid(digest) else { throw IntermodalError(.invalidArgument, "invalid digest '\(digest)'") }
        return blobsDirectory.appending(Digest.hex(digest))
    }

    /// True when the blob is stored.
    public func hasBlob(_ digest: String) -> Bool {
        guard let path = try? blobPath(digest) else { return false }
        return FileSystem.exists(path)
    }

    /// A small blob (manifest, config), checked against its digest.
    public func readBlob(_ digest: String) throws(IntermodalError) -> [UInt8] {
        let path = try blobPath(digest)
        guard FileSystem.exists(path) else { throw IntermodalError(.notFound, "blob \(digest) is not in the store") }
        let bytes = try FileSystem.readBytes(path)
        guard Digest.sha256(bytes) == digest else {
            throw IntermodalError(.corrupted, "blob \(digest) in \(blobsDirectory) does not match its digest")
        }
        return bytes
    }

    /// Stores `bytes` as a blob; returns its digest.
    @discardableResult
    public func writeBlob(_ bytes: [UInt8]) throws(IntermodalError) -> String {
        let digest = Digest.sha256(bytes)
        let path = try blobPath(digest)
        if FileSystem.exists(path) { return digest }
        let tmp = try temporaryFile("blob")
        do throws(IntermodalError) {
            try FileSystem.writeAtomically(bytes, to: tmp)
            try moveIntoPlace(tmp, path)
        } catch {
            unlink(tmp.string)
            throw error
        }
        return digest
    }

    /// Moves a finished file into the blob store after checking its digest (and size when given).
    /// The file is consumed either way; a mismatch is a `.corrupted` error naming `what`.
    @discardableResult
    public func ingestBlob(file: FilePath, expectedDigest: String?, expectedSize: Int64? = nil, what: String) throws(IntermodalError) -> (digest: String, size: Int64) {
        defer { unlink(file.string) }
        var st = stat()
        guard stat(file.string, &st) == 0 else { throw .system("cannot stat \(file)") }
        if let expectedSize, Int64(st.st_size) != expectedSize {
            throw IntermodalError(.corrupted, "\(what): size \(st.st_size) does not match the expected \(expectedSize) bytes")
        }
        let digest = try Digest.sha256(file: file)
        if let expectedDigest, digest != expectedDigest {
            throw IntermodalError(.corrupted, "\(what): digest mismatch (expected \(expectedDigest), got \(digest))")
        }
        let path = try blobPath(digest)
        if !FileSystem.exists(path) {
            _ = fsync_path(file)
            try moveIntoPlace(file, path)
        }
        return (digest, Int64(st.st_size))
    }

    func moveIntoPlace(_ from: FilePath, _ to: FilePath) throws(IntermodalError) {
        guard rename(from.string, to.string) == 0 else { throw .system("cannot move \(from) to \(to)") }
    }

    /// A fresh path under the store's temporary directory (same file system as the blobs).
    func temporaryFile(_ prefix: String) throws(IntermodalError) -> FilePath {
        var template = Array(temporaryDirectory.appending("\(prefix).XXXXXX").string.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .system("cannot create a temporary file in \(temporaryDirectory)") }
        close(fd)
        return FilePath(String(cString: template.withUnsafeBufferPointer { $0.baseAddress! }))
    }

    func temporaryDirectory(_ prefix: String) throws(IntermodalError) -> FilePath {
        try FileSystem.makeTemporaryDirectory(prefix: prefix, in: temporaryDirectory)
    }

    // MARK: index.json

    /// The layout's index.
    public func readIndex() throws(IntermodalError) -> ImageIndex {
        guard FileSystem.exists(indexPath) else {
            throw IntermodalError(
                .corrupted,
                "the image store \(root) is damaged: \(indexPath) is missing, so no image has a name "
                    + "('intermodal system check' lists what is left and how to repair it)")
        }
        return try OCILayout.readIndex(layoutDirectory)
    }

    /// Runs `body` with `index.json` locked against other processes, writing back what it returns.
    func updateIndex<R>(_ body: (inout ImageIndex) throws(IntermodalError) -> R) async throws(IntermodalError) -> R {
        try await FileLock(indexLockPath).withLock { () throws(IntermodalError) -> R in
            var index = try readIndex()
            let before = index
            let result = try body(&index)
            if index != before {
                try FileSystem.writeAtomically(try JSON.encode(index), to: layoutDirectory.appending("index.json"))
            }
            return result
        }
    }

    /// Holds a shared "ingest" lease while blobs are written and until they are named in the
    /// index, so that a concurrent garbage collection cannot remove them in between.
    ///
    /// The first lease taken while nobody else holds one also reclaims `tmp/`: whatever is there
    /// was left by a process killed mid-write (`kill -9`, a crash), since every live writer holds
    /// a lease.
    func withIngestLease<R>(_ body: () async throws(IntermodalError) -> R) async throws(IntermodalError) -> R {
        let lease = FileLock(ingestLockPath)
        if let exclusive = try lease.tryAcquire(.exclusive) {
            do { try reclaimTemporary() } catch { logger.warning("leftovers in \(temporaryDirectory) not all removed: \(error)") }
            exclusive.release()
        }
        return try await lease.withLock(.shared, body)
    }

    /// Removes everything under `tmp/`; only while holding the ingest lease exclusively.
    func reclaimTemporary() throws(IntermodalError) {
        var firstFailure: IntermodalError?
        for name in try FileSystem.list(temporaryDirectory) {
            logger.debug("reclaiming \(temporaryDirectory.appending(name)), left by an interrupted process")
            do throws(IntermodalError) { try FileSystem.removeTree(temporaryDirectory.appending(name)) } catch { firstFailure = firstFailure ?? error }
        }
        if let firstFailure { throw firstFailure }
    }
}

/// fsync of a file by path (blobs are made durable before they are renamed into place).
func fsync_path(_ path: FilePath) -> Int32 {
    let fd = open(path.string, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    return fsync(fd)
}

/// The files of an OCI image layout that are not blobs.
public enum OCILayout {
    /// Creates `oci-layout` and an empty `index.json` when missing.
    public static func initialize(_ directory: FilePath) throws(IntermodalError) {
        try FileSystem.createDirectory(directory.appending("blobs/sha256"))
        let layoutFile = directory.appending("oci-layout")
        if !FileSystem.exists(layoutFile) {
            try FileSystem.writeAtomically("{\"imageLayoutVersion\":\"1.0.0\"}", to: layoutFile)
        }
        let indexFile = directory.appending("index.json")
        if !FileSystem.exists(indexFile) {
            try FileSystem.writeAtomically(try JSON.encode(ImageIndex()), to: indexFile)
        }
    }

    /// Reads and checks a layout's `index.json`.
    public static func readIndex(_ directory: FilePath) throws(IntermodalError) -> ImageIndex {
        let layoutFile = directory.appending("oci-layout")
        guard FileSystem.exists(layoutFile) else {
            throw IntermodalError(.invalidArgument, "\(directory) is not an OCI image layout (no oci-layout file)")
        }
        let indexFile = directory.appending("index.json")
        let bytes = try FileSystem.readBytes(indexFile)
        return try JSON.decode(ImageIndex.self, from: bytes, what: indexFile.string)
    }
}
