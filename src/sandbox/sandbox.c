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
 * Every rule comes from a descriptor: the scope's roots, opened when the pod started
 * (sandbox-roots.c), and the walk around holes goes from them by openat, never by a path
 * that could be resolved again through a symlink a command made since.
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox-internal.h"

/* Newer than Debian 12's headers: the kernel's values, by ABI. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#        define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#        define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#        define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_FS_RESOLVE_UNIX
#        define LANDLOCK_ACCESS_FS_RESOLVE_UNIX (1ULL << 16) /* ABI 9 */
#endif
#define LL_RULE_NET_PORT 2 /* ABI 4 */
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
#        define TIOCLINUX 0x541C
#endif

#define LL_READ \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE                                                                                 \
        (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                         \
         LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                          \
         LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                            \
         LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | \
         LANDLOCK_ACCESS_FS_TRUNCATE)
#define LL_FILE_ONLY                                                  \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
         LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
         LANDLOCK_ACCESS_FS_IOCTL_DEV)

/*
 * The registry, to a pod: entries may be made, written and emptied, never read or listed,
 * and no folder of it removed or renamed, nor anything linked across it. So no pod reads a
 * token, and a socket stays in the entry of the process that listens on it (docs/sandbox.md).
 */
#define LL_REGISTRY                                                     \
        (LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |    \
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_WRITE_FILE | \
         LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_REMOVE_FILE)

/* Devices programs write to: read, write, and their ioctls. */
#define LL_DEVICE                                                       \
        (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
         LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define RULES_MAX 4096u /* entries granted one by one around holes */

/* Read-only system paths needed to run programs (docs/sandbox.md). */
static const char *const system_read[] = { "/usr",      "/bin",   "/sbin",        "/lib",
                                           "/lib32",    "/lib64", "/libx32",      "/etc",
                                           "/opt",      "/proc",  "/dev/urandom", "/dev/random",
                                           "/dev/zero", NULL };
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

/* Which seccomp filter a sandbox gets; each is generated once per process. */
typedef enum filter_kind {
        FILTER_POD, /* a pod; a delegate with network: full */
        FILTER_COMMAND_FULL, /* a Bash command with network: full */
        FILTER_COMMAND_OFFLINE, /* a Bash command without network: full */
        FILTER_DELEGATE_OFFLINE, /* a delegate CLI's processes without network: full */
        FILTER_KINDS
} filter_kind;

static filter_kind filter_for(const sandbox_spec *spec) {
        if (spec->command && spec->network == POD_NETWORK_FULL)
                return FILTER_COMMAND_FULL;
        if (spec->network == POD_NETWORK_FULL || (!spec->command && !spec->delegate))
                return FILTER_POD;
        return spec->command ? FILTER_COMMAND_OFFLINE : FILTER_DELEGATE_OFFLINE;
}

/*
 * From ABI 9, Landlock mediates connect() and sendmsg() to pathname Unix sockets: a sandbox
 * whose filter refuses Unix sockets (deny_unix_sockets) also handles that right and grants it
 * nowhere, so it reaches no socket made outside it even if one came its way.
 */
static __u64 unix_handled(int abi, const sandbox_spec *spec) {
        filter_kind k = filter_for(spec);

        return abi >= 9 && (k == FILTER_COMMAND_OFFLINE || k == FILTER_DELEGATE_OFFLINE) ?
                LANDLOCK_ACCESS_FS_RESOLVE_UNIX :
                0;
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
        pod_buf *notes;
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

/*
 * The pod's own paths (the registry, the pod executable), opened once per process like the
 * system paths: a path is looked up again only the first time it is granted.
 */
typedef struct own_path {
        char *path;
        int fd;
        bool dir;
} own_path;

#define OWN_MAX 8u
static own_path own_cache[OWN_MAX];

/* O_PATH without following a final symlink: a symlink there grants nothing. */
static int open_own(const char *path, bool *ret_dir) {
        struct stat st;
        int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
                close(fd);
                return -ELOOP;
        }
        *ret_dir = S_ISDIR(st.st_mode);
        return fd;
}

/* A cached descriptor of path (cache: once per process), or a fresh one; -errno. */
static int own_fd(const char *path, bool cache, bool *ret_dir, bool *ret_fresh) {
        int fd;

        *ret_fresh = false;
        pthread_mutex_lock(&sys_lock);
        for (size_t i = 0; cache && i < OWN_MAX && own_cache[i].path; i++)
                if (strcmp(own_cache[i].path, path) == 0) {
                        *ret_dir = own_cache[i].dir;
                        fd = own_cache[i].fd;
                        pthread_mutex_unlock(&sys_lock);
                        return fd;
                }
        fd = open_own(path, ret_dir);
        for (size_t i = 0; cache && fd >= 0 && i < OWN_MAX; i++)
                if (!own_cache[i].path) {
                        own_cache[i] = (own_path){ strdup(path), fd, *ret_dir };
                        if (own_cache[i].path) {
                                pthread_mutex_unlock(&sys_lock);
                                return fd;
                        }
                        break;
                }
        pthread_mutex_unlock(&sys_lock);
        *ret_fresh = fd >= 0;
        return fd;
}

/*
 * One path_beneath rule on one of the pod's own paths; a path that does not exist is skipped
 * (nothing to reach there), a symlink refused. cache: the path stays for the process.
 */
static int add_rule(builder *b, const char *path, __u64 access, bool cache) {
        bool dir = false, fresh;
        int fd, r;

        if (!(access & b->handled))
                return 0;
        fd = own_fd(path, cache, &dir, &fresh);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -EACCES)
                return 0;
        if (fd < 0)
                return pod_error_set(b->err, fd, "sandbox: cannot open %s: %s", path,
                                     fd == -ELOOP ? "it is a symlink" : strerror(-fd));
        r = add_rule_fd(b, fd, dir, path, access);
        if (fresh)
                close(fd);
        return r;
}

