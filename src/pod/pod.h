/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * pod: the running pod. Its registry, its control state, the worker loop, the tree of its
 * children (leases, spawn and the adopt handshake) and the pod tools that act on it. The
 * file tools and Bash are src/tools; the kernel sandbox src/sandbox.
 */

#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>

#include "base/base.h"
#include "manifest/manifest.h"
#include "rpc/rpc.h"
#include "sandbox/sandbox.h"
#include "tools/tools.h"

#define POD_WAIT_DEFAULT_S 600 /* WaitPod's timeout_s by default */

typedef struct pod_tree pod_tree;

/* ---- budgets and usage (budget.c, DESIGN §18, docs/budgets.md) --------------------------- */

#define POD_UNLIMITED UINT64_MAX /* a budget part with no bound */
#define POD_NANO_PER_USD 1000000000ull

/* What model calls used: one call's, a pod's own, or a subtree's. Tokens are input + output;
 * cached reads are counted apart. Cost is in nano-USD, so sums are exact. */
typedef struct pod_usage {
        uint64_t input, output, cache_read, cache_write;
        uint64_t turns;
        uint64_t cost_nano;
} pod_usage;

/* A budget's four parts (POD_UNLIMITED: none). Tokens and cost are summed up the tree and a
 * child's share is reserved; turns and seconds bound each pod and narrow down the tree. */
typedef struct pod_limits {
        uint64_t tokens, turns, seconds, cost_nano;
} pod_limits;

uint64_t usage_tokens(const pod_usage *u);
void usage_add(pod_usage *to, const pod_usage *u);
/*
 * A model call's usage (llm.h's object: {input_tokens, output_tokens, cache_read_tokens,
 * cache_write_tokens, turns?, cost_usd?}, hostile). turns: 1 when left out, 0 allowed (a
 * cost-only report). cost_usd, when given, is the call's cost (nano-USD rounded up);
 * otherwise the tokens are priced with price (NULL/unset: 0). null usage: one turn, nothing
 * else. A bad field is a one-line error naming it, and *out is left as it was.
 */
int usage_of_call(pod_usage *out, const json_t *usage, const manifest_price *price, pod_error *err);
/* The wire and file form: {tokens, input_tokens, output_tokens, cache_read_tokens,
 * cache_write_tokens, turns, cost_usd}; usage_from_json checks a child's report (hostile). */
json_t *usage_to_json(const pod_usage *u);
int usage_from_json(pod_usage *out, const json_t *j, pod_error *err);
/* "tokens 1,234 (cached 50), turns 3, $0.0012" (cost only where priced). */
void usage_describe(pod_buf *b, const pod_usage *u, bool priced);
pod_limits limits_of_manifest(const manifest_budget *b);
/* The same from a validated manifest's JSON (a child's, just resolved by spawn_prepare). */
pod_limits limits_of_manifest_json(const json_t *m);
/* {tokens, turns, seconds, cost_usd}, null for an unbounded part. */
json_t *limits_to_json(const pod_limits *l);
/* SpawnPod.budget {tokens?, turns?, seconds?, cost_usd?}: each part given must be positive;
 * the parts left out are POD_UNLIMITED (the request does not bound them). */
int limits_from_request(pod_limits *out, const json_t *j, pod_error *err);
/* Part by part the least of ceiling, request and remaining; -EDQUOT (with the figures in err)
 * when a part would be 0. */
int limits_grant(pod_limits *out,
                 const pod_limits *ceiling,
                 const pod_limits *request,
                 const pod_limits *remaining,
                 pod_error *err);

/* A pod's budget: what it was granted, its own usage, and its ledger of children (each one's
 * grant, reserved until it ends, and the usage of its subtree as it reported it). Thread-safe:
 * the worker charges calls and reserves, the socket thread counts reports. */
typedef struct pod_budget pod_budget;

/* The budget of a manifest's view (its budget and price); the clock starts now. path: where
 * the usage is kept (usage.json in the registry entry, rewritten at each change); NULL: none. */
