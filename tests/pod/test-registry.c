/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/pod.h"
#include "testutil.h"

static char *root, *rt;

static void setup(void) {
        root = tu_tmpdir_real();
        rt = tu_path(root, "run");
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(rt);
}

TestSuite(registry, .init = setup, .fini = teardown);

static pod_registry *open_reg(void) {
        pod_registry *reg = NULL;
        pod_error err = { 0 };

        cr_assert_eq(registry_open(&reg, rt, &err), 0, "%s", err.msg);
        return reg;
}

Test(registry, the_runtime_dir_is_created_private) {
        pod_registry *reg = open_reg();
        struct stat st;

        cr_assert_eq(stat(rt, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0700);
        registry_free(reg);
}

Test(registry, a_shared_or_symlinked_runtime_dir_is_refused) {
        pod_registry *reg = NULL;
        pod_error err = { 0 };
        char *link = tu_path(root, "link");

        tu_mkdirs(root, "run");
        chmod(rt, 0755);
        cr_assert_lt(registry_open(&reg, rt, &err), 0);
        cr_assert(strstr(err.msg, "has mode 0755; it must be 0700"), "%s", err.msg);
        chmod(rt, 0700);
        cr_assert_eq(symlink(rt, link), 0);
        cr_assert_lt(registry_open(&reg, link, &err), 0);
        cr_assert(strstr(err.msg, "not a directory"), "%s", err.msg);
        cr_assert_lt(registry_open(&reg, "relative", &err), 0);
        free(link);
}

Test(registry, reserve_writes_a_private_entry_with_pid_and_start_time) {
        pod_registry *reg = open_reg();
        json_t *e = json_pack("{s:s}", "state", "starting"), *back = NULL;
        char *path = registry_path(reg, "alpha", "pod.json");
        unsigned long long start;
        bool alive = false;
        struct stat st;

        cr_assert_eq(registry_reserve(reg, "alpha", e, NULL, NULL), 0);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600, "pod.json holds the token");
        cr_assert_eq(registry_read(&back, &alive, reg, "alpha", NULL), 0);
        cr_assert(alive);
        cr_assert_eq(json_integer_value(json_object_get(back, "pid")), getpid());
        cr_assert_eq(proc_start_time(getpid(), &start), 0);
        cr_assert_eq((unsigned long long) json_integer_value(json_object_get(back, "start_time")),
                     start);
        cr_assert_not_null(json_object_get(back, "created"));
        json_decref(back);
        json_decref(e);
        free(path);
        registry_free(reg);
}

Test(registry, a_live_holder_keeps_its_name) {
        pod_registry *reg = open_reg();
        json_t *a = json_object(), *b = json_object();
        pod_error err = { 0 };

        cr_assert_eq(registry_reserve(reg, "same", a, NULL, NULL), 0);
        cr_assert_eq(registry_reserve(reg, "same", b, NULL, &err), -EEXIST);
        cr_assert(strstr(err.msg, "the name 'same' is taken by a running pod"), "%s", err.msg);
        json_decref(a);
        json_decref(b);
        registry_free(reg);
}

/* An entry for a process that has exited, or a pid reused by another process. */
static void fake_entry(pod_registry *reg, const char *name, long pid, unsigned long long start) {
        char *dir = registry_path(reg, name, NULL), *file = registry_path(reg, name, "pod.json");
        char text[256];

        mkdir(dir, 0700);
        snprintf(text, sizeof(text), "{\"name\":\"%s\",\"pid\":%ld,\"start_time\":%llu}", name, pid,
                 start);
        tu_write(dir, "pod.json", text);
        free(dir);
        free(file);
}

Test(registry, dead_entries_and_reused_pids_are_reaped) {
        pod_registry *reg = open_reg();
        json_t *list = NULL, *e = json_object();
        unsigned long long start;
        pid_t child = fork();

        if (child == 0)
                _exit(0);
        waitpid(child, NULL, 0);
        cr_assert_eq(proc_start_time(getpid(), &start), 0);
        fake_entry(reg, "dead", child, 1);
        fake_entry(reg, "reused", getpid(), start + 1); /* our pid, another start time */
        fake_entry(reg, "live", getpid(), start);
        cr_assert_eq(registry_list(&list, reg, NULL), 0);
        cr_assert_eq(json_array_size(list), 1);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                         "live");
        json_decref(list);
        fake_entry(reg, "dead", child, 1);
        cr_assert_eq(registry_reserve(reg, "dead", e, NULL, NULL), 0, "a dead holder is reaped");
        json_decref(e);
        registry_free(reg);
}

