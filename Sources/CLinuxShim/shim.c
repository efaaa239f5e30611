// The container's init between clone(2) and execve(2). See CLinuxShim.h for the contract.
//
// Everything in the child runs on a copy of one thread of a possibly multi-threaded parent, so it
// uses only system calls, the stack and static buffers: no malloc, no stdio, no locale.
#define _GNU_SOURCE
#include "CLinuxShim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

// MARK: - credentials without glibc's set*id broadcast
//
// glibc's setresuid/setresgid/setgroups wrappers run __nptl_setxid in a process it believes is
// multi-threaded: they signal every thread of the parent (copied into our raw clone, where those
// threads do not exist) and wait on a futex for each to acknowledge. The child then hangs forever
// when the parent had a thread starting or exiting at clone time (seen as a 30 s `start` timeout
// with the child in setxid_mark_thread). The raw system calls change only this process, which is
// all we want: the container process has a single thread.
static int raw_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
static int raw_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }
static int raw_setgroups(size_t n, const gid_t *list) { return (int)syscall(SYS_setgroups, n, list); }

// MARK: - tiny string building (no snprintf in the child)

struct sbuf { char *p; size_t n, cap; };

static void sb_init(struct sbuf *b, char *mem, size_t cap) { b->p = mem; b->n = 0; b->cap = cap; mem[0] = 0; }
static void sb_add(struct sbuf *b, const char *s) {
    if (!s) s = "(null)";
    while (*s && b->n + 1 < b->cap) b->p[b->n++] = *s++;
    b->p[b->n] = 0;
}
static void sb_num(struct sbuf *b, long long v) {
    char tmp[24]; int i = 0; unsigned long long u = v < 0 ? (unsigned long long)(-v) : (unsigned long long)v;
    do { tmp[i++] = (char)('0' + u % 10); u /= 10; } while (u && i < 22);
    if (v < 0) tmp[i++] = '-';
    while (i > 0 && b->n + 1 < b->cap) b->p[b->n++] = tmp[--i];
    b->p[b->n] = 0;
}

// MARK: - messages