int budget_new(pod_budget **out, const manifest_view *v, const char *path, pod_error *err);
pod_budget *budget_free(pod_budget *b);
/* One model call of the pod's own. */
void budget_charge(pod_budget *b, const pod_usage *call);
/*
 * The same from the handler's usage object (usage_of_call); *ret_call (may be NULL): what was
 * charged. A bad object charges nothing (< 0, err says why). A call that gave cost_usd makes
 * the budget priced: it has a cost to show even without a price. A cost-only report (turns
 * 0, no tokens, cost_usd) is the CLI's cost of the calls reported since the last one without
 * a cost: what price counted for them is deducted, never below 0. Exhaustion is for the
 * caller to ask (budget_exhausted); charging never refuses for it.
 */
int budget_charge_call(pod_budget *b, const json_t *usage, pod_usage *ret_call, pod_error *err);
/* Has a part run out (own + children's usage at its limit, or the time passed)? Then true and
 * why: "budget exhausted (tokens 1,000,000 of 1,000,000)". */
bool budget_exhausted(pod_budget *b, char *why, size_t n);
/* The remaining budget a child can be granted now (tokens and cost less what running children
 * hold reserved; seconds left; turns the pod has not used). */
void budget_remaining(pod_budget *b, pod_limits *out);
/* Is anything left for a model call of the pod's own, beyond what children hold reserved? */
bool budget_can_call(pod_budget *b);
/* Grant child the least of ceiling, request and the remaining budget, and reserve it (a
 * token or cost part the request leaves out: at most half of what is left). A refusal names
 * the part and the figures. */
int budget_reserve(pod_budget *b,
                   const char *child,
                   const pod_limits *ceiling,
                   const pod_limits *request,
                   pod_limits *ret_grant,
                   pod_error *err);
/* A child's report: its subtree's usage so far (only ever rises; a lower figure is ignored). */
void budget_child_usage(pod_budget *b, const char *child, const pod_usage *subtree);
/* The child ended. final: its last report holds all it spent (what it left of its grant
 * returns); otherwise its whole grant counts as spent (it may have spent it unreported). */
void budget_child_end(pod_budget *b, const char *child, bool final);
/* A spawn rolled back before the child ran: its reservation returns whole. */
void budget_child_cancel(pod_budget *b, const char *child);
void budget_usage(pod_budget *b, pod_usage *ret_own, pod_usage *ret_subtree);
bool budget_priced(pod_budget *b);
/* The budget's end on the monotonic clock, in seconds (now_s()'s clock). */
double budget_deadline(const pod_budget *b);
/* {budget, usage: {own, subtree}, remaining, priced}: usage.json and result.json. */
json_t *budget_to_json(pod_budget *b);
/* Called (outside the budget's lock) after each change of the subtree's usage. */
void budget_on_change(pod_budget *b, void (*fn)(void *ud), void *ud);

/* ---- the worker loop (worker.c) --------------------------------------------------------- */

/*
 * Events, each a JSON object with "type":
 *   message      {text}                    a message sent to the pod while it works
 *   text         {text, final}             the model's text of a turn (final: the answer)
 *   tool_call    {id, name, input}
 *   tool_result  {id, name, ok, text, ms}
 *   delta        {text}                    the model's text as it streams in (native)
 *   tool_call_delta {id, name, bytes}      a tool call's input as it streams in (native)
 *   retry        {attempt, delay_ms, reason} a model call tried again (native)
 *   usage        {turn, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
 *                 tokens, cost_usd, subtree}    one model call's, and the subtree's so far
 *   end          {status: ok|failed|max_turns|timeout|cancelled|budget, result?, error?, turns,
 *                 usage: {own, subtree}}
 * The transcript holds these too, after a system_prompt, manifest and task line.
 */
typedef void (*worker_sink)(void *ud, const json_t *event);

typedef struct worker_opts {
        const json_t *manifest; /* validated and inlined (the transcript records it) */
        const manifest_view *view; /* its view, borrowed; NULL: built by the worker */
        const char *system_prompt;
        const char *task;
        const char *output_dir; /* Bash logs; may be NULL */
        FILE *transcript; /* JSONL; may be NULL */
        const volatile sig_atomic_t *cancel; /* may be NULL */
        worker_sink sink; /* may be NULL */
        void *sink_ud;
        /* Messages sent to the pod while it works (`send`), added between turns. */
        char *(*next_message)(void *ud); /* may be NULL; the worker frees what it returns */
        void *message_ud;
        pod_tree *tree; /* the pod tools act on it; may be NULL */
        const char *spawn_description; /* SpawnPod's, from the prompt catalog; may be NULL */
        uint64_t run_dir_cap; /* bytes; 0: POD_RUN_DIR_CAP_DEFAULT_MIB */
        pod_budget *budget; /* NULL: the worker keeps one of its own, from the manifest */
        /* A delegate pod (claude:, codex:): the pod executable (its CLI starts `pod mcp
         * --attach`) and the environment the CLI's is taken from. May be NULL otherwise. */
        const char *exe;
        char *const *envp;
} worker_opts;

