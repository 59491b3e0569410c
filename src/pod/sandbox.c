/* SPDX-License-Identifier: MIT */
/*
 * The kernel sandbox (DESIGN §14): a Landlock ruleset and a seccomp filter, both prepared
 * in the parent (allocation, directory walks, BPF generation by libseccomp), then applied by
 * sandbox_apply() with nothing but system calls, so it can run between clone and exec.
 *
 * Landlock only allows; it cannot carve a hole in a granted tree. A deny rule, or a write
 * lease held by a child, inside an allowed directory is therefore built by granting the
 * directory itself only what holds everywhere beneath it, and each entry beside the path to
 * the hole the full access, down to the hole (see docs/sandbox.md for what that costs).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "pod.h"

/* Newer than Debian 12's headers: the kernel's values, by ABI. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#define LL_RULE_NET_PORT 2                    /* ABI 4 */
#define LL_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LL_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
        __u64 handled_access_fs;
        __u64 handled_access_net;
        __u64 scoped;
};

struct ll_net_port_attr {
        __u64 allowed_access;
        __u64 port;
};

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

#define LL_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE                                                                                   \
        (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                           \
         LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                            \
         LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
         LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
#define LL_FILE_ONLY                                                                               \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
         LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/*
 * The registry, to a pod: entries may be made, written and emptied, never read or listed,
 * and no folder of it removed or renamed, nor anything linked across it. So no pod reads a
 * token, and a socket stays in the entry of the process that listens on it (docs/sandbox.md).
 */
#define LL_REGISTRY                                                                                \
        (LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |  \
         LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_REMOVE_FILE)

/* Devices programs write to: read, write, and their ioctls. */
#define LL_DEVICE                                                                                  \
        (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define RULES_MAX 4096u /* entries granted one by one around holes */

/* Read-only system paths needed to run programs (docs/sandbox.md). */
static const char *const system_read[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                           "/libx32", "/etc", "/opt", "/proc", "/dev/urandom",
                                           "/dev/random", "/dev/zero", NULL };
/* Devices programs write to. */
static const char *const system_write[] = { "/dev/null", "/dev/full", "/dev/tty", NULL };

/*
 * The system paths, opened (O_PATH) once per process: every spawn grants them, and opening
 * them again each time was a good part of preparing a sandbox. A path missing at the first
 * spawn stays missing (-1) for the process.
 */
typedef struct sys_path {
        int fd;
        bool dir;
} sys_path;

static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static sys_path sys_read_fd[sizeof(system_read) / sizeof(system_read[0])];
static sys_path sys_write_fd[sizeof(system_write) / sizeof(system_write[0])];
static bool sys_opened;

static void open_paths(sys_path *out, const char *const *paths) {
        struct stat st;

        for (size_t i = 0; paths[i]; i++) {
                out[i].fd = open(paths[i], O_PATH | O_CLOEXEC);
                out[i].dir = out[i].fd >= 0 && fstat(out[i].fd, &st) == 0 && S_ISDIR(st.st_mode);
        }
}

static void open_system_paths(void) {
        pthread_mutex_lock(&sys_lock);
        if (!sys_opened) {
                open_paths(sys_read_fd, system_read);
                open_paths(sys_write_fd, system_write);
                sys_opened = true;
        }
        pthread_mutex_unlock(&sys_lock);
}

/* The pod filter is on this process already (sandbox_confine_self, or inherited as an adopted
 * child): its children inherit it, and need not have it loaded again. */
static bool self_filtered;

static int ll_create(const struct ll_ruleset_attr *a, size_t size, __u32 flags) {
        return (int) syscall(__NR_landlock_create_ruleset, a, size, flags);
}

int sandbox_abi(void) {
        const char *fake = getenv("POD_SANDBOX_ABI"); /* test hook: can only lower it */
        int abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION), cap;

        if (abi < 0)
                abi = 0;
        if (fake && str_to_int(fake, &cap) == 0 && cap >= 0 && cap < abi)
                abi = cap;
        return abi;
}

static __u64 fs_handled(int abi) {
        __u64 h = LL_READ | LL_WRITE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK;

        if (abi < 2)
                h &= ~LANDLOCK_ACCESS_FS_REFER;
        if (abi < 3)
                h &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        return h;
}

/* ---- building the ruleset ------------------------------------------------------------------ */

typedef struct hole {
        const char *path;
        bool recursive;
        pod_access level; /* the most access allowed at and beneath it */
} hole;

typedef struct builder {
        int fd;
        __u64 handled;
        const hole *holes;
        size_t n_holes;
        size_t n_rules;
        pod_error *err;
} builder;

static bool beneath(const char *path, const char *dir) {
        size_t n = strlen(dir);

        if (strcmp(dir, "/") == 0)
                return path[0] == '/' && path[1] != '\0';
        return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static __u64 rights(pod_access a) {
        return a == POD_ACCESS_WRITE ? LL_READ | LL_WRITE : a == POD_ACCESS_READ ? LL_READ : 0;
}

/* One path_beneath rule on an open descriptor (of path, named in errors). */
static int add_rule_fd(builder *b, int fd, bool dir, const char *path, __u64 access) {
        struct landlock_path_beneath_attr attr = { 0 };

        access &= b->handled;
        if (!dir)
                access &= LL_FILE_ONLY;
        if (!access)
                return 0;
        attr.allowed_access = access;
        attr.parent_fd = fd;
        if (++b->n_rules > RULES_MAX)
                return pod_error_set(b->err, -E2BIG,
                                     "sandbox: more than %u rules are needed around the holes in "
                                     "the scope (near %s)",
                                     RULES_MAX, path);
        if (syscall(__NR_landlock_add_rule, b->fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
                return pod_error_set(b->err, -errno, "sandbox: Landlock refused a rule for %s: %s",
                                     path, strerror(errno));
        return 0;
}

/* One path_beneath rule; a path that does not exist is skipped (nothing to reach there). */
static int add_rule(builder *b, const char *path, __u64 access) {
        struct stat st;
        int fd, r;

        if (!(access & b->handled))
                return 0;
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == EACCES
                               ? 0
                               : pod_error_set(b->err, -errno, "sandbox: cannot open %s: %s", path,
                                               strerror(errno));
        r = add_rule_fd(b, fd, fstat(fd, &st) < 0 || S_ISDIR(st.st_mode), path, access);
        close(fd);
        return r;
}

/* Grant a at path, less wherever a hole lies at or beneath it. */
static int grant(builder *b, const char *path, pod_access a, unsigned depth) {
        pod_access least = a;
        bool below = false;
        DIR *d;
        struct dirent *de;
        int r = 0;

        for (size_t i = 0; i < b->n_holes; i++) {
                const hole *h = &b->holes[i];
                if (strcmp(h->path, path) == 0 || (h->recursive && beneath(path, h->path))) {
                        if (h->level < a)
                                a = h->level;
                } else if (beneath(h->path, path)) {
                        below = true;
                        if (h->level < least)
                                least = h->level;
                }
        }
        if (least > a)
                least = a;
        if (!below || least == a)
                return a > POD_ACCESS_NONE ? add_rule(b, path, rights(a)) : 0;
        if (depth > 64)
                return pod_error_set(b->err, -ELOOP, "sandbox: %s is too deep", path);
        if (least > POD_ACCESS_NONE && (r = add_rule(b, path, rights(least))) < 0)
                return r;
        d = opendir(path);
        if (!d)
                return 0; /* not a directory, or gone: the hole's level holds */
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;
                char *sub;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                sub = path_join(path, de->d_name);
                if (!sub) {
                        r = pod_error_set(b->err, -ENOMEM, "out of memory");
                        break;
                }
                /* A symlink's own inode grants nothing: its target's place decides. */
                if (lstat(sub, &st) == 0 && !S_ISLNK(st.st_mode))
                        r = grant(b, sub, a, depth + 1);
                free(sub);
        }
        closedir(d);
        return r;
}

static int add_port(builder *b, int port) {
        struct ll_net_port_attr attr = { LL_ACCESS_NET_CONNECT_TCP, (__u64) port };

        if (syscall(__NR_landlock_add_rule, b->fd, LL_RULE_NET_PORT, &attr, 0) < 0)
                return pod_error_set(b->err, -errno, "sandbox: Landlock refused port %d: %s", port,
                                     strerror(errno));
        return 0;
}

static int build_ruleset(pod_sandbox *sb, const sandbox_spec *spec, pod_error *err) {
        const pod_scope *sc = spec->scope;
        size_t n_holes = (sc ? sc->n_deny : 0) + spec->n_leases;
        hole *holes = calloc(n_holes + 1, sizeof(*holes));
        struct ll_ruleset_attr attr = { .handled_access_fs = fs_handled(sb->abi) };
        builder b = { .fd = -1, .handled = attr.handled_access_fs, .holes = holes, .err = err };
        size_t k = 0;
        int r = 0;

        if (!holes)
                return pod_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; sc && i < sc->n_deny; i++)
                holes[k++] = (hole){ sc->deny[i].path, sc->deny[i].recursive,
                                     sc->deny[i].access == POD_ACCESS_WRITE ? POD_ACCESS_READ
                                                                            : POD_ACCESS_NONE };
        for (size_t i = 0; i < spec->n_leases; i++)
                holes[k++] = (hole){ spec->leases[i].path, spec->leases[i].recursive, POD_ACCESS_READ };
        b.n_holes = k;
        if (sb->abi >= 4 && spec->network != POD_NETWORK_FULL)
                attr.handled_access_net = LL_ACCESS_NET_BIND_TCP | LL_ACCESS_NET_CONNECT_TCP;
        if (sb->abi >= 6)
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        b.fd = ll_create(&attr, sizeof(attr), 0);
        if (b.fd < 0) {
                free(holes);
                return pod_error_set(err, -errno, "sandbox: cannot create a Landlock ruleset: %s",
                                     strerror(errno));
        }
        for (size_t i = 0; sc && r >= 0 && i < sc->n_allow; i++)
                r = grant(&b, sc->allow[i].path, sc->allow[i].access, 0);
        open_system_paths();
        for (size_t i = 0; r >= 0 && system_read[i]; i++)
                if (sys_read_fd[i].fd >= 0)
                        r = add_rule_fd(&b, sys_read_fd[i].fd, sys_read_fd[i].dir, system_read[i],
                                        LL_READ);
        for (size_t i = 0; r >= 0 && system_write[i]; i++)
                if (sys_write_fd[i].fd >= 0)
                        r = add_rule_fd(&b, sys_write_fd[i].fd, sys_write_fd[i].dir,
                                        system_write[i], LL_DEVICE);
        for (size_t i = 0; r >= 0 && spec->own_write && spec->own_write[i]; i++)
                r = add_rule(&b, spec->own_write[i], LL_READ | LL_WRITE);
        for (size_t i = 0; r >= 0 && spec->own_read && spec->own_read[i]; i++)
                r = add_rule(&b, spec->own_read[i], LL_READ);
        if (r >= 0 && spec->runtime_dir) {
                _cleanup_free_ char *pods = path_join(spec->runtime_dir, "pods");
                _cleanup_free_ char *lock = path_join(spec->runtime_dir, "registry.lock");
                r = pods && lock ? add_rule(&b, pods, LL_REGISTRY) : pod_error_set(err, -ENOMEM,
                                                                                   "out of memory");
                if (r >= 0) /* flock needs an open descriptor; the file is empty */
                        r = add_rule(&b, lock, LANDLOCK_ACCESS_FS_READ_FILE |
                                                       LANDLOCK_ACCESS_FS_WRITE_FILE);
        }
        if (r >= 0 && attr.handled_access_net && spec->network == POD_NETWORK_MODEL_ONLY &&
            spec->model_port > 0)
                r = add_port(&b, spec->model_port);
        free(holes);
        if (r < 0) {
                close(b.fd);
                return r;
        }
        /* Above the descriptors a spawn hands over, so moving those never clobbers it. */
        sb->ruleset_fd = fcntl(b.fd, F_DUPFD_CLOEXEC, 64);
        close(b.fd);
        if (sb->ruleset_fd < 0)
                return pod_error_set(err, -errno, "sandbox: %s", strerror(errno));
        return 0;
}

/* ---- the seccomp filter --------------------------------------------------------------------- */

static int deny(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp) {
        if (nr == __NR_SCMP_ERROR)
                return 0; /* not on this architecture */
        return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, n, cmp);
}

static int generate_filter(pod_sandbox *sb, bool commands_offline, pod_error *err) {
        static const char *const denied[] = {
#ifndef __SANITIZE_ADDRESS__
                /* LeakSanitizer attaches to its own threads at exit; in sanitizer builds (tests
                 * only) ptrace is left to Landlock, which refuses it outside the domain. */
                "ptrace",
#endif
                "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
                "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
                "mount_setattr", "kexec_load", "kexec_file_load", "init_module", "finit_module",
                "delete_module", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
                "io_uring_setup", "io_uring_enter", "io_uring_register", "setns", "pidfd_getfd",
                "userfaultfd", "acct", "swapon", "swapoff", "reboot", "syslog", NULL
        };
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        struct scmp_arg_cmp userns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
        struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
        struct scmp_arg_cmp lnx = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX);
        struct scmp_arg_cmp inet = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
        int r = 0, mfd = -1;
        struct stat st;

        if (!ctx)
                return pod_error_set(err, -ENOMEM, "sandbox: seccomp_init failed");
        /* Another architecture's system calls (i386 int 0x80 on x86-64) end the process. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        for (size_t i = 0; r >= 0 && denied[i]; i++)
                r = deny(ctx, seccomp_syscall_resolve_name(denied[i]), 0, NULL);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(unshare), 1, &userns);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(clone), 1, &userns);
        /* clone3 hides its flags in memory: ENOSYS makes the C library fall back to clone. */
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(ioctl), 1, &sti);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(ioctl), 1, &lnx);
        if (r >= 0 && commands_offline)
                r = deny(ctx, SCMP_SYS(socket), 1, &inet);
        if (r >= 0) {
                mfd = memfd_create("pod-seccomp", MFD_CLOEXEC);
                r = mfd < 0 ? -errno : seccomp_export_bpf(ctx, mfd);
        }
        seccomp_release(ctx);
        if (r >= 0 && fstat(mfd, &st) == 0 && st.st_size > 0 &&
            st.st_size % (off_t) sizeof(struct sock_filter) == 0) {
                sb->filter = malloc((size_t) st.st_size);
                if (sb->filter && pread(mfd, sb->filter, (size_t) st.st_size, 0) == st.st_size) {
                        sb->prog.len = (unsigned short) (st.st_size / (off_t) sizeof(struct sock_filter));
                        sb->prog.filter = sb->filter;
                } else
                        r = -EIO;
        } else if (r >= 0)
                r = -EIO;
        if (mfd >= 0)
                close(mfd);
        return r < 0 ? pod_error_set(err, r, "sandbox: cannot build the seccomp filter: %s",
                                     strerror(-r))
                     : 0;
}