int ims_send(int fd, const struct ims_msg *m, const void *payload, size_t payload_len) {
    struct iovec iov[2] = {{(void *)m, sizeof *m}, {(void *)payload, payload_len}};
    struct msghdr h = {0};
    h.msg_iov = iov;
    h.msg_iovlen = payload_len ? 2 : 1;
    for (;;) {
        ssize_t n = sendmsg(fd, &h, MSG_NOSIGNAL);
        if (n >= 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

static int send_fd(int fd, const struct ims_msg *m, int passed, const char *payload) {
    char ctrl[CMSG_SPACE(sizeof(int))];
    memset(ctrl, 0, sizeof ctrl);
    size_t plen = payload ? strlen(payload) : 0;
    struct iovec iov[2] = {{(void *)m, sizeof *m}, {(void *)payload, plen}};
    struct msghdr h = {0};
    h.msg_iov = iov;
    h.msg_iovlen = plen ? 2 : 1;
    h.msg_control = ctrl;
    h.msg_controllen = sizeof ctrl;
    struct cmsghdr *c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passed, sizeof(int));
    for (;;) {
        if (sendmsg(fd, &h, MSG_NOSIGNAL) >= 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

ssize_t ims_recv(int fd, struct ims_msg *m, void *payload, size_t payload_cap, int *received_fd) {
    char ctrl[CMSG_SPACE(sizeof(int))];
    struct iovec iov[2] = {{m, sizeof *m}, {payload, payload_cap}};
    struct msghdr h = {0};
    h.msg_iov = iov;
    h.msg_iovlen = payload && payload_cap ? 2 : 1;
    h.msg_control = ctrl;
    h.msg_controllen = sizeof ctrl;
    if (received_fd) *received_fd = -1;
    ssize_t n;
    do { n = recvmsg(fd, &h, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (received_fd) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(received_fd, CMSG_DATA(c), sizeof(int));
        }
    }
    return n;
}

// MARK: - child state

// Step timestamps (CLOCK_MONOTONIC), sent with READY when cfg->timing is set.
static const char *g_mark_name[48];
static long long g_mark_ns[48];
static int g_marks;
static int g_timing;
static void mark(const char *name) {
    if (!g_timing || g_marks >= 48) return;
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    g_mark_name[g_marks] = name;
    g_mark_ns[g_marks++] = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int g_sync = -1;
static int g_statefd = -1;   // after READY, failures go to `start` through the exec fifo
static char g_state[65536];        // state JSON for hooks run by the child: "creating\0created"
static size_t g_state_len;
static const char *g_state_created = "";

/// Reports a failed step to the parent and exits. `err` is the errno (0: detail says all).
__attribute__((noreturn)) static void fail(int err, const char *detail, int notfound) {
    struct ims_msg m;
    memset(&m, 0, sizeof m);
    m.type = IMS_MSG_ERROR;
    m.err = err;
    m.notfound = notfound;
    struct sbuf b; sb_init(&b, m.detail, sizeof m.detail); sb_add(&b, detail);
    if (g_sync >= 0) {
        ims_send(g_sync, &m, NULL, 0);
    } else if (g_statefd >= 0) {
        // `create` has returned: tell `start`, which opens the fifo, as "E<errno> <detail>".
        int fifo;
        do { fifo = openat(g_statefd, "exec.fifo", O_WRONLY | O_CLOEXEC); } while (fifo < 0 && errno == EINTR);
        if (fifo >= 0) {
            char out[IMS_DETAIL_MAX + 32]; struct sbuf o; sb_init(&o, out, sizeof out);
            sb_add(&o, notfound ? "N" : "E"); sb_num(&o, err); sb_add(&o, " "); sb_add(&o, detail);
            (void)write(fifo, out, o.n);
        }
    }
    _exit(1);
}

/// "what <a> on <b>" style detail then fail with errno.
__attribute__((noreturn)) static void fail3(const char *a, const char *b, const char *c) {
    int e = errno;
    char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
    sb_add(&s, a); if (b) sb_add(&s, b); if (c) sb_add(&s, c);
    fail(e, d, 0);
}

static void wait_go(void) {
    struct ims_msg m;
    ssize_t n = ims_recv(g_sync, &m, g_state, sizeof g_state - 1, NULL);
    if (n <= 0) _exit(1);                       // the parent went away: nothing to report to
    if (m.type != IMS_MSG_GO) _exit(1);
    if ((size_t)n > sizeof m) {
        g_state_len = (size_t)n - sizeof m;
        g_state[g_state_len] = 0;
        size_t first = strlen(g_state);
        g_state_created = first < g_state_len ? g_state + first + 1 : g_state;
        g_state_len = first;
    }
}

static void send_simple(int type) {
    struct ims_msg m; memset(&m, 0, sizeof m); m.type = type;
    if (type == IMS_MSG_READY && g_timing) {
        struct sbuf b; sb_init(&b, m.detail, sizeof m.detail);
        for (int i = 0; i < g_marks; i++) {
            sb_add(&b, g_mark_name[i]); sb_add(&b, "="); sb_num(&b, g_mark_ns[i]); sb_add(&b, " ");
        }
    }
    ims_send(g_sync, &m, NULL, 0);
}

// MARK: - hooks (createContainer, startContainer) run from the child

static void run_hooks(const struct ims_hook *hooks, int count, const char *kind, const char *state) {
    for (int i = 0; i < count; i++) {
        const struct ims_hook *h = &hooks[i];
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) fail3("pipe for ", kind, " hook");
        pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (pid < 0) fail3("fork ", kind, " hook");
        if (pid == 0) {
            dup2(p[0], 0);
            execve(h->path, h->argv, h->envp);
            _exit(127);
        }
        close(p[0]);
        size_t len = strlen(state), off = 0;
        while (off < len) {
            ssize_t w = write(p[1], state + off, len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;                // the hook need not read its stdin
            off += (size_t)w;
        }
        close(p[1]);
        int status = 0, waited_ms = 0, timeout_ms = h->timeout > 0 ? h->timeout * 1000 : -1;
        for (;;) {
            pid_t r = waitpid(pid, &status, timeout_ms < 0 ? 0 : WNOHANG);
            if (r == pid) break;
            if (r < 0 && errno != EINTR) fail3("wait for ", kind, " hook");
            if (r == 0) {
                if (waited_ms >= timeout_ms) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
                    sb_add(&s, kind); sb_add(&s, " hook "); sb_add(&s, h->path);
                    sb_add(&s, " timed out after "); sb_num(&s, h->timeout); sb_add(&s, " s");
                    fail(0, d, 0);
                }
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
                waited_ms += 5;
            }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
            sb_add(&s, kind); sb_add(&s, " hook "); sb_add(&s, h->path);
            if (WIFEXITED(status)) {
                sb_add(&s, " failed with exit status "); sb_num(&s, WEXITSTATUS(status));
                if (WEXITSTATUS(status) == 127) sb_add(&s, " (could it be executed?)");
            } else {
                sb_add(&s, " was killed by signal "); sb_num(&s, WTERMSIG(status));
            }
            fail(0, d, 0);
        }
    }
}

// MARK: - paths inside the root

static int open_in_root(int rootfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    while (*path == '/') path++;
    if (!*path) path = ".";
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    return (int)fd;
}

/// mkdir -p inside the root (symlinks resolved inside it); the last component is a file when
/// `as_file`. Returns 0 or -1 with errno.
static int make_in_root(int rootfd, const char *path, int as_file, mode_t mode) {
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, len + 1);
    int dirfd = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
    if (dirfd < 0) return -1;
    char *p = buf;
    while (*p == '/') p++;
    while (*p) {
        char *slash = strchr(p, '/');
        int last = slash == NULL;
        if (slash) *slash = 0;
        if (*p == 0 || strcmp(p, ".") == 0) { if (last) break; p = slash + 1; continue; }
        // Resolve the prefix so far (symlinks stay inside the root).
        size_t plen = (size_t)(p - buf) + strlen(p);
        char prefix[PATH_MAX]; memcpy(prefix, buf, plen); prefix[plen] = 0;
        for (size_t i = 0; i < plen; i++) if (prefix[i] == 0) prefix[i] = '/';
        int next = open_in_root(rootfd, prefix, O_PATH);
        if (next < 0 && errno == ENOENT) {
            int parent = dirfd;
            if (last && as_file) {
                int f = openat(parent, p, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
                if (f < 0 && errno != EEXIST) { close(dirfd); return -1; }
                if (f >= 0) close(f);
            } else if (mkdirat(parent, p, last ? mode : 0755) != 0 && errno != EEXIST) {
                close(dirfd); return -1;
            }
            next = open_in_root(rootfd, prefix, O_PATH);
        }
        if (next < 0) { int e = errno; close(dirfd); errno = e; return -1; }
        close(dirfd);
        dirfd = next;
        if (last) break;
        *slash = '/';
        p = slash + 1;
    }
    close(dirfd);
    return 0;
}

static void fd_path(char *out, int fd) {
    struct sbuf b; sb_init(&b, out, 64); sb_add(&b, "/proc/self/fd/"); sb_num(&b, fd);
}

/// Flags of the mount at `path` that an unprivileged remount must keep (they may be locked).
/// statfs(2), not statvfs(3): glibc's statvfs parses /proc/mounts with stdio (malloc), which may
/// deadlock in a child cloned from a multi-threaded parent.
static unsigned long locked_flags(const char *path) {
    struct statfs st;
    if (statfs(path, &st) != 0) return 0;
    unsigned long f = 0;
    if (st.f_flags & ST_NOSUID) f |= MS_NOSUID;
    if (st.f_flags & ST_NODEV) f |= MS_NODEV;
    if (st.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
    if (st.f_flags & ST_NOATIME) f |= MS_NOATIME;
    if (st.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (st.f_flags & ST_RELATIME) f |= MS_RELATIME;
    if (st.f_flags & ST_RDONLY) f |= MS_RDONLY;
    return f;
}

// MARK: - mounts

static void mount_one(int rootfd, const struct ims_mount *m) {
    struct stat st;
    int src_is_file = 0;
    if (m->bind && m->source) {
        if (stat(m->source, &st) != 0) fail3("bind mount source ", m->source, " for the container");
        src_is_file = !S_ISDIR(st.st_mode);
    }
    if (make_in_root(rootfd, m->destination, src_is_file, src_is_file ? 0644 : 0755) != 0)
        fail3("create mount point ", m->destination, " in the root file system");
    int target = open_in_root(rootfd, m->destination, O_PATH);
    if (target < 0) fail3("open mount point ", m->destination, "");
    char tpath[64]; fd_path(tpath, target);
    const char *type = m->type ? m->type : "none";
    if (m->bind) {
        if (mount(m->source, tpath, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) != 0) {
            char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
            sb_add(&s, "bind mount "); sb_add(&s, m->source); sb_add(&s, " on "); sb_add(&s, m->destination);
            fail(errno, d, 0);
        }
        unsigned long extra = m->flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT);
        if (extra) {
            close(target);
            target = open_in_root(rootfd, m->destination, O_PATH);
            fd_path(tpath, target);
            unsigned long keep = locked_flags(tpath) & ~(unsigned long)MS_RDONLY;
            if (mount(NULL, tpath, NULL, MS_BIND | MS_REMOUNT | extra | keep, NULL) != 0)
                fail3("remount bind mount on ", m->destination, " with its options");
        }
    } else {
        int rc = mount(m->source ? m->source : type, tpath, type, m->flags, m->data);
        if (rc != 0 && errno == EPERM && strcmp(type, "sysfs") == 0) {
            // Without a network namespace of its own (or in a user namespace) sysfs cannot be
            // mounted; bind the host's read-only, as runc does.
            rc = mount("/sys", tpath, NULL, MS_BIND | MS_REC, NULL);
            if (rc == 0) {
                close(target);
                target = open_in_root(rootfd, m->destination, O_PATH);
                fd_path(tpath, target);
                rc = mount(NULL, tpath, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
            }
        }
        if (rc != 0) {
            char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
            sb_add(&s, "mount "); sb_add(&s, type); sb_add(&s, " on "); sb_add(&s, m->destination);
            if (m->data && *m->data) { sb_add(&s, " (options "); sb_add(&s, m->data); sb_add(&s, ")"); }
            fail(errno, d, 0);
        }
    }
    for (int i = 0; i < m->propagation_count; i++) {
        close(target);
        target = open_in_root(rootfd, m->destination, O_PATH);
        fd_path(tpath, target);
        if (mount(NULL, tpath, NULL, m->propagation[i], NULL) != 0)
            fail3("set propagation of ", m->destination, "");
    }
    close(target);
}

// MARK: - /dev

static void make_device(int rootfd, const struct ims_device *d) {
    if (make_in_root(rootfd, d->path, 0, 0755) == 0) {
        // make_in_root made the last component as a directory only if it was missing; undo.
    }
    char parent[PATH_MAX]; size_t len = strlen(d->path);
    memcpy(parent, d->path, len + 1);
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : parent;
    if (slash) *slash = 0;
    int dirfd = open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
    if (dirfd < 0) fail3("open directory of device ", d->path, "");
    unlinkat(dirfd, name, AT_REMOVEDIR);   // the directory make_in_root created, if any
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    unlinkat(dirfd, name, 0);
    if (mknodat(dirfd, name, type | (d->mode & 07777), makedev(d->major, d->minor)) == 0) {
        fchownat(dirfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW);
        // mknod applies our umask (022 from the caller): set the spec's mode exactly, so that
        // /dev/null is 0666 and a non-root container process can write it.
        if (fchmodat(dirfd, name, d->mode & 07777, 0) != 0) fail3("chmod device ", d->path, "");
        close(dirfd);
        return;
    }
    if (errno != EPERM) fail3("mknod ", d->path, "");
    // In a user namespace: bind the host's node instead.
    int f = openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0000);
    if (f < 0) fail3("create ", d->path, " for a bind mount");
    close(f);
    int target = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    char tpath[64]; fd_path(tpath, target);
    if (mount(d->path, tpath, NULL, MS_BIND, NULL) != 0) fail3("bind mount host device ", d->path, "");
    close(target);
    close(dirfd);
}

static void setup_dev(int rootfd, const struct ims_config *cfg) {
    static const struct ims_device defaults[] = {
        {"/dev/null", 'c', 1, 3, 0666, 0, 0}, {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
        {"/dev/full", 'c', 1, 7, 0666, 0, 0}, {"/dev/random", 'c', 1, 8, 0666, 0, 0},
        {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        int dup = 0;
        for (int j = 0; j < cfg->device_count; j++) if (strcmp(cfg->devices[j].path, defaults[i].path) == 0) dup = 1;
        if (!dup) make_device(rootfd, &defaults[i]);
    }
    for (int j = 0; j < cfg->device_count; j++) make_device(rootfd, &cfg->devices[j]);
    int devfd = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
    if (devfd < 0) fail3("open /dev in the root file system", "", "");
    static const char *links[][2] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        if (symlinkat(links[i][0], devfd, links[i][1]) != 0 && errno != EEXIST)
            fail3("create /dev/", links[i][1], " symlink");
    }
    close(devfd);
}

// MARK: - after pivot_root

static void mask_paths(const struct ims_config *cfg) {
    for (int i = 0; i < cfg->masked_count; i++) {
        const char *p = cfg->masked[i];
        struct stat st;
        if (stat(p, &st) != 0) { if (errno == ENOENT) continue; fail3("stat masked path ", p, ""); }
        int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL)
                                     : mount("/dev/null", p, NULL, MS_BIND, NULL);
        if (rc != 0 && errno != ENOENT) fail3("mask path ", p, "");
    }
}

static void readonly_paths(const struct ims_config *cfg) {
    for (int i = 0; i < cfg->readonly_count; i++) {
        const char *p = cfg->readonly[i];
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) {
            if (errno == ENOENT) continue;
            fail3("bind read-only path ", p, "");
        }
        unsigned long keep = locked_flags(p);
        if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) != 0)
            fail3("remount read-only path ", p, "");
    }
}

static void write_sysctls(const struct ims_config *cfg) {
    for (int i = 0; i < cfg->sysctl_count; i++) {
        int fd = open(cfg->sysctls[i].path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0) fail3("open sysctl ", cfg->sysctls[i].path, "");
        size_t len = strlen(cfg->sysctls[i].value);
        if (write(fd, cfg->sysctls[i].value, len) != (ssize_t)len) fail3("write sysctl ", cfg->sysctls[i].path, "");
        close(fd);
    }
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail3("socket for bringing up lo", "", "");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail3("read flags of lo", "", "");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail3("bring up lo", "", "");
    close(s);
}

// MARK: - process

static void setup_terminal(const struct ims_config *cfg, int console) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail3("open /dev/ptmx (is /dev/pts mounted?)", "", "");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0) fail3("unlock the pseudo-terminal", "", "");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) fail3("open the pseudo-terminal's peer", "", "");
    if (cfg->rows || cfg->cols) {
        struct winsize ws = {cfg->rows, cfg->cols, 0, 0};
        ioctl(slave, TIOCSWINSZ, &ws);
    }
    struct ims_msg m; memset(&m, 0, sizeof m); m.type = IMS_MSG_PTY;
    int rc = console >= 0 ? send_fd(console, &m, master, "/dev/ptmx") : send_fd(g_sync, &m, master, NULL);
    if (rc != 0) { errno = -rc; fail3("send the pseudo-terminal to ", cfg->console_socket ? cfg->console_socket : "the runtime", ""); }
    close(master);
    if (console >= 0) close(console);
    if (setsid() < 0) fail3("setsid", "", "");
    if (ioctl(slave, TIOCSCTTY, 0) != 0) fail3("make the pseudo-terminal the controlling terminal", "", "");
    for (int i = 0; i < 3; i++) if (dup2(slave, i) < 0) fail3("dup2 the pseudo-terminal", "", "");
    if (slave > 2) close(slave);
}