typedef struct pod_worker pod_worker;

/* A conversation that lasts across tasks: the system prompt, then one worker_turn per task
 * (or message received while idle). The transcript gets the manifest and system prompt once. */
int worker_new(pod_worker **out, const worker_opts *o, pod_error *err);
int worker_turn(pod_worker *w, const char *task, char **ret_result, pod_error *err);
pod_worker *worker_free(pod_worker *w);
/* The conversation so far (the neutral form of llm.h), for tests and inspection. */
const json_t *worker_conversation(const pod_worker *w);

/*
 * Run the conversation until the model answers without tool calls. 0 and *ret_result on
 * success; < 0 with err on a runtime failure (the model handler, max_turns, timeout_s,
 * cancellation). Tool errors are the model's to handle, not failures of the run.
 */
int worker_run(const worker_opts *o, char **ret_result, pod_error *err);

/* ---- delegates (delegate.c, DESIGN §9) --------------------------------------------------- */

/*
 * The MCP server a delegate's CLI is given, bound to its pod (DESIGN §17 "bound"): src/mcp's,
 * which builds on this module, so the CLI layer hands it down once (pod_mcp_bind) before any
 * pod starts. open: a server offering tools ([{name, description, input_schema}]) whose calls
 * go to call; answer: one message (a line) in, the reply out (NULL: none is due).
 */
typedef struct pod_mcp_binding {
        void *(*open)(const json_t *tools,
                      const char *pod_name,
                      int (*call)(void *ud, const char *name, const json_t *in, tool_result *out),
                      void *ud);
        json_t *(*answer)(void *server, const char *line, size_t len);
        void (*close)(void *server);
} pod_mcp_binding;

void pod_mcp_bind(const pod_mcp_binding *b);
/* The binding handed down; NULL: none (a delegate CLI then gets no pod tools). */
const pod_mcp_binding *pod_mcp_bound(void);

/* What a pod process running v needs in its own sandbox for delegate CLIs (llm_needs_of: its
 * own, and those of the delegate profiles its snapshot lets it spawn). State dirs that do not
 * exist yet are made (0700). A missing CLI of its own model is an error naming the package. */
typedef struct pod_delegate_extra {
        sandbox_extra extra; /* points into read and write */
        char **read, **write;
} pod_delegate_extra;

int delegate_extra_of(pod_delegate_extra *out,
                      const manifest_view *v,
                      char *const *envp,
                      pod_error *err);
void delegate_extra_done(pod_delegate_extra *x);

/* ---- the registry (registry.c, DESIGN §8) ------------------------------------------------ */

#define POD_TOKEN_HEX 32 /* 128-bit tokens */

typedef struct pod_registry pod_registry;

/*
 * Open (creating when missing) the runtime dir: it must be a directory of this user with
 * mode 0700, never a symlink, else the registry is refused with the reason.
 */
int registry_open(pod_registry **out, const char *runtime_dir, pod_error *err);
pod_registry *registry_free(pod_registry *reg);
static inline void registry_freep(pod_registry **r) {
        registry_free(*r);
}
/* <runtime dir>/pods/<name>/<file> (allocated). */
char *registry_path(const pod_registry *reg, const char *name, const char *file);
#define POD_LEASES_MAX 1024u

/*
 * What a child reservation claims: its write rules, checked under the same lock as the
 * reservation against the leases the spawner knows (its own children's write rules) and,
 * with scan, against those of every live pod in the registry but the spawner and its
 * ancestors. A sandboxed spawner cannot scan (it reads no entry, docs/sandbox.md); its
 * write scope was free of other pods' leases when it got it, and only its own children
 * can have taken part of it since.
 */
typedef struct registry_claim {
        const char *spawner;
        const scope_rule *rules;
        size_t n_rules;
        const scope_lease *known;
        size_t n_known;
        bool scan;
} registry_claim;

