/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * base: the helpers every other module stands on. Error values, cleanup attributes,
 * NULL-terminated string vectors, a growable text buffer, bounded file reading, UTF-8
 * checks, SHA-256, path helpers and the places on disk of DESIGN §3. Nothing here prints.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- macros ---------------------------------------------------------------------------- */

#define POD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _warn_unused_result_ __attribute__((warn_unused_result))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Hand a pointer out of a cleanup scope: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })
#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -EBADF;   \
                _fd_;            \
        })

/* Close fd (if >= 0) keeping errno; returns -EBADF, so `fd = safe_close(fd);`. A close that
 * fails with EBADF (a double close) is a programmer error: it asserts in debug builds. */
int safe_close(int fd);
/* Both ends of a pipe or socket pair; each becomes -EBADF. */
void safe_close_pair(int p[2]);
/*
 * Close every descriptor from `from` up, except those in except[0..n_except) (any order;
 * negative entries and those below from are ignored), with close_range(2). Async-signal-safe,
 * for a child between fork and exec. 0 or a negative errno.
 */
int close_all_fds(int from, const int *except, size_t n_except);
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* ---- errors ---------------------------------------------------------------------------- */

#define POD_ERROR_MAX 2048

/* One line describing a failure, written once by the function that knows the cause. */
typedef struct pod_error {
        int code; /* negative errno */
        char msg[POD_ERROR_MAX];
} pod_error;

/* Record a failure in err (which may be NULL) and return code (a negative errno). */
int pod_error_set(pod_error *err, int code, const char *fmt, ...) _printf_(3, 4);
int pod_error_setv(pod_error *err, int code, const char *fmt, va_list ap) _printf_(3, 0);
/* "where:line: message" (line 0: "where: message"). Returns code. */
int pod_error_at(pod_error *err, int code, const char *where, unsigned line, const char *fmt, ...)
        _printf_(5, 6);
/* "<message>: strerror(errno)" with code -errno (-EIO if errno is 0), returned:
 * `return pod_error_errno(err, "cannot open %s", path);` right after the failed call. */
int pod_error_errno(pod_error *err, const char *fmt, ...) _printf_(2, 3);
/* "out of memory", -ENOMEM, returned (inline: the caller's compiler sees the failure). */
static inline int pod_error_oom(pod_error *err) {
        pod_error_set(err, -ENOMEM, "out of memory");
        return -ENOMEM;
}
/* Prefix an existing message ("file: " + msg), keeping the code. Returns err->code. */
int pod_error_prefix(pod_error *err, const char *fmt, ...) _printf_(2, 3);

/* ---- string vectors (NULL-terminated char **) ------------------------------------------- */

size_t strv_length(char *const *l);
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
/* Append a copy of s. Returns 0 or -ENOMEM; l is unchanged on failure. */
int strv_push(char ***l, const char *s);
/* Append s itself (taking ownership on success only). */
int strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
bool strv_equal(char *const *a, char *const *b);
#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

/* ---- growable text buffer --------------------------------------------------------------- */

typedef struct pod_buf {
        char *data; /* always NUL-terminated once anything was appended */
        size_t len;
        size_t cap;
        bool oom; /* an append failed: the contents are incomplete */
} pod_buf;

int buf_append(pod_buf *b, const char *s, size_t n);
int buf_puts(pod_buf *b, const char *s);
int buf_printf(pod_buf *b, const char *fmt, ...) _printf_(2, 3);
/* The contents (never NULL), or NULL if an append ran out of memory. */
const char *buf_str(pod_buf *b);
/* Hand out the data (caller frees); the buffer is left empty. NULL after an OOM. */
char *buf_steal(pod_buf *b);
void buf_done(pod_buf *b);
static inline void buf_donep(pod_buf *b) {
        buf_done(b);
}
#define _cleanup_buf_ _cleanup_(buf_donep)

/* ---- strings ---------------------------------------------------------------------------- */

bool str_startswith(const char *s, const char *prefix);
/* A whole decimal int (no sign games, no trailing text): 0, or -EINVAL / -ERANGE. */
int str_to_int(const char *s, int *ret);
bool str_endswith(const char *s, const char *suffix);
/* Levenshtein distance of a and b over their first POD_EDIT_DISTANCE_MAX bytes (longer words
 * are far anyway): what "did you mean ..." suggestions rank by. */