static int grant_entries(builder *b, int fd, const char *path, pod_access a, unsigned depth);

/*
 * What an entry beside the way to a hole may get. A rule is on an inode, so a file with a
 * second name (a hard link) would take its rights to that name too, under the hole
 * (docs/sandbox.md, Holes): it gets no more than the most closed hole.
 */
static pod_access beside(const builder *b, const struct stat *st, pod_access a) {
        if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
                return a;
        for (size_t i = 0; i < b->n_holes; i++)
                if (b->holes[i].level < a)
                        a = b->holes[i].level;
        return a;
}

/* Grant a on the object at fd (named path), less wherever a hole lies at or beneath it. */
static int grant(builder *b, int fd, bool dir, const char *path, pod_access a, unsigned depth) {
        pod_access least = a;
        bool below = false;

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
                return a > POD_ACCESS_NONE ? add_rule_fd(b, fd, dir, path, rights(a)) : 0;
        if (depth > 64)
                return pod_error_set(b->err, -ELOOP, "sandbox: %s is too deep", path);
        if (least > POD_ACCESS_NONE) {
                int r = add_rule_fd(b, fd, dir, path, rights(least));
                if (r < 0)
                        return r;
        }
        return dir ? grant_entries(b, fd, path, a, depth) : 0;
}

/*
 * Each entry of the directory at fd, granted a (down to the holes). Opened by name relative
 * to the directory, never following a symlink: the walk cannot be led out of the tree.
 */
static int grant_entries(builder *b, int fd, const char *path, pod_access a, unsigned depth) {
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return 0; /* unreadable or gone: the hole's level holds */
        }
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                struct stat st;
                int sfd;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                sub = path_join(path, de->d_name);
                if (!sub) {
                        r = pod_error_set(b->err, -ENOMEM, "out of memory");
                        break;
                }
                sfd = openat(dirfd(d), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0)
                        continue; /* gone since: nothing to grant */
                /* A symlink's own inode grants nothing: its target's place decides. */
                if (fstat(sfd, &st) == 0 && !S_ISLNK(st.st_mode))
                        r = grant(b, sfd, S_ISDIR(st.st_mode), sub, beside(b, &st, a), depth + 1);
                close(sfd);
        }
        closedir(d);
        return r;
}