/*
 * Reserve name for a pod: under the registry lock, check the claim (NULL: none) against
 * the write leases (DESIGN §7: the write rules of live child pods, but the spawner's and its
 * ancestors'), reap a dead holder of the name, then mkdir the entry and write its pod.json
 * (entry: the fields of DESIGN §8; pid and start time are filled in here for the calling
 * process). An overlapping lease is an error naming its holder; so is a live holder of the
 * name. A refusal changes nothing.
 */
int registry_reserve(pod_registry *reg,
                     const char *name,
                     json_t *entry,
                     const registry_claim *claim,
                     pod_error *err);
/* Rewrite pod.json (temporary file + rename) with entry's fields, "updated" refreshed. */
int registry_update(pod_registry *reg, const char *name, json_t *entry, pod_error *err);
/* registry_update with entry's member key written as member, JSON text the caller keeps made
 * (what entry holds under key is left out): a spawner's list of its children. */
int registry_update_member(pod_registry *reg,
                           const char *name,
                           json_t *entry,
                           const char *key,
                           const char *member,
                           pod_error *err);
/* Remove an entry and everything in it. */
int registry_remove(pod_registry *reg, const char *name, pod_error *err);
/* Read one entry's pod.json; *ret_alive tells whether its process still lives. */
int registry_read(
        json_t **out, bool *ret_alive, pod_registry *reg, const char *name, pod_error *err);
/* registry_read of a live pod; -ESRCH (the entry reaped) when its process is gone. */
int registry_read_live(json_t **out, pod_registry *reg, const char *name, pod_error *err);
/* Every entry, dead ones reaped first: [{...pod.json..., "alive": true}]. */
int registry_list(json_t **out, pod_registry *reg, pod_error *err);
/* Is pid alive with this start time (clock ticks since boot, /proc/PID/stat field 22)? */
bool registry_alive(long pid, unsigned long long start_time);
/* What a registry entry is made of (DESIGN §8): the pod's manifest and its places. */
typedef struct registry_entry_spec {
        const manifest_view *view; /* the pod's manifest */
        const char *parent; /* the spawner's name; NULL: a top-level pod */
        const char *sock;
        const char *token;
        const char *callback_token; /* a child's, for its reports; NULL: none */
        const char *transcript;
        const char *run_dir;
} registry_entry_spec;

/* A new pod.json entry, state "starting" (NULL: out of memory). */
json_t *registry_entry_new(const registry_entry_spec *e);
/* A fresh random token (POD_TOKEN_HEX hex characters). */
int registry_new_token(char out[POD_TOKEN_HEX + 1], pod_error *err);

/* ---- the control state and the socket's methods (control.c, DESIGN §12) ----------------- */

#define POD_INBOX_MAX 64u /* queued `send` messages */
#define POD_TASK_MAX (1024u * 1024u) /* a task or message: run, send, SpawnPod, pod run */

/* What a pod's socket asks of the rest of the pod. */
typedef struct control_hooks {
        void *ud;
        /* Is token the callback token of one of this pod's children? Then copy its name. */
        bool (*callback_owner)(void *ud, const char *token, char child[POD_NAME_BUF]);
        /* child_event {pod, kind, ...} from that child; < 0 with err refuses it. */
        int (*child_event)(void *ud, const char *child, const json_t *params, pod_error *err);
        /* reconfigure {profiles}: replace the snapshot children resolve against (*ret: the
         * answer); < 0 with err refuses it and changes nothing. */
        int (*reconfigure)(void *ud, const json_t *params, json_t **ret, pod_error *err);
} control_hooks;

/*
 * What the socket, the worker and the signal handlers share (opaque; control.c alone changes
 * it, under its lock): the state `status` reports, the inbox of `send`, cancel and shutdown,
 * and for a pod that waits for work (a child) the task `run` or `send` hands over.
 */
typedef struct pod_control pod_control;

