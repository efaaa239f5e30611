// intermodal-monitor: what stays on the host for each detached container (`intermodal run -d`),
// in the style of podman's conmon and as small: static, -Os, no heap, one 16 KiB buffer.
//
// The Swift monitor (`intermodal container-monitor`) creates and starts the container, reports to
// `run -d`, and then execve()s this program in place. The process keeps its PID (the record's
// ownerPID), its child (the container's init) and the descriptors passed here, and drops the
// Swift runtime's ~6 MB of private memory. It then
//   1. copies the container's output (one pipe for stdout and stderr, so their order is kept)
//      to the log, noting when the first byte came (the `firstOutput` phase);
//   2. reaps the container's init, noting when it exited (the `exit` phase) and how;
//   3. execve()s COMMAND (the engine's finish step: unmount, runtime delete, network, record,
//      `--rm`) with the outcome appended, again in place, so the record's owner never changes:
//        --exit-code N [--signal S] --exited-at NS [--first-output NS]
//      (NS: CLOCK_MONOTONIC nanoseconds, the clock of PhaseTimestamps).
//
// usage: intermodal-monitor PID OUTPUT_FD LOG_FD -- COMMAND [ARG...]
//
// If this process is killed, nobody waits for the container any more: the engine's next look at
// the record (ps, stop, rm, inspect) finds its owner gone, kills the container and releases
// everything it held (Engine.reconcile).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXTRA_ARGS 9
/// After the container's init exited, output still in flight is copied until end of file or
/// this long without any (a process outside the container's PID namespace may hold the pipe).
#define DRAIN_IDLE_MS 2000

static char buffer[16384];

// SwiftPM links every executable through the Swift driver, which adds swiftrt.o (and, for
// -static-executable, libswiftCore.a). As in GuestInit: defining swiftrt.o's only two outside
// needs here keeps the Swift runtime (5 MB of text, 1.7 MB resident) out of this program.
void swift_addNewDSOImage(const void *image) { (void)image; }
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }

static void fail(const char *what) {
    // Standard error is the container's monitor.log.
    dprintf(2, "intermodal-monitor: %s: %s\n", what, strerror(errno));
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_int(const char *s, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != 0) return -1;
    *out = v;
    return 0;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;  // a full disk loses output, as a file the container wrote itself would
        }
        p += w;
        n -= (size_t)w;
    }
}

/// Closes every descriptor from 3 up except `keep_a` and `keep_b` (nothing of the Swift process
/// that started us may stay open for the container's lifetime, above all not a report pipe).
static void close_others(int keep_a, int keep_b) {
    int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;
    if (lo > 3) syscall(SYS_close_range, 3u, (unsigned)lo - 1, 0u);
    if (hi > lo + 1) syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u);
    syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
}

int main(int argc, char **argv) {
    long pid, out, log;
    if (argc < 6 || parse_int(argv[1], &pid) || parse_int(argv[2], &out) || parse_int(argv[3], &log) ||
        strcmp(argv[4], "--") != 0 || pid <= 0 || out < 3 || log < 3 || out == log) {
        dprintf(2, "usage: intermodal-monitor PID OUTPUT_FD LOG_FD -- COMMAND [ARG...]\n");
        return 125;
    }
    // The Swift process may have blocked signals on the thread that called execve, and ignored
    // SIGPIPE; the finish step must start with a clean mask. SIGHUP: no terminal is ours.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    close_others((int)out, (int)log);
    fcntl((int)out, F_SETFD, FD_CLOEXEC);
    fcntl((int)log, F_SETFD, FD_CLOEXEC);

    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pidfd < 0) fail("pidfd_open");  // then the init is reaped (blocking) after end of file
    int status = 0, exited = 0;
    uint64_t exited_at = 0, first_output = 0;
    struct pollfd fds[2] = {{(int)out, POLLIN, 0}, {pidfd, POLLIN, 0}};
    while (fds[0].fd >= 0 || (!exited && pidfd >= 0)) {
        int n = poll(fds, 2, exited ? DRAIN_IDLE_MS : -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("poll");
            break;
        }
        if (n == 0) break;  // exited, and the output has been quiet for DRAIN_IDLE_MS
        if (fds[0].fd >= 0 && fds[0].revents) {
            ssize_t got = read(fds[0].fd, buffer, sizeof buffer);
            if (got > 0) {
                if (first_output == 0) first_output = monotonic_ns();
                write_all((int)log, buffer, (size_t)got);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(fds[0].fd);
                fds[0].fd = -1;
            }
        }
        if (fds[1].fd >= 0 && fds[1].revents) {
            pid_t r = waitpid((pid_t)pid, &status, __WALL | WNOHANG);
            if (r == (pid_t)pid || (r < 0 && errno != EINTR)) {
                if (r < 0) { fail("waitpid"); status = 255 << 8; }
                exited = 1;
                exited_at = monotonic_ns();
                close(pidfd);
                fds[1].fd = -1;
            }
        }
    }
    if (fds[0].fd >= 0) close(fds[0].fd);
    if (!exited) {
        pid_t r;
        do r = waitpid((pid_t)pid, &status, __WALL); while (r < 0 && errno == EINTR);
        if (r < 0) { fail("waitpid"); status = 255 << 8; }
        exited_at = monotonic_ns();
    }
    close((int)log);

    static char code_text[16], signal_text[16], exited_text[24], first_text[24];
    int code, sig = 0;
    if (WIFEXITED(status)) {
        code = WEXITSTATUS(status);
    } else {
        sig = WTERMSIG(status);
        code = 128 + sig;
    }
    snprintf(code_text, sizeof code_text, "%d", code);
    snprintf(signal_text, sizeof signal_text, "%d", sig);
    snprintf(exited_text, sizeof exited_text, "%llu", (unsigned long long)exited_at);
    snprintf(first_text, sizeof first_text, "%llu", (unsigned long long)first_output);

    int given = argc - 5;
    char *args[given + EXTRA_ARGS + 1];
    int i = 0;
    for (int k = 0; k < given; k++) args[i++] = argv[5 + k];
    args[i++] = "--exit-code";
    args[i++] = code_text;
    if (sig) {
        args[i++] = "--signal";
        args[i++] = signal_text;
    }
    args[i++] = "--exited-at";
    args[i++] = exited_text;
    if (first_output) {
        args[i++] = "--first-output";
        args[i++] = first_text;
    }
    args[i] = NULL;
    execv(args[0], args);
    fail(args[0]);
    return 125;
}