/*
 * The filter depends on nothing but commands_offline, and libseccomp takes a good part of a
 * Bash command's start to generate it: each variant is generated once per process.
 */
static int build_filter(pod_sandbox *sb, bool commands_offline, pod_error *err) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static struct sock_filter *cache[2];
        static unsigned short cache_len[2];
        int r = 0;

        pthread_mutex_lock(&lock);
        if (!cache[commands_offline]) {
                pod_sandbox fresh = { 0 };
                r = generate_filter(&fresh, commands_offline, err);
                if (r >= 0) {
                        cache[commands_offline] = fresh.filter;
                        cache_len[commands_offline] = fresh.prog.len;
                }
        }
        if (r >= 0) {
                size_t size = cache_len[commands_offline] * sizeof(struct sock_filter);
                sb->filter = malloc(size);
                if (sb->filter) {
                        memcpy(sb->filter, cache[commands_offline], size);
                        sb->prog = (struct sock_fprog){ cache_len[commands_offline], sb->filter };
                } else
                        r = pod_error_set(err, -ENOMEM, "out of memory");
        }
        pthread_mutex_unlock(&lock);
        return r;
}

/* ---- the whole -------------------------------------------------------------------------- */

int sandbox_prepare(pod_sandbox *sb, const sandbox_spec *spec, pod_error *err) {
        int r;

        *sb = (pod_sandbox){ .ruleset_fd = -1 };
        sb->abi = sandbox_abi();
        if (sb->abi < 1)
                return pod_error_set(err, -ENOSYS,
                                     "the kernel offers no Landlock (Linux 5.13 or later, with "
                                     "landlock in the lsm= list), so pod cannot confine this pod; "
                                     "it refuses to run it unconfined unless the operator sets "
                                     "POD_SANDBOX=off");
        {
                struct rlimit now;
                sb->nproc = spec->nproc ? spec->nproc : POD_NPROC_MAX;
                if (getrlimit(RLIMIT_NPROC, &now) == 0 && now.rlim_cur != RLIM_INFINITY &&
                    now.rlim_cur < sb->nproc)
                        sb->nproc = now.rlim_cur; /* never raised */
                sb->fsize = spec->fsize;
                if (sb->fsize && getrlimit(RLIMIT_FSIZE, &now) == 0 &&
                    now.rlim_cur != RLIM_INFINITY && now.rlim_cur < sb->fsize)
                        sb->fsize = now.rlim_cur; /* never raised */
        }
        r = build_ruleset(sb, spec, err);
        /* A pod's filter on a confined pod's child: inherited across clone and exec already
         * (seccomp filters cannot be removed), so loading it again would add nothing but
         * its cost, and one more filter every system call of a deep tree runs through. */
        if (r >= 0 && !(!spec->command && self_filtered))
                r = build_filter(sb, spec->command && spec->network != POD_NETWORK_FULL, err);
        if (r < 0)
                sandbox_done(sb);
        return r;
}