int control_new(pod_control **out, pod_error *err);
pod_control *control_free(pod_control *ctl);
/* Posted on run, send, cancel and shutdown (sem may be NULL: none). */
void control_set_wake(pod_control *ctl, sem_t *sem);
/* A signal: cancel and shut down. Async-signal-safe (a sig_atomic_t store and sem_post). */
void control_interrupt(pod_control *ctl);
/* Cancel the work in progress, as the socket's `cancel` does (the pod goes on). */
void control_cancel(pod_control *ctl);
/* The flag `cancel`, `shutdown` and signals set: the worker and WaitPod watch it. */
const volatile sig_atomic_t *control_cancel_flag(pod_control *ctl);
bool control_shutting_down(pod_control *ctl);
/* The model turns `status` reports. */
void control_set_turns(pod_control *ctl, unsigned turns);
/* From now on `run`, or `send` while idle, hands over the pod's next task (a child). */
void control_accept_runs(pod_control *ctl);
/* The task handed over (the caller frees it; the pod is then working), or NULL: none yet
 * (*ret_stop: shutdown was asked for). */
char *control_take_task(pod_control *ctl, bool *ret_stop);
/* Idle, and no task waiting. */
bool control_idle(pod_control *ctl);
/* A turn of work ended: its number; messages that came too late for it make the next task
 * at once (*ret_idle: none did). `cancel` ends a turn, not the pod: it is cleared. */
unsigned control_finish_turn(pod_control *ctl, bool *ret_idle);

/* The pod's socket (src/rpc) with its methods acting on ctl, listening on sock_path (which
 * must not exist) for clients of this uid; server_serve starts serving it. */
int control_listen(pod_server **out,
                   const char *sock_path,
                   const char *token,
                   const char *name,
                   pod_control *ctl,
                   const control_hooks *hooks,
                   pod_error *err);
/* control_listen, then server_serve. */
int control_start(pod_server **out,
                  const char *sock_path,
                  const char *token,
                  const char *name,
                  pod_control *ctl,
                  const control_hooks *hooks,
                  pod_error *err);
/* The next queued `send` message, or NULL (caller frees). */
char *control_take_message(pod_control *ctl);
void control_set_state(pod_control *ctl, const char *state);
/*
 * The spawner's channel to a child (a socket pair; protocol.md): ready from the child, then
 * one call (ipc_call_fd). control_first_task answers that call in the child, taking a run
 * request's task as the next turn, and wakes the worker once it has answered.
 */
int control_first_task(pod_control *ctl, int fd, pod_error *err);

/* ---- SpawnPod, the steps before anything is reserved (spawn-prepare.c) -------------------- */

typedef struct spawn_request {
        const json_t *input; /* SpawnPod {name, task, scope, profile?, instruction?, cwd?} */
        const scope_lease *leases; /* write leases known now, if any (SpawnPod checks them
                                    * again under the registry lock, registry_reserve) */
        size_t n_leases;
        unsigned live_children; /* the spawner's children now */
        const manifest_view *view; /* the spawner's manifest's view; NULL: built here */
        profile_set *profiles; /* the parent's snapshot, parsed (spawn_profiles); NULL:
                                * parsed for this request */
        const json_t *snapshot; /* the snapshot profiles came from, which the child
                                 * carries (NULL: the parent manifest's) */
        const char *runtime_dir; /* the child's socket must fit sun_path */
} spawn_request;

/*
 * DESIGN §8 steps 1-3 for a spawner running manifest parent: validate the input, resolve
 * the profile from the parent's snapshot (or inherit), build the child manifest with the
 * delegated scope, and check depth and child limits. Touches nothing: on success *out is
 * the child's manifest and *ret_task its task; a refusal is one line for the model.
 */
/* The profile set of a spawner's snapshot (its manifest's "profiles"), for selectors. */
int spawn_profiles(profile_set **out, const manifest_view *parent, pod_error *err);
/* ret_view (may be NULL): the child manifest's view, built as it is checked. */
int spawn_prepare(json_t **out,
                  manifest_view **ret_view,
                  const char **ret_task,
                  const json_t *parent,
                  const spawn_request *req,
                  pod_error *err);

/* ---- a pod's children (tree.c, DESIGN §7, §8, §12) -------------------------------------- */

typedef struct tree_opts {
        const json_t *manifest; /* the spawner's (borrowed for the tree's life) */
        const manifest_view *view; /* its view (borrowed likewise); NULL: built here */
        const char *name; /* the spawner's name */
        const char *sock; /* the spawner's socket: children report there */
        const char *run_dir; /* each child's run dir is made below it */
        const char *exe; /* the pod executable */
        const char *runtime_dir;
        char *const *envp; /* the spawner's environment: a child gets a curated part */
        pod_registry *reg;
        json_t *entry; /* the spawner's registry entry; children are recorded in it */
        const volatile sig_atomic_t *cancel; /* stops WaitPod */
        pod_budget *budget; /* the spawner's: children's grants come out of it */
} tree_opts;

