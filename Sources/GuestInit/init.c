// intermodal-guest-init: PID 1 of a guest booted by Intermodal (statically linked, no libc
// beyond what is in the binary). It brings up just enough of the guest to run one command from
// an image: /proc, /sys, /dev, the virtio modules, the image's disk as the root, loopback (and
// eth0 when asked), then runs the command with the image's environment and working directory,
// streams its output to the host over a virtio-serial port, reports timestamps, exit status and
// memory, and powers the guest off.
//
// Wire format to the host (the port "org.intermodal.guest"): frames of
//   1 byte type | 4 bytes little-endian payload length | payload
// types: 'H' hello (text "init=<ns> now=<ns> modules=<ns>"), 'S' command started ("now=<ns>"),
// 'O' stdout bytes, 'E' stderr bytes, 'X' exit ("code=<n> signal=<n> start=<ns> end=<ns>
// memtotal=<kB> memavailable=<kB>"), 'F' fatal error of init itself (text).
// Times are the guest's CLOCK_MONOTONIC; the host stamps each frame on receipt with its own.
//
// Configuration comes from /intermodal/config in the initramfs: NUL-terminated records
// "<key><value>", key a=argument e=environment w=working directory u=uid:gid h=hostname
// D=print step timings on the console, c=report over the console instead of the port, i=eth0 address/prefix g=gateway n=nameserver (written to /etc/resolv.conf) m=module file to
// load (in order).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "org.intermodal.guest"
#define MAX_RECORDS 4096

static int channel = -1;

// SwiftPM links every executable through the Swift driver, which adds swiftrt.o (and, for
// -static-executable, libswiftCore.a). swiftrt.o's only outside needs are these two; defining
// them here keeps the whole Swift runtime (megabytes, and a start-up that needs /proc) out of
// this C program: the archive members are never pulled in.
void swift_addNewDSOImage(const void *image) { (void)image; }
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void power_off(void) {
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

// Console fallback (no virtio-serial port): each frame becomes one text line on the serial
// console, "@@intermodal:<type>:<payload in hex>", which the host reads from the console log.
static int console_channel = 0;

static void send_console_frame(char type, const unsigned char *data, uint32_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t size = 16 + 2 * (size_t)len + 2;
    char *line = malloc(size);
    if (!line) return;
    size_t n = (size_t)snprintf(line, size, "\n@@intermodal:%c:", type);
    for (uint32_t i = 0; i < len; i++) {
        line[n++] = hex[data[i] >> 4];
        line[n++] = hex[data[i] & 15];
    }
    line[n++] = '\n';
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(1, line + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    free(line);
}

static void send_frame(char type, const void *data, uint32_t len) {
    if (console_channel) {
        send_console_frame(type, data, len);
        return;
    }
    if (channel < 0) return;
    unsigned char header[5] = {(unsigned char)type, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >> 24) & 0xff};
    struct iovec iov[2] = {{header, 5}, {(void *)data, len}};
    size_t total = 5 + len, done = 0;
    while (done < total) {
        ssize_t n = writev(channel, iov, 2);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        done += (size_t)n;
        // Advance the iovecs past what was written.
        size_t k = (size_t)n;
        for (int i = 0; i < 2; i++) {
            size_t take = k < iov[i].iov_len ? k : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + take;
            iov[i].iov_len -= take;
            k -= take;
        }
    }
}

static void send_text(char type, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    send_frame(type, buf, (uint32_t)n);
}

// A fatal error: tell the host (and the console, for when the channel never came up), power off.
static void fatal(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dprintf(2, "intermodal-guest-init: %s\n", buf);
    send_frame('F', buf, (uint32_t)strlen(buf));
    power_off();
}

static char *read_file(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap) buf = realloc(buf, (cap *= 2) + 1);
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    if (size) *size = len;
    return buf;
}

// Finds /dev/vportNpM whose name is PORT_NAME (no udev here to make /dev/virtio-ports links).
static int open_channel(void) {
    for (int attempt = 0; attempt < 500; attempt++) {
        DIR *d = opendir("/sys/class/virtio-ports");
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                char path[300];
                snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
                char *name = read_file(path, NULL);
                if (name && strncmp(name, PORT_NAME, strlen(PORT_NAME)) == 0) {
                    free(name);
                    snprintf(path, sizeof path, "/dev/%s", e->d_name);
                    int fd = open(path, O_RDWR | O_CLOEXEC);
                    if (fd >= 0) {
                        closedir(d);
                        return fd;
                    }
                }
                free(name);
            }
            closedir(d);
        }
        usleep(10000);
    }
    return -1;
}

static int debug_timing = 0;

