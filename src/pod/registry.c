/* SPDX-License-Identifier: MIT */
/*
 * The registry (DESIGN §8): one folder per pod under <runtime dir>/pods/, created with
 * mkdir as the reservation of the name, holding pod.json (written to a temporary file and
 * renamed into place, mode 0600, since it holds the pod's token). A pod is alive only if
 * its pid exists with the recorded start time, so a reused pid is not life. Dead entries
 * are reaped lazily: when a name is reserved and when the registry is listed.
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "pod.h"

#define POD_JSON_MAX (1024u * 1024u)
#define ORPHAN_RESERVATION_S 60 /* an entry without pod.json older than this is reaped */

struct pod_registry {
        char *dir;
        char *pods;
        char *lock;
};

static int check_private_dir(const char *dir, pod_error *err) {
        struct stat st;

        if (lstat(dir, &st) < 0)
                return pod_error_errno(err, "%s", dir);
        if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
                return pod_error_set(err, -ENOTDIR,
                                     "runtime dir %s is not a directory (a symlink "
                                     "is refused)",
                                     dir);
        if (st.st_uid != getuid())
                return pod_error_set(err, -EPERM,
                                     "runtime dir %s belongs to uid %u, not to you (uid %u); pod "
                                     "refuses it",
                                     dir, (unsigned) st.st_uid, (unsigned) getuid());
        if (st.st_mode & 077)
                return pod_error_set(err, -EPERM,
                                     "runtime dir %s has mode %04o; it must be 0700 (chmod 700 %s)",
                                     dir, (unsigned) (st.st_mode & 07777), dir);
        return 0;
}

int registry_open(pod_registry **out, const char *runtime_dir, pod_error *err) {
        pod_registry *reg;
        int r;

        assert(out && runtime_dir);
        if (!runtime_dir || runtime_dir[0] != '/')
                return pod_error_set(err, -EINVAL, "the runtime dir must be an absolute path");
        r = mkdir_p(runtime_dir, 0700);
        if (r < 0)
                return pod_error_set(err, r, "cannot create runtime dir %s: %s", runtime_dir,
                                     strerror(-r));
        r = check_private_dir(runtime_dir, err);
        if (r < 0)
                return r;
        reg = calloc(1, sizeof(*reg));
        if (!reg || !(reg->dir = strdup(runtime_dir)) ||
            !(reg->pods = path_join(runtime_dir, "pods")) ||
            !(reg->lock = path_join(runtime_dir, "registry.lock"))) {
                registry_free(reg);
                return pod_error_oom(err);
        }
        if (mkdir(reg->pods, 0700) < 0 && errno != EEXIST) {
                r = pod_error_errno(err, "%s", reg->pods);
                registry_free(reg);
                return r;
        }
        *out = reg;
        return 0;
}

pod_registry *registry_free(pod_registry *reg) {
        if (!reg)
                return NULL;
        free(reg->dir);
        free(reg->pods);
        free(reg->lock);
        free(reg);
        return NULL;
}

char *registry_path(const pod_registry *reg, const char *name, const char *file) {
        pod_buf b = { 0 };

        buf_printf(&b, "%s/%s%s%s", reg->pods, name, file ? "/" : "", file ? file : "");
        return buf_steal(&b);
}

/* ---- liveness -------------------------------------------------------------------------- */

bool registry_alive(long pid, unsigned long long start_time) {
        unsigned long long now;

        if (pid <= 0)
                return false;
        return proc_start_time(pid, &now) == 0 && now == start_time;
}

static bool entry_alive(const json_t *e) {
        return registry_alive(
                (long) json_integer_value(json_object_get(e, "pid")),
                (unsigned long long) json_integer_value(json_object_get(e, "start_time")));
}

/* ---- files ----------------------------------------------------------------------------- */

/*
 * The entry's text: entry itself, or, with key, entry without key and then key's member
 * given as JSON text already made (the spawner's list of children: it keeps each child's
 * record made, so a spawn beside 100 children does not dump them all again).
 */