/* A rule that cannot be built as it was opened: a note (a command), or a refusal (a pod). */
static int drop(builder *b, const scope_rule *rule, const char *why) {
        if (!b->notes)
                return pod_error_set(b->err, -ELOOP,
                                     "sandbox: scope rule %s:%s cannot be granted: %s",
                                     access_to_string(rule->access), rule->path, why);
        buf_printf(b->notes, "scope rule %s:%s was dropped: %s\n", access_to_string(rule->access),
                   rule->path, why);
        return 0;
}

#define NOT_NAMED "the path no longer names what it named when the pod started"

/*
 * One allow rule, from the descriptor of the root that holds it, opened when the pod
 * started: the root's own (the rule is a root), or opened beneath it without symlinks.
 * The root's path is checked to name the same object still, so a swap is seen and said.
 */
/* recursive: false names one file (docs/spawnpod.md); the kernel would grant a directory whole. */
#define NOW_A_DIR "it names one file (recursive: false) and is now a directory"

static int grant_rule(builder *b, const sandbox_roots *roots, const scope_rule *rule) {
        const sandbox_root *root = roots_find(roots, rule->path);
        bool own = root && strcmp(root->path, rule->path) == 0;
        struct stat st;
        int fd, r;

        if (root && (root->error == ENOENT || root->error == EACCES))
                return 0; /* nothing it could reach when it started: no rule, as in its own */
        if (!root)
                return drop(b, rule, "it is not within a rule the pod opened when it started");
        if (root->fd < 0)
                return drop(b, rule,
                            root->error == ELOOP ?
                                    "its path led through a symlink when the pod started" :
                                    "the pod could not open it when it started");
        if (!root_still_named(root))
                return drop(b, rule, own ? NOT_NAMED : "the rule that holds it: " NOT_NAMED);
        if (own && !rule->recursive && root->dir)
                return drop(b, rule, NOW_A_DIR);
        if (own)
                return grant(b, root->fd, root->dir, rule->path, rule->access, 0);
        fd = root_open_beneath(root, rule->path);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -EACCES)
                return 0;
        if (fd < 0)
                return drop(b, rule,
                            "it does not resolve beneath the rule that holds it without "
                            "a symlink");
        if (fstat(fd, &st) < 0)
                r = pod_error_set(b->err, -errno, "sandbox: %s: %s", rule->path, strerror(errno));
        else if (!rule->recursive && S_ISDIR(st.st_mode))
                r = drop(b, rule, NOW_A_DIR);
        else
                r = grant(b, fd, S_ISDIR(st.st_mode), rule->path, rule->access, 0);
        close(fd);
        return r;
}

static int add_port(builder *b, int port) {
        struct ll_net_port_attr attr = { LL_ACCESS_NET_CONNECT_TCP, (__u64) port };

        if (syscall(__NR_landlock_add_rule, b->fd, LL_RULE_NET_PORT, &attr, 0) < 0)
                return pod_error_set(b->err, -errno, "sandbox: Landlock refused port %d: %s", port,
                                     strerror(errno));
        return 0;
}

/* The scope's deny rules and the spec's leases, as holes (holes[] has room for both). */
static size_t make_holes(hole *holes, const sandbox_spec *spec) {
        const pod_scope *sc = spec->scope;
        size_t k = 0;

        for (size_t i = 0; sc && i < sc->n_deny; i++)
                holes[k++] = (hole){ sc->deny[i].path, sc->deny[i].recursive,
                                     sc->deny[i].access == POD_ACCESS_WRITE ? POD_ACCESS_READ :
                                                                              POD_ACCESS_NONE };
        /* A lease is its path's whole tree, as the kernel grants it to the child (§14). */
        for (size_t i = 0; i < spec->n_leases; i++)
                holes[k++] = (hole){ spec->leases[i].path, true, POD_ACCESS_READ };
        return k;
}

