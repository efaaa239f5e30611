#define _GNU_SOURCE
#include "CIntermodalOS.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

int ios_thread_private_mount_namespace(const char *hide) {
    if (unshare(CLONE_FS | CLONE_NEWNS) != 0) return -1;
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
    if (hide && hide[0] && umount2(hide, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -1;
    return open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
}

int ios_thread_enter_mount_namespace(int nsfd) {
    if (unshare(CLONE_FS) != 0) return -1;
    return setns(nsfd, CLONE_NEWNS);
}
