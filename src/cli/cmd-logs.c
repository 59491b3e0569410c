/* SPDX-License-Identifier: MIT */
/* `pod logs NAME [-f]`: a running pod's transcript, readable; -f follows it until it ends. */
#include <string.h>
#include <time.h>

#include "cli.h"

static long long count(const json_t *j, const char *key) {
        return (long long) json_integer_value(json_object_get(j, key));
}

/* One model call's usage (DESIGN §18), and the subtree's so far. */
static void print_usage(const json_t *ev) {
        const json_t *sub = json_object_get(ev, "subtree");

        printf("  [usage] turn %lld: tokens %lld (input %lld, output %lld, cached reads %lld, "
               "cache writes %lld)",
               count(ev, "turn"), count(ev, "tokens"), count(ev, "input_tokens"),
               count(ev, "output_tokens"), count(ev, "cache_read_tokens"),
               count(ev, "cache_write_tokens"));
        if (json_number_value(json_object_get(ev, "cost_usd")) > 0)
                printf(", $%.4f", json_number_value(json_object_get(ev, "cost_usd")));
        if (sub)
                printf("; subtree tokens %lld, turns %lld, $%.4f", count(sub, "tokens"),
                       count(sub, "turns"), json_number_value(json_object_get(sub, "cost_usd")));
        putchar('\n');
}

static void print_event(const json_t *ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        const char *text = json_string_value(json_object_get(ev, "text"));

        if (!type)
                return;
        if (strcmp(type, "task") == 0)
                printf("[task] %s\n", text);
        else if (strcmp(type, "text") == 0)
                printf("%s\n", text);
        else if (strcmp(type, "message") == 0)
                printf("[message] %s\n", text);
        else if (strcmp(type, "abridged") == 0 || strcmp(type, "truncated") == 0)
                printf("[%s]\n", text);
        else if (strcmp(type, "tool_result") == 0)
                printf("  %s: %s (%lld ms)\n", json_string_value(json_object_get(ev, "name")),
                       json_is_true(json_object_get(ev, "ok")) ? "ok" : "error",
                       (long long) json_integer_value(json_object_get(ev, "ms")));
        else if (strcmp(type, "usage") == 0)
                print_usage(ev);
        else if (strcmp(type, "end") == 0)
                printf("[end: %s] %s\n", json_string_value(json_object_get(ev, "status")),
                       json_string_value(json_object_get(ev, "result"))        ?:
                               json_string_value(json_object_get(ev, "error")) ?:
                                                                                 "");
}

/* Print complete lines from f; returns whether an end event was seen. */
static bool pump(FILE *f) {
        char *line = NULL;
        size_t cap = 0;
        bool ended = false;

        while (getline(&line, &cap, f) > 0) {
                json_t *ev = json_loads(line, 0, NULL);
                print_event(ev);
                ended |= ev &&
                        strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "end") == 0;
                json_decref(ev);
        }
        free(line);
        clearerr(f);
        fflush(stdout);
        return ended;
}

static int logs_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *e = NULL;
        bool follow = argc == 3 && (strcmp(argv[2], "-f") == 0 || strcmp(argv[2], "--follow") == 0);
        struct timespec tick = { 0, 200 * 1000 * 1000 };
        const char *path;
        FILE *f;
        int r;

        if (argc < 2 || argc > 3 || (argc == 3 && !follow) || strcmp(argv[1], "--help") == 0) {
                puts("Usage: pod logs NAME [-f]\n\nPrint the running pod NAME's transcript; -f "
                     "follows it until the pod ends.");
                return argc == 2 ? EXIT_OK : EXIT_USAGE;
        }
        r = cli_open_registry(&reg, envp);
        if (r == EXIT_OK)
                r = cli_find_pod(&e, reg, argv[1]);
        if (r != EXIT_OK)
                return r;
        path = json_string_value(json_object_get(e, "transcript"));
        f = path ? fopen(path, "re") : NULL;
        if (!f)
                return cli_fail(EXIT_RUNTIME, "cannot open the transcript of '%s'", argv[1]);
        while (!pump(f) && follow) {
                json_t *now = NULL;
                bool alive = false;
                if (registry_read(&now, &alive, reg, argv[1], NULL) < 0 || !alive) {
                        json_decref(now);
                        pump(f);
                        break;
                }
                json_decref(now);
                nanosleep(&tick, NULL);
        }
        fclose(f);
        return EXIT_OK;
}

const cli_command cmd_logs = {
        .name = "logs",
        .summary = "print a running pod's transcript (pod logs NAME -f)",
        .run = logs_main,
};
