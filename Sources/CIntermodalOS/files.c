#define _GNU_SOURCE
#include "CIntermodalOS.h"
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

int ios_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

int ios_is_cgroup2(const char *path) {
    struct statfs st;
    if (statfs(path, &st) != 0) return -1;
    return st.f_type == 0x63677270 ? 1 : 0;
}