/* The scope's allow rules, from the roots opened when the pod started (or now, without). */
static int add_scope(builder *b, const sandbox_spec *spec) {
        _cleanup_(sandbox_roots_freep) sandbox_roots *now = NULL;
        const sandbox_roots *roots = spec->roots;
        const pod_scope *sc = spec->scope;
        int r = 0;

        if (!sc || !sc->n_allow)
                return 0;
        if (!roots) {
                r = sandbox_roots_open(&now, sc, b->err);
                roots = now;
        }
        for (size_t i = 0; r >= 0 && i < sc->n_allow; i++)
                r = grant_rule(b, roots, &sc->allow[i]);
        return r;
}

/* The system paths, the pod's own paths and its registry. */
static int add_fixed(builder *b, const sandbox_spec *spec) {
        int r = 0;

        open_system_paths();
        for (size_t i = 0; r >= 0 && system_read[i]; i++)
                if (sys_read_fd[i].fd >= 0)
                        r = add_rule_fd(b, sys_read_fd[i].fd, sys_read_fd[i].dir, system_read[i],
                                        LL_READ);
        for (size_t i = 0; r >= 0 && system_write[i]; i++)
                if (sys_write_fd[i].fd >= 0)
                        r = add_rule_fd(b, sys_write_fd[i].fd, sys_write_fd[i].dir, system_write[i],
                                        LL_DEVICE);
        if (r >= 0 && spec->tmp_fd > 0)
                r = add_rule_fd(b, spec->tmp_fd, true, "the temporary directory",
                                LL_READ | LL_WRITE);
        for (size_t i = 0; r >= 0 && spec->own_write && spec->own_write[i]; i++)
                r = add_rule(b, spec->own_write[i], LL_READ | LL_WRITE, false);
        for (size_t i = 0; r >= 0 && spec->own_read && spec->own_read[i]; i++)
                r = add_rule(b, spec->own_read[i], LL_READ, true);
        for (size_t i = 0; r >= 0 && spec->more_write && spec->more_write[i]; i++)
                r = add_rule(b, spec->more_write[i], LL_READ | LL_WRITE, false);
        for (size_t i = 0; r >= 0 && spec->more_read && spec->more_read[i]; i++)
                r = add_rule(b, spec->more_read[i], LL_READ, false);
        if (r >= 0 && spec->runtime_dir) {
                _cleanup_free_ char *pods = path_join(spec->runtime_dir, "pods");
                _cleanup_free_ char *lock = path_join(spec->runtime_dir, "registry.lock");
                r = pods && lock ? add_rule(b, pods, LL_REGISTRY, true) :
                                   pod_error_set(b->err, -ENOMEM, "out of memory");
                if (r >= 0) /* flock needs an open descriptor; the file is empty */
                        r = add_rule(b, lock,
                                     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE,
                                     true);
        }
        return r;
}

