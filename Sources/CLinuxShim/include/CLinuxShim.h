#ifndef CLINUXSHIM_H
#define CLINUXSHIM_H
// CLinuxShim: everything that happens between clone(2) and execve(2) in a container's init.
//
// The parent (Swift) prepares one ims_config of plain C data, calls ims_spawn(), and talks to the
// child over a SOCK_SEQPACKET socket pair with ims_msg records. The child runs only this C code:
// no Swift, no malloc (the parent may be multi-threaded), only system calls and stack buffers.

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ims_mount {
    const char *source;       // may be NULL
    const char *destination;  // absolute, inside the container
    const char *type;         // may be NULL (bind)
    const char *data;         // comma-joined file-system options, may be NULL
    unsigned long flags;      // MS_* to set
    unsigned long propagation[4];
    int propagation_count;
    int bind;                 // bind or rbind
    int recursive;            // rbind
};

struct ims_device {
    const char *path;         // /dev/...
    char type;                // 'c', 'b', 'u', 'p'
    unsigned int major, minor;
    unsigned int mode;        // permission bits
    unsigned int uid, gid;
};

struct ims_rlimit { int resource; uint64_t soft, hard; const char *name; };

struct ims_hook {
    const char *path;
    char *const *argv;        // NULL-terminated
    char *const *envp;        // NULL-terminated
    int timeout;              // seconds, 0 = none
};

struct ims_nspath { int type; const char *path; };   // CLONE_NEW* and a /proc/.../ns path

struct ims_sysctl { const char *path; const char *value; };  // path under /proc/sys

struct ims_config {
    int clone_flags;                 // CLONE_NEW* for new namespaces
    const struct ims_nspath *join;   // namespaces to join, in order (user first)
    int join_count;
    int exec_mode;                   // join an existing container: no rootfs, no fifo
    int unshare_cgroupns;            // new cgroup namespace, made after joining the cgroup

    // The container's cgroup, joined without the costly migration of a whole process
    // (cgroup_threadgroup_rwsem write lock, an RCU grace period): cgroup2 through
    // clone3(CLONE_INTO_CGROUP), each v1 hierarchy by the single-threaded child writing "0"
    // to its own `tasks` file.
    int cgroup_fd;                   // cgroup2 directory, -1: none
    const char *const *cgroup_tasks; // v1 `tasks` files (for messages)
    const int *cgroup_task_fds;      // ... opened for writing by the parent (paths may be hidden
    int cgroup_task_count;           //     once a mount namespace is joined)
    int timing;                      // send step timestamps with READY

    int stdio[3];                    // -1: inherit
    int terminal;                    // make a pty in the container
    const char *console_socket;      // send the pty master there; NULL: send to the parent
    unsigned short rows, cols;

    const char *rootfs;              // absolute
    int chroot_only;                 // no mount namespace of its own: chroot into rootfs and mount
                                     // nothing (the host's mount table is the container's)
    int exec_root_fd;                // exec mode: chroot to this directory (a container without a
                                     // mount namespace of its own), -1: none
    int rootfs_readonly;
    unsigned long root_propagation;  // applied to "/" before anything (default MS_SLAVE|MS_REC)
    unsigned long rootfs_propagation;// applied to "/" after pivot_root, 0 = none
    const char *hostname;
    const char *domainname;
    int setup_loopback;

    const struct ims_mount *mounts; int mount_count;
    int create_devices;              // default set + devices below
    const struct ims_device *devices; int device_count;
    const char *const *masked; int masked_count;
    const char *const *readonly; int readonly_count;
    const struct ims_sysctl *sysctls; int sysctl_count;
    const struct ims_rlimit *rlimits; int rlimit_count;

    int sync_hooks;                  // ask the parent to run prestart/createRuntime hooks
    const struct ims_hook *create_container_hooks; int create_container_count;
    const struct ims_hook *start_container_hooks; int start_container_count;

    unsigned int uid, gid;
    const unsigned int *additional_gids; int additional_gid_count;
    int set_umask; unsigned int umask;
    int set_caps;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int cap_last;
    int no_new_privs;
    const unsigned char *seccomp; size_t seccomp_len;  // struct sock_filter array (bytes)
    unsigned int seccomp_flags;
    int personality; int set_personality;

    const char *state_dir;           // holds exec.fifo (not in exec mode)
    const char *cwd;
    char *const *argv;
    char *const *envp;
    const char *path_env;            // PATH for the lookup of argv[0]

    int exec_detach;                 // exec mode: the process outlives the runtime (exec --detach)
    int preserve_fds;                // descriptors 3 .. 3+n-1 pass into the process (--preserve-fds)
};

enum ims_msg_type {
    IMS_MSG_GO = 1,          // parent -> child: continue (payload: state JSON for hooks)
    IMS_MSG_PID = 2,         // intermediate -> parent: the container's pid (value)
    IMS_MSG_HOOKS = 3,       // child -> parent: run prestart/createRuntime hooks now
    IMS_MSG_READY = 4,       // child -> parent: set up, waiting for start
    IMS_MSG_ERROR = 5,       // child -> parent: step failed (err, detail)
    IMS_MSG_PTY = 6,         // child -> parent: pty master attached (SCM_RIGHTS)
};

#define IMS_DETAIL_MAX 1024

struct ims_msg {
    int type;
    int err;                 // errno of the failed step, 0 when the detail says everything
    int value;               // pid for IMS_MSG_PID
    int notfound;            // 1: the program was not found; 2: found but it cannot be run (not executable, a directory)
    char detail[IMS_DETAIL_MAX];
};

/// Clones the container process. Returns its pid (or the intermediate's when joining
/// namespaces: the real pid then arrives as IMS_MSG_PID), or -errno. `sync_fd` is the child's end.
/// `*into_cgroup` is set to 1 when the child was placed in cgroup_fd by clone3, else 0 (the
/// caller must then add it).
pid_t ims_spawn(const struct ims_config *cfg, int sync_fd, int *into_cgroup);

/// Sends and receives one message (payload after the fixed part for GO). Return -errno on error,
/// 0 on EOF, else the bytes received.
int ims_send(int fd, const struct ims_msg *m, const void *payload, size_t payload_len);
ssize_t ims_recv(int fd, struct ims_msg *m, void *payload, size_t payload_cap, int *received_fd);

/// `start` on the exec fifo: opens `path` for reading without blocking (releasing the child
/// blocked in its open for writing) and waits up to timeout_ms until the child has exec'd (EOF).
/// Returns 1 when released, 2 when the child reported a failure instead ("E<errno> <detail>" or
/// "N<errno> <detail>" for a program not found, copied to `err`), 0 when it died, -errno.
int ims_fifo_release(const char *path, int timeout_ms, pid_t pid, char *err, size_t errcap);

/// Connects to the Unix socket at `path` and sends `fd` (a pseudo-terminal's master) over it with
/// SCM_RIGHTS, as runc's --console-socket does; 0 or -errno.
int ims_send_console(const char *path, int fd);

#ifdef __cplusplus
}
#endif
#endif
