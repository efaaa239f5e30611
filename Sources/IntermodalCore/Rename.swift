#if canImport(Glibc)
import Glibc
#endif
import CIntermodalOS
import SystemPackage

/// `renameat2(2)`'s exchange and no-replace renames, through the C shim (Glibc's Swift module does
/// not show the flags: they need `_GNU_SOURCE`).
public enum Rename {
    private static let noReplace: CUnsignedInt = 1 << 0
    private static let exchange: CUnsignedInt = 1 << 1

    /// Swaps two existing paths atomically (`RENAME_EXCHANGE`). False with `errno` set when either
    /// is missing (`ENOENT`) or the kernel or file system cannot (`EINVAL`, `ENOSYS`).
    public static func exchange(_ a: FilePath, _ b: FilePath) -> Bool {
        ios_renameat2(AT_FDCWD, a.string, AT_FDCWD, b.string, exchange) == 0
    }

    /// `rename` that fails with `EEXIST` instead of replacing what is at `to` (`RENAME_NOREPLACE`);
    /// a plain `rename` where that flag is unavailable.
    public static func withoutReplacing(_ from: FilePath, _ to: FilePath) -> Bool {
        if ios_renameat2(AT_FDCWD, from.string, AT_FDCWD, to.string, noReplace) == 0 { return true }
        guard errno == EINVAL || errno == ENOSYS else { return false }
        return rename(from.string, to.string) == 0
    }
}