static char *entry_text(json_t *entry, const char *key, const char *member) {
        _cleanup_free_ char *rest = NULL, *name = NULL;
        json_t *copy, *k;
        pod_buf b = { 0 };
        size_t n;

        if (!key)
                return json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
        copy = json_copy(entry); /* shallow: the members are shared, only key is left out */
        if (copy)
                json_object_del(copy, key);
        rest = copy ? json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(copy);
        k = json_string(key);
        name = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
        json_decref(k);
        n = rest ? strlen(rest) : 0;
        if (!name || n < 2 || rest[0] != '{')
                return NULL;
        buf_append(&b, rest, n - 1); /* without its closing brace */
        buf_puts(&b, n > 2 ? "," : "");
        buf_puts(&b, name);
        buf_puts(&b, ":");
        buf_puts(&b, member);
        buf_puts(&b, "}");
        return buf_steal(&b); /* NULL when an append failed */
}

static int write_entry(pod_registry *reg,
                       const char *name,
                       json_t *entry,
                       const char *key,
                       const char *member,
                       pod_error *err) {
        _cleanup_free_ char *path = registry_path(reg, name, "pod.json");
        _cleanup_free_ char *tmp = registry_path(reg, name, ".pod.json.tmp");
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        char when[POD_TIME_MAX];
        size_t len;

        if (!path || !tmp)
                return pod_error_oom(err);
        time_now(when, POD_TIME_ISO);
        json_object_set_new(entry, "updated", json_string(when));
        if (!json_object_get(entry, "created"))
                json_object_set_new(entry, "created", json_string(when));
        text = entry_text(entry, key, member);
        if (!text)
                return pod_error_oom(err);
        len = strlen(text);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        /* No fsync: the registry describes live processes, which a reboot ends anyway; the
         * rename alone gives readers a whole file. */
        if (fd < 0 || write(fd, text, len) != (ssize_t) len)
                return pod_error_errno(err, "%s", tmp);
        if (rename(tmp, path) < 0)
                return pod_error_errno(err, "%s", path);
        return 0;
}

int registry_update(pod_registry *reg, const char *name, json_t *entry, pod_error *err) {
        return write_entry(reg, name, entry, NULL, NULL, err);
}

int registry_update_member(pod_registry *reg,
                           const char *name,
                           json_t *entry,
                           const char *key,
                           const char *member,
                           pod_error *err) {
        return write_entry(reg, name, entry, key, member, err);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* What an entry holds (DESIGN §8); pod.json goes last, so an entry with one is whole. */
static const char *const entry_files[] = {
        "sock", "stderr.log", "result.json", ".result.json.tmp", ".pod.json.tmp", "pod.json", NULL
};

int registry_remove(pod_registry *reg, const char *name, pod_error *err) {
        _cleanup_free_ char *dir = registry_path(reg, name, NULL);
        _cleanup_close_ int dfd = -EBADF;

        if (!dir)
                return pod_error_oom(err);
        /*
         * By name, without listing the folder: a sandboxed pod may make and remove entries'
         * files but read none of them (docs/sandbox.md), and may not remove the folder
         * itself, which stays empty for the next holder of the name or for reaping.
         */
        dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : pod_error_errno(err, "cannot remove %s", dir);
        for (const char *const *f = entry_files; *f; f++)
                if (unlinkat(dfd, *f, 0) < 0 && errno != ENOENT)
                        return pod_error_errno(err, "cannot remove %s/%s", dir, *f);
        if (rmdir(dir) == 0 || errno == ENOENT || errno == EACCES || errno == EPERM)
                return 0;
        /* Something else was left in it: whoever may list the folder clears it. */
        if (nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT && errno != EACCES)
                return pod_error_errno(err, "cannot remove %s", dir);
        return 0;
}

int registry_read(
        json_t **out, bool *ret_alive, pod_registry *reg, const char *name, pod_error *err) {
        _cleanup_free_ char *path = registry_path(reg, name, "pod.json"), *text = NULL;
        json_t *j;
        json_error_t jerr;
        size_t len;
        int r;

        assert(out && reg && name);
        if (!slug_valid(name))
                return pod_error_set(err, -EINVAL, "'%s' is not a pod name", name);
        if (!path)
                return pod_error_oom(err);
        r = file_read_bounded(&text, &len, AT_FDCWD, path, POD_JSON_MAX, err);
        if (r == -ENOENT)
                return pod_error_set(err, -ENOENT, "no pod named '%s' is running", name);
        if (r < 0)
                return r;
        j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(j)) {
                json_decref(j);
                return pod_error_set(err, -EINVAL, "%s: %s", path, jerr.text);
        }
        if (ret_alive)
                *ret_alive = entry_alive(j);
        *out = j;
        return 0;
}