#define POD_EDIT_DISTANCE_MAX 80u
size_t str_edit_distance(const char *a, const char *b);
/* True if s is valid UTF-8 without NUL bytes (over n bytes). */
bool utf8_valid(const char *s, size_t n);
/* Offset of the first invalid byte, or n if s is valid UTF-8 without NUL. */
size_t utf8_invalid_offset(const char *s, size_t n);
/* s[0..n) with each invalid byte and NUL replaced by U+FFFD; NULL when out of memory. */
char *utf8_clean(const char *s, size_t n);
/* A slug: [a-z0-9][a-z0-9._-]{0,63} (profile names, pod names). */
#define POD_SLUG_MAX 64
bool slug_valid(const char *s);
/* An environment variable name: [A-Za-z_][A-Za-z0-9_]{0,127}. */
bool env_name_valid(const char *s);
/* Copy n bytes of p (which need not be NUL-terminated) into a new NUL-terminated string. */
char *str_from_mem(const void *p, size_t n);
/* Quote s for a one-line message: control characters escaped, cut at max bytes. */
char *str_quote(const char *s, size_t max);

/* ---- files ------------------------------------------------------------------------------ */

/*
 * Read a whole regular file, at most max bytes, relative to dirfd (AT_FDCWD for absolute
 * paths). The result is NUL-terminated; *ret_len excludes the NUL. A larger file, a
 * non-regular file or a symlink loop is an error whose message names the path.
 */
int file_read_bounded(
        char **ret, size_t *ret_len, int dirfd, const char *path, size_t max, pod_error *err);

/* mkdir -p of an absolute path; created directories get mode. 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);
/* Read fd to its end, at most max bytes (-EFBIG past that); NUL-terminated. */
int fd_read_bounded(char **ret, size_t *ret_len, int fd, size_t max);
/* One read appended to b, once fd is readable by deadline: the bytes read (0: interrupted),
 * -ETIMEDOUT, -EPIPE at the end, -ENOMEM. */
int fd_read_more(pod_buf *b, int fd, long long deadline);
/* All of p written to a socket (no SIGPIPE) by deadline (mono_ms). 0 or a negative errno. */
int fd_send_all(int fd, const char *p, size_t n, long long deadline);
/*
 * What the tree under the directory path (relative to dirfd, AT_FDCWD or a directory's
 * descriptor, O_PATH included: "." for that directory itself) holds on disk (st_blocks, the
 * directories too), never following a symlink; -E2BIG past max_entries entries, -ELOOP past 64
 * levels.
 */
int dir_disk_usage(uint64_t *ret, int dirfd, const char *path, size_t max_entries);
/* Remove everything under the directory path (relative to dirfd, as above; not path
 * itself), never following a symlink, however deep. 0 or a negative errno. */
int dir_empty(int dirfd, const char *path);
/* Milliseconds on the monotonic clock. */
long long mono_ms(void);

/* ---- wall-clock time (time.c), always UTC ----------------------------------------------- */

#define POD_TIME_MAX 32
typedef enum pod_time_format {
        POD_TIME_ISO, /* 2026-12-03T12:40:24Z: transcripts, registry entries */
        POD_TIME_DATE, /* 2026-12-03: the date a system prompt gives */
        POD_TIME_STAMP, /* 20261203-124024: in file names */
} pod_time_format;
/* t (seconds since the epoch) as text in out; returns out ("" if t cannot be shown). */
const char *time_format(char out[POD_TIME_MAX], time_t t, pod_time_format f);
/* The time now, as time_format. */
const char *time_now(char out[POD_TIME_MAX], pod_time_format f);

/* ---- sha256 ----------------------------------------------------------------------------- */

#define SHA256_HEX_LEN 64
typedef struct sha256_ctx {
        uint32_t h[8];
        uint64_t total;
        unsigned char block[64];
        size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, unsigned char out[32]);
/* Lowercase hex digest of data into out (SHA256_HEX_LEN + 1 bytes). */
void sha256_hex(char out[SHA256_HEX_LEN + 1], const void *data, size_t n);

/* ---- paths ------------------------------------------------------------------------------ */