static int build_ruleset(pod_sandbox *sb, const sandbox_spec *spec, pod_error *err) {
        const pod_scope *sc = spec->scope;
        _cleanup_free_ hole *holes =
                calloc((sc ? sc->n_deny : 0) + spec->n_leases + 1, sizeof(*holes));
        struct ll_ruleset_attr attr = { .handled_access_fs =
                                                fs_handled(sb->abi) | unix_handled(sb->abi, spec) };
        builder b = { .fd = -1,
                      .handled = attr.handled_access_fs,
                      .holes = holes,
                      .notes = spec->notes,
                      .err = err };
        int r;

        if (!holes)
                return pod_error_set(err, -ENOMEM, "out of memory");
        b.n_holes = make_holes(holes, spec);
        if (sb->abi >= 4 && spec->network != POD_NETWORK_FULL)
                attr.handled_access_net = LL_ACCESS_NET_BIND_TCP | LL_ACCESS_NET_CONNECT_TCP;
        if (sb->abi >= 6)
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        b.fd = ll_create(&attr, sizeof(attr), 0);
        if (b.fd < 0)
                return pod_error_set(err, -errno, "sandbox: cannot create a Landlock ruleset: %s",
                                     strerror(errno));
        r = add_scope(&b, spec);
        if (r >= 0)
                r = add_fixed(&b, spec);
        if (r >= 0 && attr.handled_access_net && spec->network == POD_NETWORK_MODEL_ONLY &&
            spec->model_port > 0)
                r = add_port(&b, spec->model_port);
        for (size_t i = 0; r >= 0 && attr.handled_access_net &&
             spec->network == POD_NETWORK_MODEL_ONLY && spec->child_ports[i] > 0;
             i++)
                r = add_port(&b, spec->child_ports[i]);
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

/*
 * Unix sockets, without network: full (docs/sandbox.md). Landlock mediates connect() and
 * sendmsg() to a pathname socket only from ABI 9 (RESOLVE_UNIX), and abstract ones only from
 * ABI 6, so here the process may hold no Unix socket that can name an address. seccomp cannot
 * read the address a call names; what it refuses is every way to get such a socket:
 * - socket(): of every family for a command (it needs none); for a delegate, of every family
 *   but AF_INET and AF_INET6: it needs TCP to its model (Landlock's port rules hold that)
 *   and UDP to resolve its name (deny_families).
 * - socketpair(): AF_UNIX and SOCK_STREAM only. A datagram pair can be connected again, or
 *   sent through to an address; a connected stream socket can be neither (EISCONN), and
 *   asyncio, subprocess helpers and multiprocessing pipes use such pairs. The type's low
 *   four bits (SOCK_TYPE_MASK) are the type, the rest flags: each of the four bits is
 *   checked, so no type but SOCK_STREAM (1) passes, whatever SOCK_NONBLOCK/SOCK_CLOEXEC.
 * - a command besides: connect(), and sendto() with an address, in case a socket ever
 *   reaches it from elsewhere (sendmsg's address is in memory; the kernel refuses one on a
 *   connected stream socket).
 */
/*
 * socket() of any family but AF_INET (2) and AF_INET6 (10). The kernel reads the family as an
 * int, so a value with high bits set would pass a 32-bit comparison as AF_UNIX: anything
 * above AF_INET6 in all 64 bits is refused at once, and each value below it but AF_INET.
 */
static int deny_families(scmp_filter_ctx ctx) {
        struct scmp_arg_cmp above = SCMP_A0(SCMP_CMP_GT, AF_INET6);
        int r = deny(ctx, SCMP_SYS(socket), 1, &above);

        for (int f = 0; r >= 0 && f < AF_INET6; f++) {
                struct scmp_arg_cmp one = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) f);
                if (f != AF_INET)
                        r = deny(ctx, SCMP_SYS(socket), 1, &one);
        }
        return r;
}

static int deny_unix_sockets(scmp_filter_ctx ctx, filter_kind kind) {
        const struct scmp_arg_cmp not_stream[] = { SCMP_A1(SCMP_CMP_MASKED_EQ, 1, 0),
                                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 2, 2),
                                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 4, 4),
                                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 8, 8) };
        struct scmp_arg_cmp not_unix = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
        struct scmp_arg_cmp to_address = SCMP_A4(SCMP_CMP_NE, 0);
        int r = deny(ctx, SCMP_SYS(socketpair), 1, &not_unix);

        for (size_t i = 0; r >= 0 && i < POD_ARRAY_SIZE(not_stream); i++)
                r = deny(ctx, SCMP_SYS(socketpair), 1, &not_stream[i]);
        if (r >= 0 && kind == FILTER_DELEGATE_OFFLINE)
                return deny_families(ctx);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(socket), 0, NULL);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(connect), 0, NULL);
        if (r >= 0)
                r = deny(ctx, SCMP_SYS(sendto), 1, &to_address);
        return r;
}

