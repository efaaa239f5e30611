#if canImport(Glibc)
import Glibc
#endif
import CIntermodalOS

/// `pipe2(O_CLOEXEC)` (Glibc's module map hides `pipe2`): both ends close on exec, so no other
/// program this process starts inherits them.
/// Atomically: a `pipe` then `fcntl` would let a program another thread starts in between keep
/// an end open (and a reader here wait for its EOF until that program ends).
public func makePipe(_ fds: inout [CInt]) -> Bool {
    ios_pipe_cloexec(&fds) == 0
}