/* a + "/" + b, without doubling slashes. NULL on OOM. */
char *path_join(const char *a, const char *b);
/* True if path equals prefix or lies below it (component-wise; "/" is above everything). */
bool path_is_under(const char *path, const char *prefix);
/* Parent directory of an absolute canonical path ("/" for "/x", "/" for "/"). */
char *path_parent(const char *path);
/* Last component ("" for "/"). Points into path. */
const char *path_basename(const char *path);

/* ---- places on disk (DESIGN §3) -------------------------------------------------------- */

/*
 * The directories pod uses, computed from an environment (envp-style, NULL means the
 * process environment is not consulted). Every member is an absolute path.
 */
typedef struct pod_dirs {
        char *config_dir;
        char *data_dir;
        char *runtime_dir;
} pod_dirs;

/* Look a variable up in a NULL-terminated "K=V" array. */
const char *env_get(char *const *envp, const char *name);
int pod_dirs_from_env(pod_dirs *out, char *const *envp, uid_t uid, pod_error *err);
void pod_dirs_done(pod_dirs *d);

/* ---- the environment a process pod starts inherits (env.c) ----------------------------- */

/* The longest value a locale variable may have and still be passed on. */
#define POD_ENV_LOCALE_VALUE_MAX 256
/* entry ("NAME=value") is one of names (NULL-terminated; NULL: none). */
bool env_entry_named(const char *entry, const char *const *names);
/*
 * Whether a Bash command or a child pod inherits entry ("NAME=value"): PATH, HOME, USER,
 * LOGNAME, TZ, SHELL, TMPDIR, the locale variables by name (LANG, LANGUAGE, LC_ALL and
 * glibc's LC_ categories, never another LC_ name) with a value of at most
 * POD_ENV_LOCALE_VALUE_MAX bytes, and the names in extra (NULL-terminated; may be NULL).
 */
bool env_inherited(const char *entry, const char *const *extra);

/* ---- embedded resources ----------------------------------------------------------------- */

struct pod_embedded_file {
        const char *name; /* file name, e.g. "coder.md" */
        const char *data; /* NUL-terminated */
        size_t size;
};

/* ---- starting processes (proc.c): the one audited spawn path ------------------------------ */

/* Confinement (the sandbox) comes in as a hook, proc_plan.confine; base knows none. */

#define PROC_FDS_MAX 8u

typedef struct proc_plan {
        const char *path; /* the executable */
        char *const *argv;
        char *const *envp;
        const char *cwd; /* NULL: the parent's */
        int fds[PROC_FDS_MAX]; /* become descriptors 0..n_fds-1; every other one is closed */
        size_t n_fds;
        bool new_session; /* setsid: no controlling terminal, its own process group */
        int pdeathsig; /* 0, or the signal the child gets when its parent thread dies */
        /*
         * Run in the child just before execve, on memory shared with the parent: it may only
         * make system calls on data prepared beforehand (no malloc, no locks). Returns 0 or
         * an errno value.
         */
        int (*confine)(void *ud);
        void *confine_ud;
        /* A close-on-exec descriptor the hook needs (>= PROC_FDS_MAX), spared by the closing
         * of descriptors until exec; 0: none. */
        int confine_fd;
        /* When set: the child's start time (field 22 of /proc/<pid>/stat, 0 if unknown),
         * read by the child itself before exec. */
        unsigned long long *start_time;
        /* > 0: a cgroup.procs the child writes "0" to first, to start in that cgroup. */
        int cgroup_fd;
} proc_plan;

/* Field 22 (start time) of a /proc/<pid>/stat text; no allocation, safe before exec. */
int proc_stat_start_time(const char *stat, unsigned long long *ret);
/* The start time of a live process pid (read from /proc/<pid>/stat). */
int proc_start_time(long pid, unsigned long long *ret);

/* Start a process (clone with CLONE_VM|CLONE_VFORK, then exec). */
int proc_spawn(pid_t *ret_pid, const proc_plan *p, pod_error *err);
/* Wait up to timeout_ms for pid to exit; 1: reaped (*ret_status), 0: still running. */
int proc_wait(pid_t pid, int timeout_ms, int *ret_status);
/* SIGTERM, up to grace_ms for it to exit, then SIGKILL; always reaps. */
void proc_kill(pid_t pid, int grace_ms);

/* ---- containment (contain.c): processes a pod leaves running, DESIGN §14 ----------------- */

