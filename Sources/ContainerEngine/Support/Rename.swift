#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// `renameat2(2)` flags, which Glibc's module map does not show (they need `_GNU_SOURCE`).
enum Rename {
    private typealias RenameAt2 = @convention(c) (CInt, UnsafePointer<CChar>, CInt, UnsafePointer<CChar>, CUnsignedInt) -> CInt
    private static let noReplace: CUnsignedInt = 1 << 0
    private static let exchange: CUnsignedInt = 1 << 1

    /// glibc's `renameat2` (2.28+), looked up once; nil on an older C library.
    private static let renameat2: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// Swaps two existing paths atomically (`RENAME_EXCHANGE`). False with `errno` set when either
    /// is missing (`ENOENT`) or the kernel or file system cannot (`EINVAL`, `ENOSYS`).
    static func exchange(_ a: FilePath, _ b: FilePath) -> Bool {
        guard let renameat2 else {
            errno = ENOSYS
            return false
        }
        return renameat2(AT_FDCWD, a.string, AT_FDCWD, b.string, exchange) == 0
    }

    /// `rename` that fails with `EEXIST` instead of replacing what is at `to` (`RENAME_NOREPLACE`);
    /// a plain `rename` where that flag is unavailable.
    static func withoutReplacing(_ from: FilePath, _ to: FilePath) -> Bool {
        if let renameat2 {
            if renameat2(AT_FDCWD, from.string, AT_FDCWD, to.string, noReplace) == 0 { return true }
            guard errno == EINVAL || errno == ENOSYS else { return false }
        }
        return rename(from.string, to.string) == 0
    }
}
