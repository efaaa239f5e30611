import Crypto
import ImageStore
import IntermodalCore
import SystemPackage

/// The layer cache of `build`: which image a step made from a given parent.
///
/// A key is the parent image ID, the instruction as expanded, and whatever else changes the step's
/// result (the content of copied files, the build arguments a `RUN` sees). Entries point at image
/// IDs in the store; an entry whose image is gone is a miss. Each entry is written atomically and
/// only after its image is stored, so an interrupted build never leaves a wrong entry.
struct BuildCache: Sendable {
    let directory: FilePath
    let store: ImageStore

    init(storeRoot: FilePath, store: ImageStore) throws(IntermodalError) {
        directory = storeRoot.appending("build-cache")
        self.store = store
        try FileSystem.createDirectory(directory, mode: 0o700)
    }

    static func key(parent: Image?, parts: [String]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array((parent?.configDigest ?? "scratch").utf8))
        for part in parts { hasher.update(data: Array("\0\(part)".utf8)) }
        return Hex.lowercase(hasher.finalize())
    }

    func lookup(_ key: String) -> Image? {
        let file = directory.appending(key)
        guard FileSystem.exists(file), let id = try? FileSystem.readString(file).trimmed, !id.isEmpty,
              let image = try? store.resolve(id), image.configDigest == id else { return nil }
        return image
    }

    func record(_ key: String, image: Image) throws(IntermodalError) {
        try FileSystem.writeAtomically(image.configDigest + "\n", to: directory.appending(key))
    }
}