int tree_new(pod_tree **out, const tree_opts *o, pod_error *err);
/* Stop every child still running: shutdown, a grace period, then SIGKILL; entries removed. */
void tree_stop_all(pod_tree *t);
/* tree_stop_all, then free. The socket must be stopped first (its hooks use the tree). */
pod_tree *tree_free(pod_tree *t);
/* SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods, StopPod. */
int tree_tool(tool_result *out, pod_tree *t, const char *tool, const json_t *in);
/* Hooks for the socket (server_hooks) and the file tools (pod_fs.leased). */
bool tree_callback_owner(pod_tree *t, const char *token, char owner[POD_NAME_BUF]);
int tree_child_event(pod_tree *t, const char *child, const json_t *params, pod_error *err);
/* reconfigure {profiles} (DESIGN §12): check the snapshot, make it the one later spawns
 * resolve against, forward it to every live child; *ret {digest, forwarded}. */
int tree_reconfigure(pod_tree *t, const json_t *params, json_t **ret, pod_error *err);
bool tree_leased(pod_tree *t, const char *real, char *holder);
size_t tree_live_children(pod_tree *t);
/* The shell the Bash tool started ahead (0: none): kept when the tree kills stragglers. */
void tree_note_shell(pod_tree *t, pid_t pid);
/* A delegate's CLI (0: none): kept, with all it started, when the tree kills stragglers; it
 * is the pod's worker (docs/sandbox.md, delegates and leases). */
void tree_note_delegate(pod_tree *t, pid_t pid);
/*
 * Before a model call of the pod's own: while running children hold all that is left of its
 * budget reserved, wait for them; idle children holding it are stopped, so that what they
 * left returns. 0: a call may go; -EDQUOT: nothing is left; -ECANCELED.
 */
int tree_await_budget(pod_tree *t, pod_budget *b);
/* contain_kill for this pod, keeping its live children and the shell started ahead. */
int tree_contain(pod_tree *t, pod_stragglers *report);
/* The write rules of the live children (their leases), copied; free with lease_list_free. */
int tree_lease_list(pod_tree *t, scope_lease **out, size_t *ret_n);

/* ---- the pod tools (pod-tools.c) ----------------------------------------------------------- */

/*
 * Add SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods and StopPod to a tool set, acting
 * on tree, and install the tree's hooks (its leases narrow the file tools, Bash's shell
 * started ahead is spared and stragglers contained with its live children kept). tree NULL:
 * the pod tools are there but refuse (this pod cannot start or manage child pods).
 */
void pod_tools_attach(pod_tools *t, pod_tree *tree);
/* The specs ({name, description, input_schema}, resources/tools/) of the manifest's tools, the
 * pod tools' among them; SpawnPod's description is spawn_description (rendered from the prompt
 * catalog) when not NULL. NULL: out of memory. */
json_t *pod_tool_schemas(const json_t *m, const char *spawn_description);
/* Is name one of the pod tools (SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods,
 * StopPod)? */
bool pod_tool_is_pod_tool(const char *name);

/* ---- the adopt handshake: both sides (tree.c starts a child, adopt.c is that child) ------- */

/* A child pod's argv (nothing secret or private: /proc shows it to every process) and the
 * descriptors its spawner hands over (DESIGN §8, docs/protocol.md). */
#define POD_ADOPT_ARG "--adopt"
#define POD_ADOPT_CONFIG_ARG "--spawn-config-json"
#define POD_ADOPT_READY_ARG "--ready-fd"
#define POD_ADOPT_ENTRY_ARG "--entry-fd"
#define POD_ADOPT_CONFIG_FD 3 /* the manifest (a memfd), as "@fd:3" */
#define POD_ADOPT_READY_FD 4 /* the spawner's channel: ready, then run */
#define POD_ADOPT_ENTRY_FD 5 /* the registry entry the spawner reserved (a memfd) */
#define POD_ADOPT_STR_(n) #n
#define POD_ADOPT_STR(n) POD_ADOPT_STR_(n)
#define POD_ADOPT_READY 'R' /* on the ready channel: the child's socket listens */
#define POD_ADOPT_FAILED '!' /* on the ready channel, then the reason: the start failed */