/* An entry of a child pod (it has a parent) holding write on path, for process pid. */
static void lease_entry(pod_registry *reg,
                        const char *name,
                        const char *parent,
                        long pid,
                        unsigned long long start,
                        const char *path) {
        char *dir = registry_path(reg, name, NULL);
        char text[512];

        mkdir(dir, 0700);
        snprintf(text, sizeof(text),
                 "{\"name\":\"%s\",\"parent\":\"%s\",\"pid\":%ld,\"start_time\":%llu,"
                 "\"scope\":{\"allow\":[{\"path\":\"%s\",\"access\":\"write\"}]}}",
                 name, parent, pid, start, path);
        tu_write(dir, "pod.json", text);
        free(dir);
}

Test(registry, a_claim_overlapping_a_live_lease_is_refused_and_changes_nothing) {
        pod_registry *reg = open_reg();
        scope_rule w = { "/p/src/lib", POD_ACCESS_WRITE, true },
                   r = { "/p/src", POD_ACCESS_READ, true };
        registry_claim claim = { .spawner = "boss", .rules = &w, .n_rules = 1, .scan = true };
        registry_claim reading = { .spawner = "boss", .rules = &r, .n_rules = 1, .scan = true };
        json_t *e = json_object();
        char *dir = registry_path(reg, "kid2", NULL);
        unsigned long long start;
        pod_error err = { 0 };

        cr_assert_eq(proc_start_time(getpid(), &start), 0);
        lease_entry(reg, "kid1", "boss", getpid(), start, "/p/src");
        cr_assert_eq(registry_reserve(reg, "kid2", e, &claim, &err), -EBUSY);
        cr_assert(strstr(err.msg, "overlaps the write lease pod 'kid1' holds on /p/src"), "%s",
                  err.msg);
        cr_assert_neq(access(dir, F_OK), 0, "a refused claim reserves nothing");
        cr_assert_eq(registry_reserve(reg, "kid2", e, &reading, &err), 0,
                     "a read rule never meets a lease: %s", err.msg);
        json_decref(e);
        free(dir);
        registry_free(reg);
}

Test(registry, the_spawners_own_ancestry_holds_no_lease_against_it) {
        pod_registry *reg = open_reg();
        scope_rule w = { "/p/src/lib", POD_ACCESS_WRITE, true };
        registry_claim claim = { .spawner = "mid", .rules = &w, .n_rules = 1, .scan = true };
        json_t *e = json_object();
        unsigned long long start;
        pod_error err = { 0 };

        cr_assert_eq(proc_start_time(getpid(), &start), 0);
        lease_entry(reg, "top", "root", getpid(), start, "/p");
        lease_entry(reg, "mid", "top", getpid(), start, "/p/src");
        cr_assert_eq(registry_reserve(reg, "leaf", e, &claim, &err), 0,
                     "mid delegates from its own and its parent's write: %s", err.msg);
        json_decref(e);
        registry_free(reg);
}

Test(registry, a_dead_lease_holder_is_reaped_and_its_lease_returned) {
        pod_registry *reg = open_reg();
        scope_rule w = { "/p/src", POD_ACCESS_WRITE, true };
        registry_claim claim = { .spawner = "boss", .rules = &w, .n_rules = 1, .scan = true };
        json_t *e = json_object();
        char *dir = registry_path(reg, "gone", NULL);
        pid_t child = fork();

        if (child == 0)
                _exit(0);
        waitpid(child, NULL, 0);
        lease_entry(reg, "gone", "boss", child, 1, "/p/src");
        cr_assert_eq(registry_reserve(reg, "next", e, &claim, NULL), 0);
        cr_assert_neq(access(dir, F_OK), 0, "the dead holder's entry is reaped");
        json_decref(e);
        free(dir);
        registry_free(reg);
}

/* Reservations write pod.json under the lock: a folder without one is an ended pod's,
 * emptied by a sandboxed pod that may not remove folders, and reaped at once. */
Test(registry, an_emptied_entry_is_reaped_and_its_name_taken) {
        pod_registry *reg = open_reg();
        char *dir = registry_path(reg, "emptied", NULL);
        json_t *list = NULL, *e = json_object();

        cr_assert_eq(mkdir(dir, 0700), 0);
        cr_assert_eq(registry_reserve(reg, "emptied", e, NULL, NULL), 0, "its name is free");
        cr_assert_eq(registry_remove(reg, "emptied", NULL), 0);
        cr_assert_eq(mkdir(dir, 0700), 0);
        cr_assert_eq(registry_list(&list, reg, NULL), 0);
        cr_assert_eq(json_array_size(list), 0);
        cr_assert_neq(access(dir, F_OK), 0, "an emptied entry is reaped");
        json_decref(list);
        json_decref(e);
        free(dir);
        registry_free(reg);
}

