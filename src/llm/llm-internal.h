/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared inside the llm module only: the handler vtable each handler implements. */

#include "llm.h"

/*
 * One model handler. open builds the handler's own state from the manifest view (copying
 * what it keeps: the view may go before the handler does); complete makes one model call
 * and writes *out only when the whole turn was made; free takes NULL.
 */
typedef struct llm_ops {
        const char *name;
        int (*open)(void **ret_state, const manifest_view *v, pod_error *err);
        int (*complete)(void *state,
                        const json_t *conv,
                        const json_t *tools,
                        llm_turn *out,
                        pod_error *err);
        void (*free)(void *state);
} llm_ops;

/* The script handler (script.c). */
extern const llm_ops llm_script_ops;

/* *out gets the turn only when all of it was made; otherwise its parts are freed. */
int llm_turn_out(llm_turn *out, char *text, json_t *calls, json_t *usage, pod_error *err);
