/* SPDX-License-Identifier: MIT */
/* The profile store's pieces: trust, atomic writes, the pointer, rendering and the diff. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static char *root;

static void setup(void) {
        root = tu_tmpdir_real();
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
}

TestSuite(store, .init = setup, .fini = teardown);

/* Nothing but name in dir: no temporary file is left behind. */
static void assert_only(const char *dir, const char *name) {
        DIR *d = opendir(dir);
        struct dirent *de;

        cr_assert_not_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        cr_assert_str_eq(de->d_name, name, "left behind: %s", de->d_name);
        closedir(d);
}

Test(store, trust_lists_take_absolute_dirs_only_once) {
        char **dirs = NULL;
        pod_error err = { 0 };
        const char *text = "/a\nrelative\n\n/b\n/a\n";

        cr_assert_eq(trust_parse(&dirs, text, strlen(text), "t", &err), 0, "%s", err.msg);
        cr_assert_eq(strv_length(dirs), 2);
        cr_assert_str_eq(dirs[0], "/a");
        cr_assert_str_eq(dirs[1], "/b");
        strv_free(dirs);
        cr_assert_lt(trust_parse(&dirs, "/a\0/b", 5, "t", &err), 0, "a NUL byte is refused");
        cr_assert(strstr(err.msg, "t: not a list of project dirs"), "%s", err.msg);
}

Test(store, trust_is_added_and_revoked_atomically) {
        char *cfg = tu_path(root, "cfg"), *path = tu_path(root, "cfg/trusted-projects"), *text;
        pod_error err = { 0 };
        bool changed = false, yes = false;
        struct stat st;

        cr_assert_eq(trust_check(&yes, cfg, "/p", &err), 0, "a missing list: %s", err.msg);
        cr_assert_not(yes);
        cr_assert_eq(trust_change(cfg, "/p", true, &changed, &err), 0, "%s", err.msg);
        cr_assert(changed);
        cr_assert_eq(trust_change(cfg, "/q", true, &changed, &err), 0, "%s", err.msg);
        cr_assert_eq(trust_change(cfg, "/p", true, &changed, &err), 0, "%s", err.msg);
        cr_assert_not(changed, "already trusted");
        cr_assert_eq(trust_check(&yes, cfg, "/p", &err), 0);
        cr_assert(yes);
        cr_assert_eq(chmod(path, 0600), 0);
        cr_assert_eq(trust_change(cfg, "/p", false, &changed, &err), 0, "%s", err.msg);
        cr_assert(changed);
        text = tu_read(path);
        cr_assert_str_eq(text, "/q\n");
        free(text);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600, "the mode is kept");
        cr_assert_lt(trust_change(cfg, "relative", true, NULL, &err), 0);
        free(cfg);
        free(path);
}