/* A pod.json that cannot be parsed may be one being replaced: reaped only once old. */
Test(registry, a_broken_entry_is_reaped_once_old) {
        pod_registry *reg = open_reg();
        char *dir = registry_path(reg, "broken", NULL);
        struct timeval old[2] = { { 1000, 0 }, { 1000, 0 } };
        json_t *list = NULL;

        mkdir(dir, 0700);
        tu_write(dir, "pod.json", "{not json");
        cr_assert_eq(registry_list(&list, reg, NULL), 0);
        cr_assert_eq(access(dir, F_OK), 0, "a fresh one is kept");
        json_decref(list);
        utimes(dir, old);
        cr_assert_eq(registry_list(&list, reg, NULL), 0);
        cr_assert_neq(access(dir, F_OK), 0, "an old one is reaped");
        json_decref(list);
        free(dir);
        registry_free(reg);
}

Test(registry, fifty_concurrent_reservations_one_winner) {
        int results[2], hold[2], wins = 0, n = 0;
        char c;

        cr_assert_eq(pipe(results), 0);
        cr_assert_eq(pipe(hold), 0);
        for (int i = 0; i < 50; i++) {
                if (fork() == 0) {
                        pod_registry *reg = NULL;
                        json_t *e = json_object();
                        char won;
                        close(results[0]);
                        close(hold[1]);
                        won = registry_open(&reg, rt, NULL) == 0 &&
                                        registry_reserve(reg, "contested", e, NULL, NULL) == 0 ?
                                'W' :
                                'L';
                        if (write(results[1], &won, 1) != 1)
                                _exit(1);
                        close(results[1]);
                        if (read(hold[0], &won, 1) < 0) /* stay alive until all have tried */
                                _exit(1);
                        _exit(0);
                }
        }
        close(results[1]);
        close(hold[0]);
        while (n < 50 && read(results[0], &c, 1) == 1) {
                wins += c == 'W';
                n++;
        }
        close(hold[1]);
        while (wait(NULL) > 0)
                ;
        cr_assert_eq(n, 50);
        cr_assert_eq(wins, 1, "exactly one of 50 wins, %d did", wins);
}

Test(registry, tokens_are_random_hex) {
        char a[POD_TOKEN_HEX + 1], b[POD_TOKEN_HEX + 1];

        cr_assert_eq(registry_new_token(a, NULL), 0);
        cr_assert_eq(registry_new_token(b, NULL), 0);
        cr_assert_eq(strlen(a), 32);
        cr_assert_eq(strspn(a, "0123456789abcdef"), 32);
        cr_assert_str_neq(a, b);
}

/* One builder makes every entry (DESIGN §8): a top-level pod's has no parent, depth 0 and no
 * callback token; a child's names its spawner and carries its depth and callback token. */
Test(registry, one_builder_makes_top_level_and_child_entries) {
        char name[] = "kid", cwd[] = "/w", sel[] = "builtin:coder", sha[] = "ab",
             spec[] = "openai:x";
        manifest_view m = { .name = name,
                            .depth = 2,
                            .cwd = cwd,
                            .selector = sel,
                            .profile_sha256 = sha,
                            .model.spec = spec,
                            .sandboxed = true,
                            .scope_json = json_object() };
        registry_entry_spec top = {
                .view = &m, .sock = "/s", .token = "t", .transcript = "/t.jsonl", .run_dir = "/r"
        };
        registry_entry_spec child = top;
        json_t *a, *b;

        child.parent = "boss";
        child.callback_token = "cb";
        a = registry_entry_new(&top);
        b = registry_entry_new(&child);
        cr_assert(a && b);
        cr_assert(json_is_null(json_object_get(a, "parent")));
        cr_assert_eq(json_integer_value(json_object_get(a, "depth")), 0);
        cr_assert_null(json_object_get(a, "callback_token"));
        cr_assert_str_eq(json_string_value(json_object_get(b, "parent")), "boss");
        cr_assert_eq(json_integer_value(json_object_get(b, "depth")), 2);
        cr_assert_str_eq(json_string_value(json_object_get(b, "callback_token")), "cb");
        json_object_del(b, "parent");
        json_object_del(b, "depth");
        json_object_del(b, "callback_token");
        json_object_del(a, "parent");
        json_object_del(a, "depth");
        cr_assert(json_equal(a, b), "the rest is the same for both");
        cr_assert_str_eq(json_string_value(json_object_get(a, "state")), "starting");
        cr_assert_str_eq(json_string_value(json_object_get(a, "model")), "openai:x");
        json_decref(a);
        json_decref(b);
        json_decref(m.scope_json);
}