void sandbox_done(pod_sandbox *sb) {
        if (sb->ruleset_fd >= 0)
                close(sb->ruleset_fd);
        free(sb->filter);
        *sb = (pod_sandbox){ .ruleset_fd = -1 };
}

/* Only system calls on prepared memory: safe between clone(CLONE_VM) and exec. */
int sandbox_apply(const pod_sandbox *sb) {
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct none[2] = { { 0 } };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return errno;
        /*
         * Root inside keeps no capability, even across the exec of a setuid-root binary: the
         * sets emptied, and root made ordinary for exec for good (locked securebits; EPERM
         * without CAP_SETPCAP, when nothing is held). With no_new_privs, an exec gains
         * nothing from the bounding set either, so it is left alone: dropping it took a
         * system call per capability on every spawn.
         */
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                         SECBIT_NO_CAP_AMBIENT_RAISE |
                                         SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
              0, 0, 0);
        if (syscall(SYS_capset, &hdr, none) < 0)
                return errno;
        /* A fork bomb meets the limit (root excepted: the kernel does not count for it). */
        if (sb->nproc) {
                struct rlimit lim = { sb->nproc, sb->nproc };
                if (setrlimit(RLIMIT_NPROC, &lim) < 0)
                        return errno;
        }
        /* No file a command writes outgrows the pod's run dir cap: the bound of its private
         * TMPDIR while it runs (docs/sandbox.md). */
        if (sb->fsize) {
                struct rlimit lim = { sb->fsize, sb->fsize };
                if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
                        return errno;
        }
        if (syscall(__NR_landlock_restrict_self, sb->ruleset_fd, 0) < 0)
                return errno;
        if (sb->prog.len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sb->prog) < 0)
                return errno;
        return 0;
}