static void load_module(const char *path) {
    uint64_t t0 = now_ns();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fatal("cannot open module %s: %s", path, strerror(errno));
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
        fatal("cannot load module %s: %s", path, strerror(errno));
    close(fd);
    if (debug_timing) dprintf(2, "intermodal-guest-init: %s loaded in %llu us\n", path, (unsigned long long)((now_ns() - t0) / 1000));
}

static void interface_up(int sock, const char *name, const char *cidr, const char *gateway) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (cidr) {
        char addr[64];
        strncpy(addr, cidr, sizeof addr - 1);
        addr[sizeof addr - 1] = 0;
        int prefix = 24;
        char *slash = strchr(addr, '/');
        if (slash) {
            *slash = 0;
            prefix = atoi(slash + 1);
        }
        struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
        sin->sin_family = AF_INET;
        if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) fatal("bad address %s", cidr);
        if (ioctl(sock, SIOCSIFADDR, &ifr) != 0) fatal("cannot set address of %s: %s", name, strerror(errno));
        sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
        if (ioctl(sock, SIOCSIFNETMASK, &ifr) != 0) fatal("cannot set netmask of %s: %s", name, strerror(errno));
    }
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) fatal("no interface %s: %s", name, strerror(errno));
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) fatal("cannot bring %s up: %s", name, strerror(errno));
    if (gateway) {
        struct rtentry rt;
        memset(&rt, 0, sizeof rt);
        struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
        gw->sin_family = AF_INET;
        inet_pton(AF_INET, gateway, &gw->sin_addr);
        ((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
        ((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = (char *)name;
        if (ioctl(sock, SIOCADDRT, &rt) != 0) fatal("cannot add default route via %s: %s", gateway, strerror(errno));
    }
}

// Looks `name` up in an /etc/passwd- or /etc/group-style file of the guest's root: the third
// field (uid or gid) and, for passwd, the fourth (primary gid). No NSS in a static binary.
static int lookup_id(const char *file, const char *name, unsigned *id, unsigned *group, int by_number) {
    char *text = read_file(file, NULL);
    if (!text) return -1;
    int found = -1;
    for (char *line = strtok(text, "\n"); line && found != 0; line = strtok(NULL, "\n")) {
        char *fields[4] = {0};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            fields[i] = p;
            p = strchr(p, ':');
            if (p) *p++ = 0;
        }
        if (!fields[2]) continue;
        if (by_number ? (strtoul(fields[2], NULL, 10) == *id) : (strcmp(fields[0], name) == 0)) {
            *id = (unsigned)strtoul(fields[2], NULL, 10);
            if (group && fields[3]) *group = (unsigned)strtoul(fields[3], NULL, 10);
            found = 0;
        }
    }
    free(text);
    return found;
}

static int is_number(const char *s) {
    if (!*s) return 0;
    for (; *s; s++) if (*s < '0' || *s > '9') return 0;
    return 1;
}

// The image's User ("name", "uid", "name:group", "uid:gid"), resolved like Docker: a numeric uid
// need not exist (its gid is then 0); a name must.
static int resolve_user(const char *spec, uid_t *uid, gid_t *gid) {
    char buf[256];
    strncpy(buf, spec, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char *group = strchr(buf, ':');
    if (group) *group++ = 0;
    unsigned u = 0, g = 0;
    if (is_number(buf)) {
        u = (unsigned)strtoul(buf, NULL, 10);
        lookup_id("/etc/passwd", NULL, &u, &g, 1);
    } else if (lookup_id("/etc/passwd", buf, &u, &g, 0) != 0) {
        return -1;
    }
    if (group) {
        if (is_number(group)) g = (unsigned)strtoul(group, NULL, 10);
        else if (lookup_id("/etc/group", group, &g, NULL, 0) != 0) return -1;
    }
    *uid = u;
    *gid = g;
    return 0;
}

static long meminfo(const char *key) {
    char *text = read_file("/proc/meminfo", NULL);
    if (!text) return -1;
    long value = -1;
    char *p = strstr(text, key);
    if (p) value = strtol(p + strlen(key) + 1, NULL, 10);
    free(text);
    return value;
}

static void mount_or_die(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    mkdir(target, 0755);
    if (mount(source, target, type, flags, data) != 0 && errno != EBUSY)
        fatal("cannot mount %s on %s: %s", type, target, strerror(errno));
}

int main(void) {
    uint64_t t_init = now_ns();
    mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    int console = open("/dev/console", O_RDWR | O_CLOEXEC);
    if (console >= 0) {
        dup2(console, 1);
        dup2(console, 2);
    }

    size_t size = 0;
    char *config = read_file("/intermodal/config", &size);
    if (!config) fatal("no /intermodal/config in the initramfs");
    char *args[MAX_RECORDS], *env[MAX_RECORDS];
    int nargs = 0, nenv = 0;
    const char *workdir = "/", *user = NULL, *hostname = NULL, *address = NULL, *gateway = NULL, *nameserver = NULL;
    for (size_t off = 0; off < size;) {
        char *rec = config + off;
        size_t len = strlen(rec);
        off += len + 1;
        if (len == 0) continue;
        char *v = rec + 1;
        switch (rec[0]) {
        case 'a': if (nargs < MAX_RECORDS - 1) args[nargs++] = v; break;
        case 'e': if (nenv < MAX_RECORDS - 1) env[nenv++] = v; break;
        case 'w': workdir = v; break;
        case 'u': user = v; break;
        case 'h': hostname = v; break;
        case 'i': address = v; break;
        case 'g': gateway = v; break;
        case 'n': nameserver = v; break;
        case 'm': load_module(v); break;
        case 'D': debug_timing = 1; break;
        case 'c': console_channel = 1; break;
        }
    }
    args[nargs] = NULL;
    env[nenv] = NULL;
    uint64_t t_modules = now_ns();

    if (!console_channel) {
        channel = open_channel();
        if (channel < 0) {
            // No port after 5 s (a kernel without virtio_console?): carry on over the console.
            console_channel = 1;
            dprintf(2, "intermodal-guest-init: virtio-serial port %s did not appear; reporting over the console\n", PORT_NAME);
        }
    }
    send_text('H', "init=%llu now=%llu modules=%llu", (unsigned long long)t_init,
              (unsigned long long)now_ns(), (unsigned long long)t_modules);
    if (nargs == 0) fatal("no command to run (the image has no Cmd or Entrypoint and none was given)");

    // The image's disk becomes the root: mount it, give it /proc, /sys, /dev, enter it.
    int tries = 0;
    while (access("/dev/vda", F_OK) != 0 && tries++ < 300) usleep(10000);
    mount_or_die("/dev/vda", "/newroot", "ext4", 0, NULL);
    mount_or_die("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/newroot/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("devtmpfs", "/newroot/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666");
    mount_or_die("tmpfs", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    if (chdir("/newroot") != 0 || chroot("/newroot") != 0) fatal("cannot enter the guest disk: %s", strerror(errno));
    chdir("/");

    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock >= 0) {
        interface_up(sock, "lo", NULL, NULL);
        if (address) interface_up(sock, "eth0", address, gateway);
        close(sock);
    }
    if (hostname) sethostname(hostname, strlen(hostname));
    if (nameserver) {
        mkdir("/etc", 0755);
        int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dprintf(fd, "nameserver %s\n", nameserver);
            close(fd);
        }
    }

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fatal("pipe: %s", strerror(errno));
    uint64_t t_start = now_ns();
    pid_t child = fork();
    if (child < 0) fatal("fork: %s", strerror(errno));
    if (child == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        setsid();
        if (user) {
            uid_t uid;
            gid_t gid;
            if (resolve_user(user, &uid, &gid) != 0) {
                dprintf(2, "unable to find user %s: no matching entries in passwd file\n", user);
                _exit(126);
            }
            if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
                dprintf(2, "cannot switch to user %s: %s\n", user, strerror(errno));
                _exit(126);
            }
        }
        if (chdir(workdir) != 0) {
            dprintf(2, "cannot enter working directory %s: %s\n", workdir, strerror(errno));
            _exit(126);
        }
        environ = env;  // execvp looks the program up in the image's PATH
        execvp(args[0], args);
        if (errno == ENOENT) dprintf(2, "exec: \"%s\": executable file not found in $PATH\n", args[0]);
        else dprintf(2, "exec: \"%s\": %s\n", args[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    close(out[1]);
    close(err[1]);
    send_text('S', "now=%llu", (unsigned long long)t_start);

    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2, status = 0, exited = 0;
    static char buf[65536];
    while (open_fds > 0) {
        // Grandchildren that keep the pipes open must not hold the guest up once the command ended.
        int r = poll(fds, 2, exited ? 200 : 1000);
        if (r < 0 && errno != EINTR) break;
        if (r == 0 && exited) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                send_frame(i == 0 ? 'O' : 'E', buf, (uint32_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
        // PID 1 reaps every orphan; note when our command itself is done.
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == child) { status = st; exited = 1; }
    }
    if (!exited) {
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, 0)) > 0)
            if (p == child) { status = st; break; }
    }
    uint64_t t_end = now_ns();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    send_text('X', "code=%d signal=%d start=%llu end=%llu memtotal=%ld memavailable=%ld", code, sig,
              (unsigned long long)t_start, (unsigned long long)t_end, meminfo("MemTotal:"), meminfo("MemAvailable:"));
    // The host reads QEMU's memory figures on this report and then destroys the guest; power
    // off by ourselves only if it does not (e.g. nobody listens).
    struct pollfd wait_host = {channel, POLLIN, 0};
    if (console_channel) usleep(3000 * 1000);
    else poll(&wait_host, 1, 3000);
    power_off();
    return 0;
}
