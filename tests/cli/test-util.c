/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "testutil.h"

static char *root;

static void setup(void) {
        root = tu_tmpdir_real();
        tu_mkdirs(root, "a/b");
        tu_write(root, "file", "x");
        cr_assert_eq(chdir(root), 0);
        cr_redirect_stderr();
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
}

TestSuite(cli_util, .init = setup, .fini = teardown);

Test(cli_util, cwd_defaults_to_the_process_cwd) {
        char *cwd = NULL;

        cr_assert_eq(cli_resolve_cwd(&cwd, NULL), EXIT_OK);
        cr_assert_str_eq(cwd, root);
        free(cwd);
}

Test(cli_util, cwd_option_is_made_absolute_and_canonical) {
        char *cwd = NULL, *want = tu_path(root, "a/b");

        cr_assert_eq(cli_resolve_cwd(&cwd, "a/./b/"), EXIT_OK);
        cr_assert_str_eq(cwd, want);
        free(cwd);
        free(want);
}

Test(cli_util, cwd_must_be_an_existing_directory) {
        char *cwd = NULL;

        cr_assert_eq(cli_resolve_cwd(&cwd, "missing"), EXIT_USAGE);
        cr_assert_eq(cli_resolve_cwd(&cwd, "file"), EXIT_USAGE);
        cr_assert_null(cwd);
        fflush(stderr);
        cr_assert_stderr_eq_str("pod: --cwd missing: not an existing directory\n"
                                "pod: --cwd file: not an existing directory\n");
}

Test(cli_util, fail_prints_one_prefixed_line_and_returns_the_code) {
        cr_assert_eq(cli_fail(EXIT_RUNTIME, "it broke: %d", 7), EXIT_RUNTIME);
        cli_warn("careful");
        fflush(stderr);
        cr_assert_stderr_eq_str("pod: it broke: 7\npod: warning: careful\n");
}