static void setup_stdio(const struct ims_config *cfg) {
    int tmp[3];
    for (int i = 0; i < 3; i++) {
        tmp[i] = -1;
        if (cfg->stdio[i] >= 0) {
            tmp[i] = fcntl(cfg->stdio[i], F_DUPFD_CLOEXEC, 10);
            if (tmp[i] < 0) fail3("duplicate a standard stream", "", "");
        }
    }
    for (int i = 0; i < 3; i++) {
        if (tmp[i] >= 0) {
            if (dup2(tmp[i], i) < 0) fail3("set up a standard stream", "", "");
            close(tmp[i]);
        }
    }
}

static int capset_v3(uint64_t eff, uint64_t perm, uint64_t inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    d[0].effective = (uint32_t)eff; d[1].effective = (uint32_t)(eff >> 32);
    d[0].permitted = (uint32_t)perm; d[1].permitted = (uint32_t)(perm >> 32);
    d[0].inheritable = (uint32_t)inh; d[1].inheritable = (uint32_t)(inh >> 32);
    return (int)syscall(SYS_capset, &h, d);
}

static void install_seccomp(const struct ims_config *cfg) {
    struct sock_fprog prog;
    prog.len = (unsigned short)(cfg->seccomp_len / sizeof(struct sock_filter));
    prog.filter = (struct sock_filter *)cfg->seccomp;
    int rc = cfg->seccomp_flags
        ? (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, cfg->seccomp_flags, &prog)
        : prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    if (rc < 0) fail3("install the seccomp filter", "", "");
}