#define POD_STRAGGLERS_LISTED 8 /* processes a report names; the rest are counted */
#define POD_CONTAIN_ROUNDS 200 /* walks and kills before the survivors are reported */
#define POD_CONTAIN_WALK_MAX 16384u /* descendants one walk looks at */

/* How often a pod reaps the orphans it adopted (contain_reaper_start). */
#define POD_REAP_INTERVAL_MS 20

/* Start, once per process, the thread that reaps adopted orphans as they die (a subreaper
 * would otherwise collect their zombies until its next kill). After confinement. */
void contain_reaper_start(void);

typedef struct pod_stragglers {
        unsigned killed; /* processes killed */
        unsigned left; /* still alive after the last round */
        int error; /* a walk that failed: negative errno; 0: none */
        unsigned n_listed;
        struct {
                pid_t pid;
                char comm[16]; /* printable characters only */
        } listed[POD_STRAGGLERS_LISTED];
} pod_stragglers;

/* Make this process a child subreaper (PR_SET_CHILD_SUBREAPER), so an orphaned descendant,
 * one that left its process group and double-forked included, becomes its child. Refused
 * where the kernel keeps no children lists in /proc, without which no walk finds them. */
int contain_self(pod_error *err);
/*
 * Kill (SIGKILL, in rounds, until none is left or POD_CONTAIN_ROUNDS have passed) every
 * descendant of this process but the processes in keep and their own descendants, and reap
 * the zombies that were orphans of this process. Adds what it did to *report (which the
 * caller zeroes). Returns 0, or a negative errno (also in report->error) when /proc cannot
 * be walked.
 */
int contain_kill(pod_stragglers *report, const pid_t *keep, size_t n_keep);

/*
 * A cgroup v2 subtree per pod, where the pod can have one (docs/sandbox.md, Containment):
 * pids.max and memory.max per pod from POD_PIDS_MAX and POD_MEMORY_MAX, each a number or
 * "max" (memory: bytes, or with K, M, G or T), where the controllers are there.
 */
#define POD_PIDS_MAX_DEFAULT "4096"
#define POD_MEMORY_MAX_DEFAULT "8G"
typedef struct pod_cgroup_limits {
        char pids[24], memory[24]; /* as written to pids.max and memory.max */
        bool set; /* either set by the operator */
} pod_cgroup_limits;
/* The limits from envp (unset or empty: the defaults); a one-line error on a bad value. */
int contain_limits_from_env(pod_cgroup_limits *ret, char *const *envp, pod_error *err);
/*
 * This pod's cgroup: a top-level pod makes one in its own cgroup and moves into its leaf
 * (before it confines itself); a child takes the one its spawner made (POD_CGROUP in envp).
 * Never fails: returns NULL, or why there is none or what it lacks (for the pod's stderr).
 */
const char *
contain_cgroup_start(const char *name, bool top, const pod_cgroup_limits *lim, char *const *envp);
/* What the cgroups of earlier top-level pods killed outright held ("[killed ...]"), or NULL. */
const char *contain_cgroup_swept(void);
/* The pod's cgroup directory, or NULL: it has none. */
const char *contain_cgroup_path(void);
/* Grant this pod's own sandbox (ruleset_fd) its cgroup, before it is applied. */
int contain_cgroup_grant_self(int ruleset_fd);
/*
 * A child's cgroup, made in this pod's, with the limits: *ret_procs is its leaf's cgroup.procs
 * (write-only, for proc_plan.cgroup_fd) and POD_CGROUP goes into *env; the child's sandbox
 * (ruleset_fd >= 0) is granted the cgroup. *ret_procs is -1 where this pod has none.
 */
int contain_cgroup_child(
        const char *name, int ruleset_fd, int *ret_procs, char ***env, pod_error *err);
/* A child's lease returns: everything in its cgroup is killed (into *report), then removed. */
void contain_cgroup_end_child(const char *name, pod_stragglers *report);
/* The pod ends (after its children): what its cgroup still holds is killed; a top-level pod
 * leaves its cgroup and removes it. */
void contain_cgroup_end(pod_stragglers *report);
/* One line per fact of a report ("[killed 2 processes left running by <by>: pid 12 (sleep),
 * ...]"), nothing when there is none. */
void contain_describe(pod_buf *b, const pod_stragglers *s, const char *by);