/* The filter's program, exported by libseccomp into sb. */
static int export_filter(pod_sandbox *sb, scmp_filter_ctx ctx) {
        int r, mfd = memfd_create("pod-seccomp", MFD_CLOEXEC);
        struct stat st;

        if (mfd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, mfd);
        if (r >= 0 && fstat(mfd, &st) == 0 && st.st_size > 0 &&
            st.st_size % (off_t) sizeof(struct sock_filter) == 0) {
                sb->filter = malloc((size_t) st.st_size);
                if (sb->filter && pread(mfd, sb->filter, (size_t) st.st_size, 0) == st.st_size) {
                        sb->prog.len =
                                (unsigned short) (st.st_size / (off_t) sizeof(struct sock_filter));
                        sb->prog.filter = sb->filter;
                } else {
                        free(sb->filter);
                        sb->filter = NULL;
                        r = -EIO;
                }
        } else if (r >= 0)
                r = -EIO;
        close(mfd);
        return r;
}

static int generate_filter(pod_sandbox *sb, filter_kind kind, pod_error *err) {
        static const char *const denied[] = {
#ifndef __SANITIZE_ADDRESS__
                /* LeakSanitizer attaches to its own threads at exit; in sanitizer builds (tests
                 * only) ptrace is left to Landlock, which refuses it outside the domain. */
                "ptrace",
#endif
                "process_vm_readv",
                "process_vm_writev",
                "mount",
                "umount2",
                "pivot_root",
                "move_mount",
                "open_tree",
                "fsopen",
                "fsconfig",
                "fsmount",
                "fspick",
                "mount_setattr",
                "kexec_load",
                "kexec_file_load",
                "init_module",
                "finit_module",
                "delete_module",
                "bpf",
                "perf_event_open",
                "keyctl",
                "add_key",
                "request_key",
                "io_uring_setup",
                "io_uring_enter",
                "io_uring_register",
                "setns",
                "pidfd_getfd",
                "userfaultfd",
                "acct",
                "swapon",
                "swapoff",
                "reboot",
                "syslog",
                NULL
        };
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        struct scmp_arg_cmp userns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
        struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
        struct scmp_arg_cmp lnx = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX);
        int r = 0;

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
        if (r >= 0 && (kind == FILTER_COMMAND_OFFLINE || kind == FILTER_DELEGATE_OFFLINE))
                r = deny_unix_sockets(ctx, kind);
        /* A command stays in the session it was started in: what it leaves running cannot
         * hide from its pod's kill and reaping in a session of its own (contain.c). */
        if (r >= 0 && (kind == FILTER_COMMAND_FULL || kind == FILTER_COMMAND_OFFLINE))
                r = deny(ctx, SCMP_SYS(setsid), 0, NULL);
        if (r >= 0)
                r = export_filter(sb, ctx);
        seccomp_release(ctx);
        return r < 0 ? pod_error_set(err, r, "sandbox: cannot build the seccomp filter: %s",
                                     strerror(-r)) :
                       0;
}

/*
 * The filter depends on nothing but its kind, and libseccomp takes a good part of a Bash
 * command's start to generate it: each kind is generated once per process.
 */
static int build_filter(pod_sandbox *sb, filter_kind kind, pod_error *err) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static struct sock_filter *cache[FILTER_KINDS];
        static unsigned short cache_len[FILTER_KINDS];
        int r = 0;

        pthread_mutex_lock(&lock);
        if (!cache[kind]) {
                pod_sandbox fresh = { 0 };
                r = generate_filter(&fresh, kind, err);
                if (r >= 0) {
                        cache[kind] = fresh.filter;
                        cache_len[kind] = fresh.prog.len;
                }
        }
        if (r >= 0) {
                size_t size = cache_len[kind] * sizeof(struct sock_filter);
                sb->filter = malloc(size);
                if (sb->filter) {
                        memcpy(sb->filter, cache[kind], size);
                        sb->prog = (struct sock_fprog){ cache_len[kind], sb->filter };
                } else
                        r = pod_error_set(err, -ENOMEM, "out of memory");
        }
        pthread_mutex_unlock(&lock);
        return r;
}

/* ---- the whole -------------------------------------------------------------------------- */

static void clear(pod_sandbox *sb) {
        if (sb->ruleset_fd >= 0)
                close(sb->ruleset_fd);
        free(sb->filter);
        *sb = (pod_sandbox){ .ruleset_fd = -1 };
}