/* ---- reservation and reaping ------------------------------------------------------------- */

static int lock_registry(pod_registry *reg, pod_error *err) {
        int fd = open(reg->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return pod_error_errno(err, "%s", reg->lock);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        safe_close(fd); /* keeps errno */
                        return pod_error_errno(err, "%s", reg->lock);
                }
        return fd;
}

/* A folder without pod.json: what a removal by a sandboxed pod leaves, free to take. */
static bool entry_empty(pod_registry *reg, const char *name) {
        _cleanup_free_ char *path = registry_path(reg, name, "pod.json");
        struct stat st;

        return path && lstat(path, &st) < 0 && errno == ENOENT;
}

/* An entry whose pod.json cannot be read: empty (see entry_empty) or, after a while, broken.
 * Reservations write pod.json under the registry lock, so none is ever caught half made. */
static bool orphan_reservation(pod_registry *reg, const char *name) {
        _cleanup_free_ char *dir = registry_path(reg, name, NULL);
        struct stat st;

        if (entry_empty(reg, name))
                return true;
        return dir && lstat(dir, &st) == 0 && time(NULL) - st.st_mtime >= ORPHAN_RESERVATION_S;
}

/* Reap name's entry if its pod is gone. 1: reaped (or absent), 0: alive or unknown. */
static int reap_one(pod_registry *reg, const char *name) {
        _cleanup_free_ char *dir = registry_path(reg, name, NULL);
        json_t *e = NULL;
        bool alive = false;
        struct stat st;
        int r;

        if (!dir || lstat(dir, &st) < 0)
                return 1;
        r = registry_read(&e, &alive, reg, name, NULL);
        /* A sandboxed pod reads no entry: another's is taken, whatever its state. */
        if (r == -EACCES || r == -EPERM || (r < 0 && !orphan_reservation(reg, name)))
                return 0;
        json_decref(e);
        if (alive)
                return 0;
        registry_remove(reg, name, NULL);
        return 1;
}

/*
 * Every entry's pod.json, each read once; under the lock. With check_alive, each gets
 * "alive" and dead ones are reaped; without, none is checked (a pass that only needs
 * some entries' liveness checks those itself).
 */
static int read_all(json_t **out, pod_registry *reg, bool check_alive, pod_error *err) {
        json_t *list = json_array();
        struct dirent *de;
        DIR *d;
        int r;

        if (!list)
                return pod_error_oom(err);
        d = opendir(reg->pods);
        if (!d) {
                r = pod_error_errno(err, "%s", reg->pods);
                json_decref(list);
                return r;
        }
        while ((de = readdir(d))) {
                json_t *e = NULL;
                bool alive = false;
                if (!slug_valid(de->d_name))
                        continue;
                if (registry_read(&e, check_alive ? &alive : NULL, reg, de->d_name, NULL) < 0) {
                        if (check_alive && orphan_reservation(reg, de->d_name))
                                registry_remove(reg, de->d_name, NULL);
                        continue;
                }
                if (check_alive && !alive) {
                        json_decref(e);
                        registry_remove(reg, de->d_name, NULL);
                        continue;
                }
                if (check_alive)
                        json_object_set_new(e, "alive", json_true());
                json_array_append_new(list, e);
        }
        closedir(d);
        *out = list;
        return 0;
}

static const json_t *find_entry(const json_t *list, const char *name) {
        json_t *e;
        size_t i;

        json_array_foreach(list, i, e) {
                const char *n = json_string_value(json_object_get(e, "name"));
                if (n && name && strcmp(n, name) == 0)
                        return e;
        }
        return NULL;
}