int sandbox_confine_hook(void *ud) {
        return sandbox_apply(ud);
}

/* ---- a pod process ---------------------------------------------------------------------- */

/* The TCP port of the model's endpoint (http[s]://host[:port]/...), 0 without one. */
int sandbox_model_port(const json_t *m) {
        const char *e = json_string_value(json_object_get(json_object_get(m, "model"), "endpoint"));
        const char *host, *end, *colon;
        bool tls;
        int port;

        if (!e)
                return 0;
        tls = str_startswith(e, "https://");
        if (!tls && !str_startswith(e, "http://"))
                return 0;
        host = e + (tls ? 8 : 7);
        end = host + strcspn(host, "/");
        colon = host[0] == '[' ? memchr(host, ']', (size_t) (end - host)) : host;
        colon = colon ? memchr(colon, ':', (size_t) (end - colon)) : NULL;
        if (!colon)
                return tls ? 443 : 80;
        port = 0;
        for (const char *p = colon + 1; p < end; p++) {
                if (*p < '0' || *p > '9' || port > 65535)
                        return 0;
                port = port * 10 + (*p - '0');
        }
        return port > 0 && port <= 65535 ? port : 0;
}

int sandbox_pod(pod_sandbox *sb, const json_t *m, const char *run_dir, const char *exe,
                const char *runtime_dir, pod_error *err) {
        const char *own_write[] = { run_dir, NULL }, *own_read[] = { exe, NULL };
        sandbox_spec spec = { .own_write = own_write, .own_read = own_read,
                              .runtime_dir = runtime_dir, .model_port = sandbox_model_port(m) };
        pod_scope scope = { 0 };
        int r;

        *sb = (pod_sandbox){ .ruleset_fd = -1 };
        if (network_from_string(&spec.network, json_string_value(json_object_get(m, "network"))) < 0)
                spec.network = POD_NETWORK_NONE;
        r = manifest_scope(&scope, m, err);
        if (r < 0)
                return r;
        spec.scope = &scope;
        r = sandbox_prepare(sb, &spec, err);
        scope_done(&scope);
        return r;
}

/* Threads of this process, from /proc/self/task. */
static int count_threads(void) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

int sandbox_confine_self(const json_t *m, const char *run_dir, const char *exe,
                         const char *runtime_dir, pod_error *err) {
        pod_sandbox sb;
        int r, threads = count_threads();

        /* Landlock confines the calling thread and those it starts: it must be the only one. */
        if (threads != 1)
                return pod_error_set(err, -EBUSY,
                                     "sandbox: %d threads already run, so this pod cannot be "
                                     "confined as a whole; refusing to run it",
                                     threads);
        r = sandbox_pod(&sb, m, run_dir, exe, runtime_dir, err);
        if (r < 0)
                return r;
        r = sandbox_apply(&sb);
        self_filtered = self_filtered || (r == 0 && sb.prog.len > 0);
        sandbox_done(&sb);
        if (r != 0)
                return pod_error_set(err, -r, "sandbox: cannot confine this pod: %s", strerror(r));
        return 0;
}

void sandbox_adopted(void) {
        self_filtered = self_filtered || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}
