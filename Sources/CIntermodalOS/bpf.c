#define _GNU_SOURCE
#include "CIntermodalOS.h"
#include <sys/syscall.h>
#include <unistd.h>

long ios_bpf(int command, void *attr, unsigned int size) { return syscall(SYS_bpf, command, attr, size); }
