#define _GNU_SOURCE
#include "CIntermodalOS.h"
#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

int ios_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int ios_pidfd_send_signal(int pidfd, int sig) {
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int ios_pidfd_wait(int pidfd, int timeout_ms) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int r;
    do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    return r > 0 ? 1 : 0;
}
