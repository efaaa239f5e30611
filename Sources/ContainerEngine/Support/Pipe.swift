#if canImport(Glibc)
import Glibc
#endif

/// `pipe2(O_CLOEXEC)` (Glibc's module map hides `pipe2`): both ends close on exec, so no other
/// program this process starts inherits them.
func makePipe(_ fds: inout [CInt]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return true
}