static int prepare(pod_sandbox *sb, const sandbox_spec *spec, pod_error *err) {
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
        if (r >= 0 && !(!spec->command && !spec->delegate && self_filtered))
                r = build_filter(sb, filter_for(spec), err);
        if (r < 0)
                clear(sb);
        return r;
}

int sandbox_prepare(pod_sandbox **out, const sandbox_spec *spec, pod_error *err) {
        _cleanup_free_ pod_sandbox *sb = malloc(sizeof(*sb));
        int r;

        if (!sb)
                return pod_error_set(err, -ENOMEM, "out of memory");
        r = prepare(sb, spec, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(sb);
        return 0;
}

pod_sandbox *sandbox_free(pod_sandbox *sb) {
        if (sb) {
                clear(sb);
                free(sb);
        }
        return NULL;
}

int sandbox_ruleset_fd(const pod_sandbox *sb) {
        return sb->ruleset_fd;
}

unsigned long sandbox_nproc(const pod_sandbox *sb) {
        return sb->nproc;
}

void sandbox_drop_filter(pod_sandbox *sb) {
        sb->prog.len = 0;
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
        prctl(PR_SET_SECUREBITS,
              SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                      SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
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

/* Does NO_PROXY (libcurl's reading: "*", or host names and domain suffixes, commas between)
 * send host past the proxy? */
static bool no_proxy_covers(const char *list, const char *host) {
        size_t hl = strlen(host);

        while (list && *list) {
                size_t n;
                list += strspn(list, ", ");
                n = strcspn(list, ", ");
                if (n == 1 && *list == '*')
                        return true;
                if (n > 0 && *list == '.') { /* ".example.com" is "example.com" */
                        list++;
                        n--;
                }
                if (n > 0 && n <= hl && strncasecmp(host + hl - n, list, n) == 0 &&
                    (n == hl || host[hl - n - 1] == '.'))
                        return true;
                list += n;
        }
        return false;
}

/* The port of a proxy URL as libcurl reads it: explicit, else 443 for https://, else 1080. */
static int proxy_port(const char *proxy) {
        const char *host = strstr(proxy, "://"), *at, *colon, *end;
        int port;

        host = host ? host + 3 : proxy;
        end = host + strcspn(host, "/?#");
        at = memchr(host, '@', (size_t) (end - host));
        if (at)
                host = at + 1;
        colon = *host == '[' ? strstr(host, "]:") : strchr(host, ':');
        if (colon && colon < end) {
                colon += *host == '[' ? 2 : 1;
                port = atoi(colon);
                return port > 0 && port < 65536 ? port : 0;
        }
        return str_startswith(proxy, "https://") ? 443 : 1080;
}

static const char *env_either(const char *a, const char *b) {
        const char *v = getenv(a);

        return v && *v ? v : getenv(b);
}

/* The TCP port a pod connects to for a model at endpoint ep: the endpoint's, or its proxy's
 * when HTTPS_PROXY (http_proxy for http://) sends it there, as libcurl decides. */
static int endpoint_model_port(const pod_endpoint *ep) {
        const char *proxy =
                ep->tls ? env_either("https_proxy", "HTTPS_PROXY") : getenv("http_proxy");

        if (!proxy || !*proxy)
                proxy = env_either("all_proxy", "ALL_PROXY");
        if (proxy && *proxy && !no_proxy_covers(env_either("no_proxy", "NO_PROXY"), ep->host))
                return proxy_port(proxy);
        return ep->port;
}

/* The same for an endpoint URL (a profile's, for a child), 0 when it does not parse. */
static int url_model_port(const char *url) {
        pod_endpoint ep = { 0 };
        int port;

        if (!url || endpoint_parse(&ep, url, NULL) < 0)
                return 0;
        port = endpoint_model_port(&ep);
        endpoint_done(&ep);
        return port;
}

/* The model port of the view's endpoint (parsed once, by the view), 0 without one. */
int sandbox_model_port(const manifest_view *v) {
        assert(v);
        return v->model.endpoint_url ? endpoint_model_port(&v->model.endpoint) : 0;
}

/* ports (0-terminated) not yet in to, added while there is room. */
static void add_ports(int *to, const int *ports) {
        size_t n = 0;

        while (n < SANDBOX_CHILD_PORTS_MAX && to[n] > 0)
                n++;
        for (size_t i = 0; ports[i] > 0 && n < SANDBOX_CHILD_PORTS_MAX; i++) {
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        seen |= to[j] == ports[i];
                if (!seen)
                        to[n++] = ports[i];
        }
}

/* The model ports of the profiles m's snapshot holds, besides m's own (DESIGN §9), when m
 * may start children (SpawnPod). */
static void child_model_ports(int *ports, const manifest_view *v, int own) {
        profile_set *s = NULL;
        size_t n = 0, i;

        if (!manifest_view_has_tool(v, "SpawnPod"))
                return;
        if (profile_set_from_snapshot(&s, v->profiles, v->cwd, NULL) < 0)
                return;
        for (i = 0; i < profile_set_count(s) && n < SANDBOX_CHILD_PORTS_MAX; i++) {
                const pod_profile *p = profile_set_get(s, i)->profile;
                model_spec spec = { 0 };
                int port = 0;
                if (p && p->model && model_spec_parse(&spec, p->model, NULL) >= 0 &&
                    spec.provider->takes_endpoint)
                        port = url_model_port(p->endpoint ?: spec.provider->default_endpoint);
                model_spec_done(&spec);
                bool seen = port == own;
                for (size_t j = 0; j < n; j++)
                        seen |= ports[j] == port;
                if (port > 0 && !seen)
                        ports[n++] = port;
        }
        profile_set_free(s);
}

int sandbox_pod(pod_sandbox **out,
                const manifest_view *v,
                const sandbox_roots *within,
                const char *run_dir,
                const char *exe,
                const char *runtime_dir,
                const sandbox_extra *extra,
                pod_error *err) {
        /* The CA bundle an operator names for the model's TLS (SSL_CERT_FILE, CURL_CA_BUNDLE),
         * by its real path: the system store is under /etc and /usr already. */
        const char *ca = env_either("SSL_CERT_FILE", "CURL_CA_BUNDLE");
        _cleanup_free_ char *ca_real = ca && *ca ? realpath(ca, NULL) : NULL;
        const char *own_write[] = { run_dir, NULL }, *own_read[] = { exe, ca_real, NULL };
        sandbox_spec spec = { .scope = &v->scope,
                              .roots = within,
                              .own_write = own_write,
                              .own_read = own_read,
                              .network = v->network,
                              .runtime_dir = runtime_dir,
                              .model_port = sandbox_model_port(v) };

        child_model_ports(spec.child_ports, v, spec.model_port);
        if (extra) {
                spec.more_read = extra->read_paths;
                spec.more_write = extra->write_paths;
                add_ports(spec.child_ports, extra->ports);
        }
        return sandbox_prepare(out, &spec, err);
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

int sandbox_confine_self(const manifest_view *v,
                         const char *run_dir,
                         const char *exe,
                         const char *runtime_dir,
                         const sandbox_extra *extra,
                         pod_error *err) {
        pod_sandbox *sb;
        int r, threads = count_threads();

        /* Landlock confines the calling thread and those it starts: it must be the only one. */
        if (threads != 1)
                return pod_error_set(err, -EBUSY,
                                     "sandbox: %d threads already run, so this pod cannot be "
                                     "confined as a whole; refusing to run it",
                                     threads);
        r = sandbox_pod(&sb, v, NULL, run_dir, exe, runtime_dir, extra, err);
        if (r < 0)
                return r;
        r = -contain_cgroup_grant_self(sb->ruleset_fd); /* its cgroup, where it made one */
        if (r == 0)
                r = sandbox_apply(sb);
        self_filtered = self_filtered || (r == 0 && sb->prog.len > 0);
        sandbox_free(sb);
        if (r != 0)
                return pod_error_set(err, -r, "sandbox: cannot confine this pod: %s", strerror(r));
        return 0;
}

void sandbox_adopted(void) {
        self_filtered = self_filtered || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}