/// Resolves argv[0] like execvp, into `out`. On failure reports the runc/docker message.
static void lookup(const struct ims_config *cfg, char *out, size_t cap) {
    const char *name = cfg->argv[0];
    if (strchr(name, '/')) {
        struct stat st;
        if (stat(name, &st) != 0) {
            char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
            sb_add(&s, "exec: \""); sb_add(&s, name); sb_add(&s, "\": stat "); sb_add(&s, name);
            fail(errno, d, errno == ENOENT);
        }
        if (S_ISDIR(st.st_mode) || access(name, X_OK) != 0) {
            char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
            sb_add(&s, "exec: \""); sb_add(&s, name); sb_add(&s, "\"");
            fail(S_ISDIR(st.st_mode) ? EISDIR : errno, d, 2);
        }
        struct sbuf b; sb_init(&b, out, cap); sb_add(&b, name);
        return;
    }
    const char *path = cfg->path_env && *cfg->path_env ? cfg->path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int denied = 0;
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
        struct sbuf b; sb_init(&b, out, cap);
        if (dlen == 0) sb_add(&b, ".");
        else { char dir[PATH_MAX]; if (dlen >= sizeof dir) dlen = sizeof dir - 1; memcpy(dir, path, dlen); dir[dlen] = 0; sb_add(&b, dir); }
        sb_add(&b, "/"); sb_add(&b, name);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0) return;
            denied = 1;
        }
        path = colon ? colon + 1 : path + dlen;
    }
    char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
    sb_add(&s, "exec: \""); sb_add(&s, name);
    if (denied) { sb_add(&s, "\": permission denied"); fail(0, d, 2); }
    sb_add(&s, "\": executable file not found in $PATH");
    fail(0, d, 1);
}

