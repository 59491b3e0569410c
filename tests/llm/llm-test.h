/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the llm suites: recorded streams (tests/llm/data, made with the mock model
 * server) read whole, and fed through the SSE parser into a wire's assembler split at any
 * byte offset. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>

#include "llm/llm-internal.h"

#ifndef LLM_TEST_DATA
#        define LLM_TEST_DATA "tests/llm/data"
#endif

static inline char *llm_test_read(const char *name, size_t *len) {
        char path[512];
        char *data = NULL;

        snprintf(path, sizeof(path), "%s/%s", LLM_TEST_DATA, name);
        cr_assert_eq(file_read_bounded(&data, len, AT_FDCWD, path, 1u << 20, NULL), 0, "%s", path);
        return data;
}

static int
llm_test_event(void *ud, const char *event, const char *data, size_t len, pod_error *err) {
        return llm_asm_event(ud, event, data, len, err);
}

/* Feed data[0..split) then the rest; the assembled turn in *out (0), or an error. */
static inline int llm_test_assemble(const llm_wire *w,
                                    const char *data,
                                    size_t len,
                                    size_t split,
                                    llm_turn *out,
                                    pod_error *err) {
        llm_asm a;
        sse_parser p;
        int r;

        llm_asm_init(&a, w);
        sse_init(&p, llm_test_event, &a);
        r = sse_feed(&p, data, split, err);
        if (r >= 0)
                r = sse_feed(&p, data + split, len - split, err);
        if (r >= 0)
                r = llm_asm_finish(&a, out, err);
        sse_done(&p);
        llm_asm_done(&a);
        return r;
}

/* Feed a whole stream (text) to w; *retryable (if not NULL) says what the assembler said. */
static inline int
llm_test_feed(const llm_wire *w, const char *stream, llm_turn *t, pod_error *err, bool *retryable) {
        llm_asm a;
        sse_parser p;
        int r;

        llm_asm_init(&a, w);
        sse_init(&p, llm_test_event, &a);
        r = sse_feed(&p, stream, strlen(stream), err);
        if (r >= 0)
                r = llm_asm_finish(&a, t, err);
        if (retryable)
                *retryable = a.retryable;
        sse_done(&p);
        llm_asm_done(&a);
        return r;
}

/* The turn as one JSON value, to compare the turns two splits make. */
static inline char *llm_test_dump(const llm_turn *t) {
        json_t *j = json_pack("{s:s, s:O, s:O, s:O?}", "text", t->text, "calls", t->calls, "usage",
                              t->usage, "reasoning", t->reasoning);
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

        json_decref(j);
        return s;
}

/* Every split of a recorded stream assembles the very turn the whole of it does. */
static inline void llm_test_every_split(const llm_wire *w, const char *name) {
        size_t len;
        char *data = llm_test_read(name, &len);
        llm_turn whole = { 0 };
        char *want;

        cr_assert_eq(llm_test_assemble(w, data, len, len, &whole, NULL), 0);
        want = llm_test_dump(&whole);
        for (size_t i = 0; i <= len; i++) {
                llm_turn t = { 0 };
                pod_error err = { 0 };
                char *got;
                cr_assert_eq(llm_test_assemble(w, data, len, i, &t, &err), 0, "split %zu: %s", i,
                             err.msg);
                got = llm_test_dump(&t);
                cr_assert_str_eq(got, want, "split at %zu", i);
                free(got);
                llm_turn_done(&t);
        }
        free(want);
        llm_turn_done(&whole);
        free(data);
}

static inline const char *llm_test_call_str(const llm_turn *t, size_t i, const char *key) {
        return json_string_value(json_object_get(json_array_get(t->calls, i), key));
}

static inline json_int_t llm_test_usage(const llm_turn *t, const char *key) {
        return json_integer_value(json_object_get(t->usage, key));
}

/* ---- the delegate suites (test-delegate-claude.c, test-delegate-codex.c) ----------------- */

/* A conversation: the system prompt, then tasks user entries ("do it", then "again"), an
 * assistant's "answer" between each two. */
static inline json_t *llm_test_conv(int tasks) {
        json_t *c = json_pack("[{s:s, s:s}]", "role", "system", "content", "You are a pod.");

        for (int i = 0; i < tasks; i++) {
                if (i > 0)
                        json_array_append_new(
                                c,
                                json_pack("{s:s, s:s}", "role", "assistant", "content", "answer"));
                json_array_append_new(c,
                                      json_pack("{s:s, s:s}", "role", "user", "content",
                                                i == 0 ? "do it" : "again"));
        }
        return c;
}

/* Feed data's lines from *pos through event until it answers other than 0 (its answer,
 * returned) or the data ends (0); each line's actions split into progress and usage. */
static inline int llm_test_feed_lines(llm_delegate_event_fn event,
                                      void *events,
                                      const char *data,
                                      size_t *pos,
                                      json_t *progress,
                                      json_t *usage,
                                      pod_error *err) {
        size_t len = strlen(data);
        int last = 0;

        while (*pos < len && last == 0) {
                const char *line = data + *pos, *nl = strchr(line, '\n');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);
                json_t *actions = json_array(), *a;
                size_t i;

                last = event(events, line, n, actions, err);
                json_array_foreach(actions, i, a) {
                        if (json_object_get(a, "progress"))
                                json_array_append(progress, json_object_get(a, "progress"));
                        if (json_object_get(a, "usage"))
                                json_array_append(usage, json_object_get(a, "usage"));
                }
                json_decref(actions);
                *pos += n + (nl != NULL);
        }
        return last;
}
