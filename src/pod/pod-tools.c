/* SPDX-License-Identifier: MIT */
/*
 * The pod tools (DESIGN §12): SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods and
 * StopPod, added to the pod's tool set (src/tools) and acting on its tree of children
 * (tree.c). The tree's hooks go in with them: the children's write leases narrow the file
 * tools and Bash's sandbox, and what a command leaves running is killed with the live
 * children and the shell started ahead kept.
 */
#include <string.h>

#include "pod.h"

/* WaitPod's input with its timeout cut to what is left of the task (NULL: out of memory). */
static json_t *wait_input(const pod_tools *t, const json_t *in) {
        json_t *v = json_object_get(in, "timeout_s");
        int secs = v ? (int) json_integer_value(v) : POD_WAIT_DEFAULT_S; /* the schema's range */
        json_t *copy = json_deep_copy(in);

        if (copy &&
            json_object_set_new(copy, "timeout_s", json_integer(tools_cap_timeout_s(t, secs))) <
                    0) {
                json_decref(copy);
                return NULL;
        }
        return copy;
}

static int pod_tool(tool_result *out, pod_tools *t, void *ud, const char *name, const json_t *in);

/* Their descriptions and input schemas are resources/tools/<name>.json (src/tools); SpawnPod's
 * description is rendered from the prompt catalog with the profiles the pod may spawn. */
static const tool_ext pod_tool_defs[] = {
        { "SpawnPod", pod_tool },      { "SendToPod", pod_tool }, { "WaitPod", pod_tool },
        { "ReadPodOutput", pod_tool }, { "ListPods", pod_tool },  { "StopPod", pod_tool },
};

/* The pod tools act on the pod's children (tree.c). */
static int pod_tool(tool_result *out, pod_tools *t, void *ud, const char *name, const json_t *in) {
        pod_tree *tree = ud;
        json_auto_t *wait = NULL;

        if (!tree)
                return tool_fail(out, "%s: this pod cannot start or manage child pods", name);
        if (strcmp(name, "WaitPod") == 0) {
                wait = wait_input(t, in);
                if (!wait)
                        return -ENOMEM;
                in = wait;
        }
        return tree_tool(out, tree, name, in);
}

static bool hook_leased(void *ud, const char *real, char *holder) {
        return tree_leased(ud, real, holder);
}

static int hook_lease_list(void *ud, scope_lease **out, size_t *ret_n) {
        return tree_lease_list(ud, out, ret_n);
}

static void hook_note_shell(void *ud, pid_t pid) {
        tree_note_shell(ud, pid);
}

static int hook_contain(void *ud, pod_stragglers *report) {
        return tree_contain(ud, report);
}

void pod_tools_attach(pod_tools *t, pod_tree *tree) {
        tools_hooks hooks = { .ud = tree,
                              .leased = hook_leased,
                              .lease_list = hook_lease_list,
                              .note_shell = hook_note_shell,
                              .contain = hook_contain };

        tools_set_hooks(t, tree ? &hooks : NULL);
        tools_add(t, pod_tool_defs, POD_ARRAY_SIZE(pod_tool_defs), tree);
}

bool pod_tool_is_pod_tool(const char *name) {
        for (size_t i = 0; name && i < POD_ARRAY_SIZE(pod_tool_defs); i++)
                if (strcmp(pod_tool_defs[i].name, name) == 0)
                        return true;
        return false;
}

json_t *pod_tool_schemas(const json_t *m, const char *spawn_description) {
        json_t *list = tools_schemas(m, pod_tool_defs, POD_ARRAY_SIZE(pod_tool_defs)), *v;
        size_t i;

        json_array_foreach(list, i, v)
                if (spawn_description &&
                    strcmp(json_string_value(json_object_get(v, "name")), "SpawnPod") == 0 &&
                    json_object_set_new(v, "description", json_string(spawn_description)) < 0) {
                        json_decref(list);
                        return NULL;
                }
        return list;
}