Test(store, writes_replace_or_refuse_and_leave_no_temporary_file) {
        int dfd = open(root, O_RDONLY | O_DIRECTORY);
        pod_error err = { 0 };
        char *text;

        cr_assert_eq(store_write_file(dfd, "f.md", "one", 3, 0640, STORE_NOREPLACE, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(store_write_file(dfd, "f.md", "two", 3, 0640, STORE_NOREPLACE, &err), -EEXIST);
        text = tu_read_at(root, "f.md");
        cr_assert_str_eq(text, "one");
        free(text);
        cr_assert_eq(store_write_file(dfd, "f.md", "two", 3, 0640, STORE_REPLACE, &err), 0, "%s",
                     err.msg);
        text = tu_read_at(root, "f.md");
        cr_assert_str_eq(text, "two");
        free(text);
        assert_only(root, "f.md");
        close(dfd);
}

Test(store, the_pointer_is_replaced_never_written_through) {
        char *cfg = tu_path(root, "cfg"), target[PATH_MAX], *text;
        char *ptr = tu_path(root, "cfg/default-profile");
        int dfd;
        bool symlink_made = false;
        pod_error err = { 0 };
        ssize_t n;

        tu_write(cfg, "profiles/a.md", "A");
        tu_write(cfg, "default-profile", "a\n"); /* the file form */
        dfd = open(cfg, O_RDONLY | O_DIRECTORY);
        cr_assert_eq(store_write_pointer(dfd, "profiles/a.md", &symlink_made, &err), 0, "%s",
                     err.msg);
        cr_assert(symlink_made);
        cr_assert_eq(store_write_pointer(dfd, "builtin:default", &symlink_made, &err), 0, "%s",
                     err.msg);
        n = readlink(ptr, target, sizeof(target) - 1);
        cr_assert_gt(n, 0);
        target[n] = '\0';
        cr_assert_str_eq(target, "builtin:default");
        text = tu_read_at(cfg, "profiles/a.md");
        cr_assert_str_eq(text, "A", "the profile it pointed to is untouched");
        free(text);
        close(dfd);
        free(cfg);
        free(ptr);
}

Test(store, a_pointer_names_its_own_source_or_a_lower_one) {
        profile_source src;
        char *slug = NULL;
        pod_error err = { 0 };

        cr_assert_eq(pointer_parse(&src, &slug, "p", POD_SOURCE_USER, "codex", &err), 0);
        cr_assert_eq(src, POD_SOURCE_USER);
        cr_assert_str_eq(slug, "codex");
        free(slug);
        cr_assert_eq(pointer_parse(&src, &slug, "p", POD_SOURCE_PROJECT, "user:codex", &err), 0);
        cr_assert_eq(src, POD_SOURCE_USER);
        free(slug);
        slug = NULL;
        cr_assert_lt(pointer_parse(&src, &slug, "p", POD_SOURCE_USER, "project:x", &err), 0);
        cr_assert(strstr(err.msg, "a user default pointer may not name a project profile"), "%s",
                  err.msg);
        cr_assert_null(slug);
        cr_assert_lt(pointer_parse(&src, &slug, "p", POD_SOURCE_USER, "../x", &err), 0);
}

Test(store, a_rendered_profile_reads_back_the_same) {
        static const char *const texts[] = {
                "---\ndescription: \"a \\\"quoted\\\" one: with colons # and hashes\"\n"
                "model: openai:x\nendpoint: http://h:1/v1\napi_key_env: K\nreasoning: high\n"
                "tools: [Read, Bash]\nskills: [tickets]\nscope: read\nnetwork: none\n"
                "limits:\n  max_turns: 7\n  timeout_s: 9\n---\nBody\n  indented\n",
                "---\ndescription: no model\n---\n",
        };

        for (size_t i = 0; i < POD_ARRAY_SIZE(texts); i++) {
                pod_profile *a = NULL, *b = NULL;
                pod_buf out = { 0 };
                pod_error err = { 0 };
                cr_assert_eq(profile_parse(&a, POD_SOURCE_USER, "x", "/x.md", texts[i],
                                           strlen(texts[i]), &err),
                             0, "%s", err.msg);
                cr_assert_eq(profile_render(&out, a), 0);
                cr_assert_eq(
                        profile_parse(&b, POD_SOURCE_USER, "x", "/x.md", out.data, out.len, &err),
                        0, "%s\n%s", err.msg, out.data);
                cr_assert_str_eq(a->description, b->description);
                cr_assert_str_eq(a->model ?: "-", b->model ?: "-");
                cr_assert_str_eq(a->endpoint ?: "-", b->endpoint ?: "-");
                cr_assert(strv_equal(a->tools, b->tools) && strv_equal(a->skills, b->skills));
                cr_assert_eq(a->scope, b->scope);
                cr_assert_eq(a->network, b->network);
                cr_assert_eq(a->reasoning, b->reasoning);
                cr_assert_eq(memcmp(a->limits, b->limits, sizeof(a->limits)), 0);
                cr_assert_str_eq(a->body, b->body);
                profile_free(a);
                profile_free(b);
                buf_done(&out);
        }
}

Test(store, the_unified_diff_has_hunks_with_context) {
        pod_buf d = { 0 };

        cr_assert_eq(text_unified_diff(&d, "a\nb\nc\n", "a\nb\nc\n", "x", "y"), 0);
        cr_assert_eq(d.len, 0, "equal texts: no diff");
        cr_assert_eq(text_unified_diff(&d, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
                                       "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n", "x", "y"),
                     0);
        cr_assert_str_eq(buf_str(&d),
                         "--- x\n+++ y\n"
                         "@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+11\n");
        buf_done(&d);
        cr_assert_eq(text_unified_diff(&d, "", "new\n", "x", "y"), 0);
        cr_assert_str_eq(buf_str(&d), "--- x\n+++ y\n@@ -0,0 +1,1 @@\n+new\n");
        buf_done(&d);
}

Test(store, manifests_differ_field_by_field) {
        json_t *a = json_pack("{s:i, s:{s:s}, s:{s:s, s:s}, s:s, s:[s]}", "version", 1, "pod",
                              "name", "x", "model", "spec", "openai:a", "handler", "h",
                              "instruction", "i", "tools", "Read");
        json_t *b = json_pack("{s:i, s:{s:s}, s:{s:s, s:s}, s:s, s:[s, s]}", "version", 1, "pod",
                              "name", "y", "model", "spec", "openai:b", "handler", "h",
                              "instruction", "j", "tools", "Read", "Bash");
        json_t *d = NULL;

        cr_assert_eq(manifest_diff_fields(&d, a, b), 0);
        cr_assert_eq(json_array_size(d), 2, "model.spec and tools; not the name or instruction");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 0), "field")),
                         "model.spec");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 1), "field")),
                         "tools");
        json_decref(a);
        json_decref(b);
        json_decref(d);
}
