import Foundation
import ImageStore
import IntermodalCore
import SystemPackage

/// A temporary store root removed when the test ends.
final class TemporaryStore {
    let root: FilePath
    let store: ImageStore

    /// `base`: where the temporary root goes (default `$TMPDIR` or `/tmp`).
    init(in base: FilePath? = nil) throws {
        root = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-images-test", in: base)
        store = try ImageStore(root: root.appending("store"))
    }

    deinit { try? FileSystem.removeTree(root) }

    /// A scratch directory inside the temporary root.
    func directory(_ name: String) throws -> FilePath {
        let path = root.appending(name)
        try FileSystem.createDirectory(path)
        return path
    }
}

func write(_ text: String, to path: FilePath) throws {
    try FileSystem.createDirectory(path.removingLastComponent())
    try FileSystem.writeAtomically(text, to: path)
}

func read(_ path: FilePath) throws -> String { try FileSystem.readString(path) }

func lstatMode(_ path: FilePath) -> mode_t? {
    var st = stat()
    return lstat(path.string, &st) == 0 ? st.st_mode : nil
}

/// Runs a host program and returns its output, failing the test on a non-zero exit.
@discardableResult
func sh(_ command: String) async throws -> String {
    try await HostCommand.check("/bin/sh", ["-c", command])
}