static void reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        syscall(SYS_rt_sigaction, sig, &sa, NULL, _NSIG / 8);
    }
}

static void unblock_signals(void) {
    sigset_t none; sigemptyset(&none);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
}

// MARK: - the child

/// Closes every descriptor above 2 except `keep` (the sync socket and the given stdio): a
/// container waiting for `start` must not hold copies of the parent's other pipes and files.
static void close_other_fds(const struct ims_config *cfg, int sync_fd) {
    int sorted[40]; int n = 0;
    int fixed[6] = {sync_fd, cfg->stdio[0], cfg->stdio[1], cfg->stdio[2], cfg->cgroup_fd, cfg->exec_root_fd};
    for (int i = 0; i < 6; i++) if (fixed[i] > 2) sorted[n++] = fixed[i];
    for (int i = 0; i < cfg->cgroup_task_count && n < 40; i++) if (cfg->cgroup_task_fds[i] > 2) sorted[n++] = cfg->cgroup_task_fds[i];
    for (int i = 1; i < n; i++) for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) { int t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t; }
    // Descriptors the caller passes on (--preserve-fds) stay: they start at 3.
    unsigned int from = 3 + (unsigned int)(cfg->preserve_fds > 0 ? cfg->preserve_fds : 0);
    for (int i = 0; i < n; i++) {
        if ((unsigned int)sorted[i] < from) continue;
        if ((unsigned int)sorted[i] > from) syscall(SYS_close_range, from, (unsigned int)sorted[i] - 1, 0);
        from = (unsigned int)sorted[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

/// The root as a container with a mount namespace of its own gets it: pivot_root into the root
/// (the current directory), the requested propagation, sysctls, read-only and masked paths.
static void pivot_into_root(const struct ims_config *cfg) {
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail3("pivot_root to ", cfg->rootfs, "");
    mark("pivoted");
    // The old root is now stacked on "/"; keep its unmount from reaching the host. Lookups
    // start at our root (the new one), so the steps below already act inside the container;
    // the unmount itself (an RCU grace period, milliseconds) is done after READY, while the
    // caller moves on to `start`.
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0) fail3("make the old root a slave", "", "");
    if (chdir("/") != 0) fail3("chdir to the new root", "", "");
    if (cfg->rootfs_propagation && mount(NULL, "/", NULL, cfg->rootfs_propagation, NULL) != 0)
        fail3("set rootfsPropagation", "", "");
    write_sysctls(cfg);
    readonly_paths(cfg);
    mark("readonly-paths");
    mask_paths(cfg);
    mark("masked-paths");
    if (cfg->rootfs_readonly) {
        unsigned long keep = locked_flags("/");
        if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) != 0)
            fail3("remount the root file system read-only", "", "");
    }
}