/* The spawner and its ancestors, whose write rules are what it delegates. */
static size_t chain_of(const char **out, size_t max, const json_t *list, const char *spawner) {
        size_t n = 0;

        for (const char *p = spawner; p && n < max; n++) {
                out[n] = p;
                p = json_string_value(json_object_get(find_entry(list, p), "parent"));
        }
        return n;
}

static bool has_write_rule(const json_t *e) {
        const json_t *r;
        size_t k;

        json_array_foreach(json_object_get(json_object_get(e, "scope"), "allow"), k, r)
                if (strcmp(json_string_value(json_object_get(r, "access")) ?: "", "write") == 0)
                        return true;
        return false;
}

/*
 * The leases (DESIGN §7): the write rules of live child pods (entries with a parent) outside
 * the spawner's ancestry. Only a would-be holder's life is checked; a dead one is reaped.
 */
static json_t *leases_of(pod_registry *reg, const json_t *list, const char *spawner) {
        const char *chain[64];
        size_t n_chain = chain_of(chain, POD_ARRAY_SIZE(chain), list, spawner);
        json_t *out = json_array(), *e, *r;
        size_t i, k;

        json_array_foreach(list, i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                bool mine = false;
                if (!out || !name || !json_is_string(json_object_get(e, "parent")) ||
                    !has_write_rule(e))
                        continue;
                for (size_t c = 0; c < n_chain && !mine; c++)
                        mine = strcmp(chain[c], name) == 0;
                if (mine)
                        continue;
                if (!entry_alive(e)) {
                        registry_remove(reg, name, NULL);
                        continue;
                }
                json_array_foreach(json_object_get(json_object_get(e, "scope"), "allow"), k, r) {
                        const char *acc = json_string_value(json_object_get(r, "access"));
                        const char *path = json_string_value(json_object_get(r, "path"));
                        if (acc && path && strcmp(acc, "write") == 0)
                                json_array_append_new(
                                        out, json_pack("{s:s, s:s}", "holder", name, "path", path));
                }
        }
        return out;
}

static size_t lease_array(scope_lease *out, size_t max, const json_t *leases) {
        size_t i, n = 0;
        json_t *l;

        json_array_foreach(leases, i, l) {
                if (n == max)
                        break;
                out[n++] = (scope_lease){
                        .path = json_string_value(json_object_get(l, "path")),
                        .holder = json_string_value(json_object_get(l, "holder")),
                };
        }
        return n;
}

/* Under the lock: a child's write rules against the known leases, then the registry's. */
static int check_leases(pod_registry *reg, const registry_claim *claim, pod_error *err) {
        scope_lease arr[POD_LEASES_MAX];
        json_t *list = NULL, *leases;
        bool writes = false;
        size_t n;
        int r = 0;

        for (size_t i = 0; i < claim->n_rules; i++)
                writes |= claim->rules[i].access == POD_ACCESS_WRITE;
        if (!writes)
                return 0; /* leases only ever refuse a write rule */
        for (size_t i = 0; i < claim->n_rules && r >= 0; i++)
                r = scope_lease_check(&claim->rules[i], claim->known, claim->n_known, err);
        if (r < 0 || !claim->scan)
                return r;
        r = read_all(&list, reg, false, err);
        if (r < 0)
                return r;
        leases = leases_of(reg, list, claim->spawner);
        json_decref(list);
        if (!leases)
                return pod_error_oom(err);
        n = lease_array(arr, POD_LEASES_MAX, leases);
        for (size_t i = 0; i < claim->n_rules && r >= 0; i++)
                r = scope_lease_check(&claim->rules[i], arr, n, err);
        json_decref(leases);
        return r;
}

