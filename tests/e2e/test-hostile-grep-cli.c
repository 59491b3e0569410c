/* SPDX-License-Identifier: MIT */
/*
 * End to end: a hostile model's Grep cannot hang its pod. Script-model profiles run by the
 * real pod binary in a temporary HOME, config, data and runtime dir make the calls of a red
 * team's report: catastrophic backtracking over a 1 MB line. Before matching was bounded
 * these runs never ended; the ctest TIMEOUT (tests/CMakeLists.txt) is the only guard
 * against a hang here, no test measures time.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

/* One line of n bytes, unit repeated. */
static void long_line(const char *rel, const char *unit, size_t n) {
        size_t len = strlen(unit);
        char *text = malloc(n + 1);

        cr_assert_not_null(text);
        for (size_t i = 0; i < n; i++)
                text[i] = unit[i % len];
        text[n] = '\n';
        tu_write_n(env.project, rel, text, n + 1);
        free(text);
}

static void setup(void) {
        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
        long_line("data/red-team.txt", "x", 1024 * 1024);
        /* Every start costs less than the match limit; all of them, hours. */
        long_line("data/runs.txt", "xxxxxxxxxxxxxxx-", 1024 * 1024);
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(hostile_grep_cli, .init = setup, .fini = teardown);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

static void profile(const char *slug, const char *front, const char *script) {
        char *tools_front = NULL;

        cr_assert_geq(asprintf(&tools_front, "tools: [Grep, Read]\n%s", front), 0);
        e2e_profile(&env, &(e2e_profile_opts){ .undescribed = true }, slug, tools_front, script);
        free(tools_front);
}

/* The text of the nth event of a type. */
static const char *nth_text(json_t *events, const char *type, const char *field, size_t nth) {
        json_t *ev = e2e_find_event(events, type, NULL, nth);

        cr_assert_not_null(ev, "no %s event %zu", type, nth);
        return json_string_value(json_object_get(ev, field));
}

Test(hostile_grep_cli, the_red_teams_patterns_over_a_1mb_line_come_back_and_the_pod_answers) {
        json_t *events;
        tu_result r;

        profile("hostile", "",
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"Grep\", \"input\": {\"pattern\": \"(x+x+)+y\", \"path\": \"data\"}},"
                "{\"tool\": \"Grep\", \"input\": {\"pattern\": \"(x+x+)+[yz]\", \"path\": "
                "\"data/red-team.txt\"}}]},"
                " {\"say\": \"searched\"}]}");
        POD(&r, "--profile", "project:hostile", "search");
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        cr_assert(strstr(r.out, "searched"), "%s", r.out);
        tu_result_done(&r);
        events = e2e_transcript(&env, NULL);
        cr_assert(strstr(nth_text(events, "tool_result", "text", 0), "No matches for (x+x+)+y in "),
                  "%s", nth_text(events, "tool_result", "text", 0));
        cr_assert(strstr(nth_text(events, "tool_result", "text", 1),
                         "/data/red-team.txt:1 (match limit exceeded), skipped]"),
                  "%s", nth_text(events, "tool_result", "text", 1));
        json_decref(events);
}

/* No limit of PCRE2's stops this one: the deadline does, lowered by the test hook. */
Test(hostile_grep_cli, the_deadline_stops_what_no_match_limit_does) {
        json_t *events;
        tu_result r;

        env.extra_env[0] = "POD_TOOL_DEADLINE_MS=500";
        profile("hostile", "",
                "{\"turns\": [{\"call\": [{\"tool\": \"Grep\", \"input\": {\"pattern\": "
                "\"(x+x+)+[yz]\", \"path\": \"data/runs.txt\"}}]}, {\"say\": \"searched\"}]}");
        POD(&r, "--profile", "project:hostile", "search");
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
        events = e2e_transcript(&env, NULL);
        cr_assert(strstr(nth_text(events, "tool_result", "text", 0),
                         "[stopped at the deadline (0.5 s) in "),
                  "%s", nth_text(events, "tool_result", "text", 0));
        cr_assert(strstr(nth_text(events, "tool_result", "text", 0), "/data/runs.txt at line 1;"),
                  "%s", nth_text(events, "tool_result", "text", 0));
        json_decref(events);
}

/* The pod's own timeout_s bounds a tool call too: the search stops, then the pod. */
Test(hostile_grep_cli, the_pods_timeout_ends_a_search) {
        json_t *events;
        tu_result r;

        profile("hostile", "limits:\n  timeout_s: 2\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Grep\", \"input\": {\"pattern\": "
                "\"(x+x+)+[yz]\", \"path\": \"data/runs.txt\"}}]}, {\"say\": \"searched\"}]}");
        POD(&r, "--profile", "project:hostile", "search");
        cr_assert_neq(r.status, 0, "the pod ran out of time: %s", r.out);
        tu_result_done(&r);
        events = e2e_transcript(&env, NULL);
        cr_assert(strstr(nth_text(events, "tool_result", "text", 0), "[stopped at the deadline ("),
                  "%s", nth_text(events, "tool_result", "text", 0));
        cr_assert_str_eq(nth_text(events, "end", "status", 0), "timeout");
        json_decref(events);
}

/* A cloned repository's Latin-1 file: its bytes reach the model and the transcript as
 * UTF-8 (U+FFFD for what is not), not as a result that vanishes. */
Test(hostile_grep_cli, bytes_that_are_not_utf8_reach_the_transcript) {
        json_t *events;
        tu_result r;

        tu_write(env.project, "data/latin1.txt", "caf\xe9 42\n");
        profile("hostile", "",
                "{\"turns\": [{\"call\": [{\"tool\": \"Grep\", \"input\": {\"pattern\": \"4\\\\d\", "
                "\"path\": \"data/latin1.txt\"}}, {\"tool\": \"Read\", \"input\": {\"file_path\": "
                "\"data/latin1.txt\"}}]}, {\"say\": \"read\"}]}");
        POD(&r, "--profile", "project:hostile", "search");
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
        events = e2e_transcript(&env, NULL);
        cr_assert(strstr(nth_text(events, "tool_result", "text", 0),
                         "/data/latin1.txt:1:caf\xef\xbf\xbd 42"),
                  "%s", nth_text(events, "tool_result", "text", 0));
        cr_assert(strstr(nth_text(events, "tool_result", "text", 1), "caf\xef\xbf\xbd 42"), "%s",
                  nth_text(events, "tool_result", "text", 1));
        json_decref(events);
}