/// The root of a container left in the host's mount namespace: chroot only, as crun does;
/// nothing is mounted. Sysctls go through the host's /proc, before the chroot.
static void chroot_into_root(const struct ims_config *cfg) {
    write_sysctls(cfg);
    if (chroot(".") != 0) fail3("chroot to ", cfg->rootfs, "");
    if (chdir("/") != 0) fail3("chdir to the new root", "", "");
    mark("chrooted");
}

__attribute__((noreturn)) static void child_main(const struct ims_config *cfg, int sync_fd, pid_t parent) {
    g_sync = sync_fd;
    g_timing = cfg->timing;
    mark("start");
    close_other_fds(cfg, sync_fd);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    (void)parent;
    for (int i = 0; i < cfg->cgroup_task_count; i++) {
        // Before anything else, and before a user namespace changes our uid.
        if (write(cfg->cgroup_task_fds[i], "0", 1) != 1) fail3("join cgroup ", cfg->cgroup_tasks[i], "");
        close(cfg->cgroup_task_fds[i]);
    }
    mark("cgroup-joined");
    reset_signals();
    wait_go();   // the parent has written id maps, set oom_score_adj (and added us to the cgroup if needed)
    mark("go-received");

    if (cfg->clone_flags & CLONE_NEWUSER) {
        if (raw_setresgid(0, 0, 0) != 0) fail3("become gid 0 in the user namespace (is it mapped?)", "", "");
        if (raw_setresuid(0, 0, 0) != 0) fail3("become uid 0 in the user namespace (is it mapped?)", "", "");
    }
    if (cfg->unshare_cgroupns && unshare(CLONE_NEWCGROUP) != 0) fail3("unshare the cgroup namespace", "", "");

    int console = -1;
    int statefd = -1;
    if (!cfg->exec_mode) {
        if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) != 0)
            fail3("sethostname ", cfg->hostname, "");
        if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) != 0)
            fail3("setdomainname ", cfg->domainname, "");
        if (cfg->setup_loopback) loopback_up();
        mark("loopback-up");

        if (!cfg->chroot_only) {
            if (mount(NULL, "/", NULL, cfg->root_propagation, NULL) != 0) fail3("set propagation of /", "", "");
            if (mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL) != 0)
                fail3("bind mount the root file system ", cfg->rootfs, " on itself");
            int rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
            mark("root-bound");
            if (rootfd < 0) fail3("open the root file system ", cfg->rootfs, "");
            for (int i = 0; i < cfg->mount_count; i++) mount_one(rootfd, &cfg->mounts[i]);
            if (cfg->create_devices) setup_dev(rootfd, cfg);
            mark("mounts-done");
            close(rootfd);
        }

        if (cfg->sync_hooks) {                 // prestart + createRuntime, in the runtime namespace
            send_simple(IMS_MSG_HOOKS);
            wait_go();
        }
        run_hooks(cfg->create_container_hooks, cfg->create_container_count, "createContainer", g_state);

        if (cfg->terminal && cfg->console_socket) {  // connect while the host's paths are visible
            console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct sockaddr_un addr; memset(&addr, 0, sizeof addr);
            addr.sun_family = AF_UNIX;
            size_t l = strlen(cfg->console_socket);
            if (l >= sizeof addr.sun_path) { errno = ENAMETOOLONG; fail3("connect to console socket ", cfg->console_socket, ""); }
            memcpy(addr.sun_path, cfg->console_socket, l + 1);
            if (console < 0 || connect(console, (struct sockaddr *)&addr, sizeof addr) != 0)
                fail3("connect to console socket ", cfg->console_socket, "");
        }
        statefd = open(cfg->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (statefd < 0) fail3("open state directory ", cfg->state_dir, "");

        if (chdir(cfg->rootfs) != 0) fail3("chdir to the root file system ", cfg->rootfs, "");
        if (cfg->chroot_only) chroot_into_root(cfg);
        else pivot_into_root(cfg);
    }
    if (cfg->exec_mode && cfg->exec_root_fd >= 0) {
        if (fchdir(cfg->exec_root_fd) != 0 || chroot(".") != 0) fail3("chroot to the container's root", "", "");
        close(cfg->exec_root_fd);
    }

    if (cfg->terminal) setup_terminal(cfg, console);
    else {
        setup_stdio(cfg);
        if (!cfg->exec_mode) setsid();
    }

    for (int i = 0; i < cfg->rlimit_count; i++) {
        struct rlimit rl = {cfg->rlimits[i].soft, cfg->rlimits[i].hard};
        if (setrlimit(cfg->rlimits[i].resource, &rl) != 0) {
            int e = errno;
            char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
            sb_add(&s, "setrlimit "); sb_add(&s, cfg->rlimits[i].name); sb_add(&s, " (soft ");
            sb_num(&s, (long long)cfg->rlimits[i].soft); sb_add(&s, ", hard "); sb_num(&s, (long long)cfg->rlimits[i].hard);
            sb_add(&s, ")");
            if (e == EPERM) sb_add(&s, ": raising a hard limit needs CAP_SYS_RESOURCE, which this runtime's bounding set lacks");
            fail(e, d, 0);
        }
    }
    if (cfg->set_personality && personality((unsigned long)cfg->personality) < 0) fail3("personality", "", "");

    // Existence checks while `create` still waits for us: the program (in the container's
    // PATH) and the working directory. Permissions are checked again as the user below.
    char program[PATH_MAX];
    if (chdir(cfg->cwd) != 0) fail3("chdir to cwd (\"", cfg->cwd, "\") set in config.json");
    lookup(cfg, program, sizeof program);
    mark("lookup-done");
    unsigned int keep = (unsigned int)(cfg->preserve_fds > 0 ? cfg->preserve_fds : 0);
    syscall(SYS_close_range, 3 + keep, ~0U, CLOSE_RANGE_CLOEXEC);
    for (unsigned int fd = 3; fd < 3 + keep; fd++) if ((int)fd != g_sync) fcntl((int)fd, F_SETFD, 0);

    if (!cfg->exec_mode) {
        prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);   // from here on the container outlives `create`
        send_simple(IMS_MSG_READY);
        close(g_sync);
        g_sync = -1;
        g_statefd = statefd;
        if (!cfg->chroot_only && (chdir("/") != 0 || umount2(".", MNT_DETACH) != 0)) fail3("unmount the old root", "", "");
    }

    int early_seccomp = cfg->seccomp_len && !cfg->no_new_privs;
    if (early_seccomp) install_seccomp(cfg);    // without no_new_privs it needs CAP_SYS_ADMIN

    if (cfg->set_caps) {
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail3("keep capabilities across setuid", "", "");
        for (int c = 0; c <= cfg->cap_last; c++) {
            if (!(cfg->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
                fail3("drop a capability from the bounding set", "", "");
        }
    }
    if (!(cfg->clone_flags & CLONE_NEWUSER) || cfg->additional_gid_count) {
        if (raw_setgroups((size_t)cfg->additional_gid_count, (const gid_t *)cfg->additional_gids) != 0)
            fail3("setgroups", "", "");
    }
    if (raw_setresgid(cfg->gid, cfg->gid, cfg->gid) != 0) fail3("setgid to the process's gid", "", "");
    if (raw_setresuid(cfg->uid, cfg->uid, cfg->uid) != 0) fail3("setuid to the process's uid", "", "");
    if (cfg->set_caps) {
        if (capset_v3(cfg->cap_effective, cfg->cap_permitted, cfg->cap_inheritable) != 0)
            fail3("set the capabilities (capset)", "", "");
        for (int c = 0; c <= cfg->cap_last; c++) {
            if ((cfg->cap_ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
                fail3("raise an ambient capability (it must also be permitted and inheritable)", "", "");
        }
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }
    if (cfg->set_umask) umask((mode_t)cfg->umask);
    if (chdir(cfg->cwd) != 0) fail3("chdir to cwd (\"", cfg->cwd, "\") set in config.json");
    if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail3("set no_new_privs", "", "");
    if (cfg->uid != 0) lookup(cfg, program, sizeof program);   // as the user: may it execute it?
    mark("credentials-set");

    if (!cfg->exec_mode) {
        int fifo;
        do { fifo = openat(statefd, "exec.fifo", O_WRONLY | O_CLOEXEC); } while (fifo < 0 && errno == EINTR);
        if (fifo < 0) _exit(1);              // deleted before start
        if (write(fifo, "0", 1) != 1) _exit(1);
        // The fifo stays open (close-on-exec): `start` sees EOF once execve has happened, so
        // that poststart hooks run after the user's program started, as the spec requires.
        g_statefd = -1;
        close(statefd);
        run_hooks(cfg->start_container_hooks, cfg->start_container_count, "startContainer", g_state_created);
    }
    if (cfg->seccomp_len && !early_seccomp) install_seccomp(cfg);
    // exec --detach: the runtime returns once the program runs; its caller (conmon, a shim)
    // adopts the process as subreaper. The runtime sees EOF on the sync socket only at execve.
    if (cfg->exec_mode && cfg->exec_detach) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    unblock_signals();
    execve(program, cfg->argv, cfg->envp);
    int e = errno;
    if (g_sync >= 0) fail3("exec ", program, "");
    // After start nobody listens on the sync socket: the reason goes to the container's
    // standard error (its log, the build's output), not only an exit code.
    char d[IMS_DETAIL_MAX]; struct sbuf s; sb_init(&s, d, sizeof d);
    const char *why = strerrordesc_np(e);
    sb_add(&s, "intermodal-runtime: exec of the container process failed: ");
    sb_add(&s, program); sb_add(&s, ": "); sb_add(&s, why ? why : "unknown error");
    if (e == E2BIG) sb_add(&s, " (one argument or environment string may be at most 128 KiB, all of them together a quarter of the stack limit)");
    sb_add(&s, "\n");
    (void)write(2, d, strlen(d));
    _exit(e == ENOENT ? 127 : 126);
}

pid_t ims_spawn(const struct ims_config *cfg, int sync_fd, int *into_cgroup) {
    pid_t parent = getpid();
    *into_cgroup = 0;
    if (cfg->join_count == 0 && cfg->cgroup_fd >= 0) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)(unsigned int)cfg->clone_flags | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t)cfg->cgroup_fd;
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0) child_main(cfg, sync_fd, parent);
        if (pid > 0) { *into_cgroup = 1; return (pid_t)pid; }
        // Older kernel or a cgroup clone3 cannot enter: the caller adds the process instead.
    }
    if (cfg->join_count == 0) {
        long pid = syscall(SYS_clone, (unsigned long)cfg->clone_flags | SIGCHLD, 0, 0, 0, 0);
        if (pid < 0) return -errno;
        if (pid == 0) child_main(cfg, sync_fd, parent);
        return (pid_t)pid;
    }
    // Joining namespaces by path: an intermediate process joins them (setns needs a single
    // thread), then clones the container process as a sibling (CLONE_PARENT) so that it is our
    // child, and reports its pid.
    long mid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (mid < 0) return -errno;
    if (mid != 0) return (pid_t)mid;
    g_sync = sync_fd;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close_other_fds(cfg, sync_fd);
    for (int i = 0; i < cfg->join_count; i++) {
        int fd = open(cfg->join[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail3("open namespace ", cfg->join[i].path, "");
        if (setns(fd, cfg->join[i].type) != 0) fail3("join namespace ", cfg->join[i].path, "");
        close(fd);
    }
    pid_t me = getpid();
    (void)me;
    long pid = -1;
    int placed = 0;
    if (cfg->cgroup_fd >= 0) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)(unsigned int)cfg->clone_flags | CLONE_PARENT | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t)cfg->cgroup_fd;
        pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0) child_main(cfg, sync_fd, parent);
        placed = pid > 0;
    }
    if (pid < 0) pid = syscall(SYS_clone, (unsigned long)cfg->clone_flags | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) fail3("clone the container process", "", "");
    if (pid == 0) child_main(cfg, sync_fd, parent);
    struct ims_msg m; memset(&m, 0, sizeof m);
    m.type = IMS_MSG_PID; m.value = (int)pid; m.err = placed;
    ims_send(sync_fd, &m, NULL, 0);
    _exit(0);
}

