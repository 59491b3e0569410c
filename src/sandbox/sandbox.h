/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * sandbox: Landlock rulesets and seccomp filters built from a scope (DESIGN §14,
 * docs/sandbox.md). It prepares in the parent and applies with system calls alone, so the
 * confinement can run between clone and exec (proc_plan.confine).
 */

#include <jansson.h>

#include "base/base.h"
#include "manifest/manifest.h"

/* ---- the kernel sandbox (sandbox.c): Landlock + seccomp, DESIGN §14 --------------------- */

/*
 * The allow rules of a pod's scope, each opened once (O_PATH, no symlinks followed) when the
 * pod starts; every later ruleset is built from these descriptors (docs/sandbox.md).
 */
typedef struct sandbox_roots sandbox_roots;

int sandbox_roots_open(sandbox_roots **out, const pod_scope *scope, pod_error *err);
sandbox_roots *sandbox_roots_free(sandbox_roots *roots);
static inline void sandbox_roots_freep(sandbox_roots **r) {
        *r = sandbox_roots_free(*r);
}

/* What a sandbox allows; every path absolute and canonical. */
#define SANDBOX_CHILD_PORTS_MAX 16

typedef struct sandbox_spec {
        const pod_scope *scope; /* allow rules; deny rules become holes */
        /* The descriptors every allow rule is opened beneath: the pod's own roots (a Bash
         * command) or its spawner's (a child). NULL: the scope's rules are opened now. */
        const sandbox_roots *roots;
        /* A rule whose path no longer names what it named at the start is dropped and
         * reported here, a line each; without notes, it refuses the sandbox instead. */
        pod_buf *notes;
        int tmp_fd; /* > 0: a directory opened once, read and write (TMPDIR) */
        const scope_lease *leases; /* holes too: read only there (Bash under a child's lease) */
        size_t n_leases;
        const char *const *own_write; /* NULL-terminated: the pod's own entry, run dir, tmp */
        const char *const *own_read; /* NULL-terminated */
        /* NULL-terminated: a delegate CLI's paths (sandbox_extra), granted as own_write and
         * own_read are; one that does not exist is skipped */
        const char *const *more_write;
        const char *const *more_read;
        pod_network network;
        int model_port; /* model-only: the TCP port a pod connects to its model on */
        /* model-only: the model ports of the profiles its children may run, 0-terminated (a
         * child is confined within its spawner's sandbox too) */
        int child_ports[SANDBOX_CHILD_PORTS_MAX + 1];
        bool command; /* a Bash command: without full network, no socket but
                         stream socketpairs (docs/sandbox.md) */
        bool delegate; /* a delegate CLI and its processes: without full
                          network, no Unix socket but stream socketpairs; TCP
                          as the network allows (docs/sandbox.md) */
        const char *runtime_dir; /* a pod: its registry, to make and write entries in */
        unsigned nproc; /* RLIMIT_NPROC (0: POD_NPROC_MAX); never raises one */
        uint64_t fsize; /* RLIMIT_FSIZE (0: left as it is); never raises one */
} sandbox_spec;

/* Processes a confined pod or command may have its user run (RLIMIT_NPROC, which the
 * kernel counts per user and does not apply to root: docs/sandbox.md). */
#define POD_NPROC_MAX 4096u

/* A prepared sandbox: the Landlock ruleset and the seccomp filter (opaque, so that no
 * includer pulls in <linux/filter.h>). */
typedef struct pod_sandbox pod_sandbox;

/* The kernel's Landlock ABI, 0 without Landlock (POD_SANDBOX_ABI=N, a test hook, lowers it). */
int sandbox_abi(void);
/* Build the ruleset and the filter; without Landlock, a refusal that says so. */
int sandbox_prepare(pod_sandbox **out, const sandbox_spec *spec, pod_error *err);
pod_sandbox *sandbox_free(pod_sandbox *sb);
static inline void sandbox_freep(pod_sandbox **sb) {
        *sb = sandbox_free(*sb);
}
/* The ruleset descriptor (close-on-exec, >= 64): proc_plan.confine_fd. */
int sandbox_ruleset_fd(const pod_sandbox *sb);
/* The RLIMIT_NPROC sandbox_apply sets. */
unsigned long sandbox_nproc(const pod_sandbox *sb);
/* A test hook: apply Landlock and the limits alone, no seccomp filter. */
void sandbox_drop_filter(pod_sandbox *sb);
/*
 * no_new_privs, every capability dropped (root made ordinary by locked securebits), the
 * process limit, Landlock, seccomp (unless inherited: sandbox_adopted), in that order.
 * Makes only system calls, so it may run between clone and exec. Returns 0 or an errno
 * value.
 */
int sandbox_apply(const pod_sandbox *sb);
/* sandbox_apply for proc_plan.confine (ud: the pod_sandbox). */
int sandbox_confine_hook(void *ud);
/*
 * What a pod process may reach beyond its scope for the delegate CLIs (DESIGN §9) it runs or
 * its children may run: their install dirs, their state dirs, their API ports. The caller
 * finds them (llm_needs_of); children get them only through their own sandbox, never
 * through their scope.
 */
typedef struct sandbox_extra {
        const char *const *read_paths; /* NULL-terminated: read and execute */
        const char *const *write_paths; /* NULL-terminated: read and write */
        int ports[SANDBOX_CHILD_PORTS_MAX + 1]; /* model-only: TCP ports, 0-terminated */
} sandbox_extra;

/* The TCP port of the model endpoint of a manifest's view; 0 when it has none. */
int sandbox_model_port(const manifest_view *v);
/*
 * The sandbox of a pod process running the manifest of view v (DESIGN §14): its scope, its
 * run dir, the pod executable (to start children), its registry (entries made and written,
 * none read), the network of the manifest (the model's port for model-only), and extra (may be
 * NULL). Its scope's rules
 * are opened beneath within (the spawner's roots; NULL: opened now, as the pod starts), and
 * one that no longer resolves there without a symlink refuses the sandbox.
 */
int sandbox_pod(pod_sandbox **out,
                const manifest_view *v,
                const sandbox_roots *within,
                const char *run_dir,
                const char *exe,
                const char *runtime_dir,
                const sandbox_extra *extra,
                pod_error *err);
/* sandbox_pod applied to this process, which must run one thread (a top-level pod). */
int sandbox_confine_self(const manifest_view *v,
                         const char *run_dir,
                         const char *exe,
                         const char *runtime_dir,
                         const sandbox_extra *extra,
                         pod_error *err);
/*
 * A child pod whose manifest is sandboxed: its spawner loaded the pod filter before exec (or
 * had it and passed it on), so its own children inherit it. Noted when the kernel confirms
 * a filter is on this process; sandbox_prepare then loads no second copy for a pod.
 */
void sandbox_adopted(void);
