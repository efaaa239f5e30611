import CZlib
import SystemPackage

/// Extended attributes by path, without following a final symlink (overlayfs keeps its
/// metadata, like `trusted.overlay.opaque`, in them).
public enum ExtendedAttributes {
    /// The value of `name` on `path`, or nil when absent.
    public static func get(_ path: FilePath, _ name: String) -> [UInt8]? {
        let size = lgetxattr(path.string, name, nil, 0)
        guard size >= 0 else { return nil }
        var value = [UInt8](repeating: 0, count: size)
        let n = value.withUnsafeMutableBytes { lgetxattr(path.string, name, $0.baseAddress, size) }
        return n >= 0 ? Array(value.prefix(n)) : nil
    }

    /// Sets `name` on `path`; false (errno set) on failure.
    @discardableResult
    public static func set(_ path: FilePath, _ name: String, _ value: [UInt8]) -> Bool {
        value.withUnsafeBytes { lsetxattr(path.string, name, $0.baseAddress, $0.count, 0) } == 0
    }
}