// MARK: - the parent side of a console socket (exec: the master comes back here first)

int ims_send_console(const char *path, int fd) {
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -errno;
    struct sockaddr_un addr; memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    size_t l = strlen(path);
    if (l >= sizeof addr.sun_path) { close(sock); return -ENAMETOOLONG; }
    memcpy(addr.sun_path, path, l + 1);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) { int e = errno; close(sock); return -e; }
    struct ims_msg m; memset(&m, 0, sizeof m); m.type = IMS_MSG_PTY;
    int rc = send_fd(sock, &m, fd, "/dev/ptmx");
    close(sock);
    return rc;
}

// MARK: - the parent side of the exec fifo

int ims_fifo_release(const char *path, int timeout_ms, pid_t pid, char *err, size_t errcap) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int waited = 0, result = -ETIMEDOUT, got = 0;
    size_t elen = 0;
    if (errcap) err[0] = 0;
    while (waited < timeout_ms) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        int r = poll(p, pidfd >= 0 ? 2 : 1, 50);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { result = -errno; break; }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            char buf[512];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n > 0) {
                if (!got && buf[0] != '0') got = 2;   // an error report, not the go byte
                else if (!got) got = 1;
                for (ssize_t k = 0; k < n && got == 2 && elen + 1 < errcap; k++) err[elen++] = buf[k];
                if (errcap) err[elen] = 0;
                continue;
            }
            if (n == 0 && (p[0].revents & POLLHUP)) { result = got; break; }   // exec happened (or death)
        }
        if (pidfd >= 0 && (p[1].revents & POLLIN)) {
            char buf[512];
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0) {
                if (!got) got = buf[0] == '0' ? 1 : 2;
                for (ssize_t k = 0; k < n && got == 2 && elen + 1 < errcap; k++) err[elen++] = buf[k];
                if (errcap) err[elen] = 0;
            }
            result = got;
            break;
        }
        if (r == 0) waited += 50;
        // Released, only the exec (EOF) is awaited, for poststart ordering: do not hang on it.
        if (got == 1 && r == 0 && waited >= 5000) { result = 1; break; }
    }
    if (result == -ETIMEDOUT && got) result = got;
    if (pidfd >= 0) close(pidfd);
    close(fd);
    return result;
}