/* ---- the host: a running pod process, top-level (`pod run`) or child (host.c, adopt.c) ---- */

typedef struct pod_host {
        const json_t *manifest; /* validated and inlined; borrowed */
        manifest_view *view; /* its view, built once (host_start_*) and handed down */
        char *const *envp; /* children get a curated part of it */
        bool json; /* events as NDJSON on stdout */
        const char *name;
        char *runtime_dir, *run_dir, *transcript_path, *sock;
        char *exe; /* children's executable; NULL: this one (freed by host_stop) */
        uint64_t run_dir_cap; /* bytes, from POD_RUN_DIR_CAP_MIB (docs/running.md) */
        char token[POD_TOKEN_HEX + 1];
        const char *callback; /* a child's callback token (in entry) */
        char *parent_sock; /* a child's spawner's socket, for its reports (handed over
                            * with the entry: nothing of it in argv, docs/sandbox.md) */
        pid_t parent_pid; /* a child's spawner, the only process its reports go to */
        int entry_fd; /* a child's registry entry, from its spawner (--entry-fd) */
        FILE *transcript;
        pod_registry *reg;
        json_t *entry;
        bool reserved;
        pod_server *server;
        pod_tree *tree;
        pod_worker *worker;
        pod_buf prompt, spawn_desc;
        json_t *pending; /* the tool call whose result the progress line awaits */
        pod_budget *budget; /* what it was granted and what its subtree spent */
} pod_host;

/* "pod: warning: ..." on stderr (a child's stderr.log). */
void host_warn(const char *fmt, ...) _printf_(1, 2);
/* The control block the socket, the worker and the signal handlers share. */
pod_control *host_control(void);
/* SIGINT, SIGTERM and SIGHUP cancel the pod and wake host_wait; SIGPIPE is ignored. */
void host_signals(void);
/* Sleep until the socket or a signal has news, or timeout_s passes (-ETIMEDOUT). */
int host_wait(int timeout_s);

/* A top-level pod: run dir under the data dir, reservation, socket, children. */
int host_start_top(pod_host *h, const pod_dirs *dirs, pod_error *err);
/* A child: its entry, reserved by the parent and handed over on entry_fd (a pod reads no
 * registry entry, docs/sandbox.md), gives its token, callback token and run dir. Its socket
 * listens on return; host_serve starts serving it. */
int host_start_child(pod_host *h, pod_error *err);
int host_serve(pod_host *h, pod_error *err);
int host_set_state(pod_host *h, const char *state, pod_error *err);
/* One turn of work; the conversation carries over to the next. */
int host_turn(pod_host *h, const char *task, char **ret_answer, pod_error *err);
/* result.json in the registry entry (temporary file + rename). */
void host_write_result(pod_host *h, const char *answer, const pod_error *err);
/*
 * `pod stop`: ask the pod of entry e (registry_read_live) to shut down through its socket,
 * once the socket shows that the entry's pid serves it (a sandboxed pod can rewrite entries
 * it cannot read: docs/sandbox.md); SIGKILL it after grace_ms; remove its entry. < 0 with err
 * when its process cannot be confirmed (nothing is signalled then).
 */
int host_stop_pod(
        pod_registry *reg, const char *name, const json_t *e, int grace_ms, pod_error *err);
/* Stop the children, the socket and the worker; remove the entry when asked. */
void host_stop(pod_host *h, bool remove_entry);

typedef struct host_adopt_opts {
        const char *config; /* the manifest: JSON, or @fd:N */
        int ready_fd; /* the spawner's channel; -EBADF: none (ready goes as a child_event) */
        int entry_fd; /* the registry entry the spawner reserved */
} host_adopt_opts;

/*
 * Run this process as the child pod the spawner started (`pod --adopt`, DESIGN §8, §12): read
 * and check the manifest and the entry, listen, report ready, take the first task, then serve
 * turns until shutdown, a signal or POD_IDLE_TIMEOUT_S idle. 0 when it ended so; < 0 with
 * err when it failed (*ret_usage: the manifest or the environment it was given is wrong).
 */
int host_adopt(const host_adopt_opts *o, char **envp, bool *ret_usage, pod_error *err);
