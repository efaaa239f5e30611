#define _GNU_SOURCE
#include "CIntermodalOS.h"
#include <fcntl.h>
#include <unistd.h>

int ios_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
