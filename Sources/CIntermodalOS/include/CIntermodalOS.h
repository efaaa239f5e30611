#ifndef CINTERMODALOS_H
#define CINTERMODALOS_H
// CIntermodalOS: the system calls IntermodalCore needs that Glibc's Swift module does not show
// (they need _GNU_SOURCE, or have no glibc wrapper, or are variadic). One file a concern; only
// IntermodalCore imports this module, and wraps each call in Swift for the modules above it.

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// pidfd.c
/// pidfd_open(2) and pidfd_send_signal(2); -errno on failure.
int ios_pidfd_open(pid_t pid);
int ios_pidfd_send_signal(int pidfd, int sig);
/// Waits up to timeout_ms for a pidfd to become readable (process exited). 1 exited, 0 timeout, -errno.
int ios_pidfd_wait(int pidfd, int timeout_ms);

// pipe.c
/// pipe2(fds, O_CLOEXEC); 0 or -1 with errno.
int ios_pipe_cloexec(int fds[2]);

// files.c
/// renameat2(2) with its flags (RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2); 0 or -1 with errno
/// (ENOSYS, EINVAL when the kernel or file system cannot).
int ios_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
/// 1 when `path` is a cgroup2 file system, 0 when not, -1 on error.
int ios_is_cgroup2(const char *path);

// bpf.c
/// bpf(2) (glibc has no wrapper and Swift cannot call the variadic syscall()); -1 with errno.
/// Works in a fully static executable, unlike looking up syscall() with dlsym.
long ios_bpf(int command, void *attr, unsigned int size);

// mountns.c
/// For the calling thread only: a private copy of its mount namespace (mounts made private)
/// with `hide` unmounted, returned as an open namespace descriptor; -1 with errno. The thread
/// must not need its old view afterwards (it ends, or enters another namespace).
int ios_thread_private_mount_namespace(const char *hide);
/// For the calling thread only: enters the mount namespace `nsfd` (its own file-system context
/// first, as setns requires); what it spawns starts there. 0 or -1 with errno.
int ios_thread_enter_mount_namespace(int nsfd);

#ifdef __cplusplus
}
#endif
#endif