int registry_reserve(pod_registry *reg,
                     const char *name,
                     json_t *entry,
                     const registry_claim *claim,
                     pod_error *err) {
        _cleanup_free_ char *dir = registry_path(reg, name, NULL);
        _cleanup_close_ int lock = -EBADF;
        unsigned long long start;
        int r;

        assert(reg && name && entry);
        if (!slug_valid(name))
                return pod_error_set(err, -EINVAL, "pod name '%s' is not valid", name);
        if (!dir)
                return pod_error_oom(err);
        r = proc_start_time(getpid(), &start);
        if (r < 0)
                return pod_error_set(err, r, "cannot read this process's start time: %s",
                                     strerror(-r));
        lock = lock_registry(reg, err);
        if (lock < 0)
                return lock;
        if (claim && (r = check_leases(reg, claim, err)) < 0)
                return r;
        /* mkdir reserves the name; a folder left empty by an ended pod is taken as it is. */
        if (mkdir(dir, 0700) < 0 &&
            (errno != EEXIST ||
             (!entry_empty(reg, name) &&
              (!reap_one(reg, name) || (mkdir(dir, 0700) < 0 && !entry_empty(reg, name))))))
                return pod_error_set(err, -EEXIST,
                                     "the name '%s' is taken by a running pod (see 'pod ps')",
                                     name);
        json_object_set_new(entry, "name", json_string(name));
        json_object_set_new(entry, "pid", json_integer(getpid()));
        json_object_set_new(entry, "start_time", json_integer((json_int_t) start));
        r = write_entry(reg, name, entry, NULL, NULL, err);
        if (r < 0)
                registry_remove(reg, name, NULL);
        return r;
}

int registry_list(json_t **out, pod_registry *reg, pod_error *err) {
        _cleanup_close_ int lock = lock_registry(reg, err);

        json_t *e;
        size_t i;
        int r;

        if (lock < 0)
                return lock;
        r = read_all(out, reg, true, err);
        json_array_foreach(r < 0 ? NULL : *out, i, e) {
                json_object_del(e, "token");
                json_object_del(e, "callback_token");
        }
        return r;
}

int registry_new_token(char out[POD_TOKEN_HEX + 1], pod_error *err) {
        static const char hex[] = "0123456789abcdef";
        unsigned char raw[POD_TOKEN_HEX / 2];

        if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw))
                return pod_error_set(err, -EIO, "cannot get random bytes for a token");
        for (size_t i = 0; i < sizeof(raw); i++) {
                out[2 * i] = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 15];
        }
        out[POD_TOKEN_HEX] = '\0';
        return 0;
}

json_t *registry_entry_new(const registry_entry_spec *e) {
        const manifest_view *v = e->view;
        json_t *entry, *tail;

        assert(v && v->scope_json);
        /* A top-level pod has no parent and depth 0; a child its manifest's depth. */
        entry = json_pack("{s:o, s:I, s:s?, s:s?, s:s, s:O, s:s, s:s, s:s}", "parent",
                          e->parent ? json_string(e->parent) : json_null(), "depth",
                          (json_int_t) (e->parent ? v->depth : 0), "profile", v->selector,
                          "profile_sha256", v->profile_sha256, "cwd", v->cwd, "scope",
                          v->scope_json, "state", "starting", "socket", e->sock, "token", e->token);
        if (entry && e->callback_token &&
            json_object_set_new(entry, "callback_token", json_string(e->callback_token)) < 0) {
                json_decref(entry);
                entry = NULL;
        }
        tail = json_pack("{s:s, s:s, s:s, s:s}", "transcript", e->transcript, "model",
                         v->model.spec, "sandbox", v->sandboxed ? "on" : "off", "run_dir",
                         e->run_dir);
        if (entry && (!tail || json_object_update(entry, tail) < 0)) {
                json_decref(entry);
                entry = NULL;
        }
        json_decref(tail);
        return entry;
}

int registry_read_live(json_t **out, pod_registry *reg, const char *name, pod_error *err) {
        json_t *e = NULL;
        bool alive = false;
        int r = registry_read(&e, &alive, reg, name, err);

        if (r < 0)
                return r;
        if (!alive) {
                json_decref(e);
                registry_remove(reg, name, NULL); /* a dead holder's entry is reaped */
                return pod_error_set(err, -ESRCH, "pod '%s' is no longer running", name);
        }
        *out = e;
        return 0;
}
