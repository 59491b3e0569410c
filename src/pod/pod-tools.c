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

static const tool_ext pod_tool_defs[] = {
        { "SpawnPod", pod_tool, NULL, /* the description comes from the prompt catalog */
          "{\"type\":\"object\",\"properties\":{"
          "\"name\":{\"type\":\"string\",\"description\":\"The child's pod name: lowercase "
          "letters, digits, '.', '_' or '-', unique among running pods\"},"
          "\"task\":{\"type\":\"string\",\"description\":\"What the child should do, complete "
          "and self-contained: it does not see your conversation\"},"
          "\"scope\":{\"type\":\"array\",\"description\":\"The only paths the child may touch. "
          "Each must be inside your own scope; a write rule gives the child the write lease there, "
          "and you keep read only until it ends\",\"items\":{\"type\":\"object\",\"properties\":{"
          "\"path\":{\"type\":\"string\",\"description\":\"Absolute path\"},\"access\":{"
          "\"type\":\"string\",\"enum\":[\"read\",\"write\"]},\"recursive\":{\"type\":"
          "\"boolean\",\"description\":\"Default true; false only for one existing file (a "
          "directory is always granted whole)\"}},\"required\":[\"path\",\"access\"],"
          "\"additionalProperties\":false}},"
          "\"profile\":{\"type\":\"string\",\"description\":\"A profile selector from the list "
          "above; default or omitted: the default profile; inherit: your own recipe\"},"
          "\"instruction\":{\"type\":\"string\",\"description\":\"Replaces the profile's worker "
          "instruction (the task still comes from task)\"},"
          "\"cwd\":{\"type\":\"string\",\"description\":\"The child's working directory: "
          "absolute, and once symlinks and '..' are resolved a directory readable in its scope "
          "(default: yours when the scope can read it, else the first scope path)\"},"
          "\"budget\":{\"type\":\"object\",\"description\":\"What the child may spend, out "
          "of your own remaining budget: reserved for it until it ends, and what it leaves "
          "returns to you. Each part left out is what its profile allows, at most what you have "
          "left; a spawn that cannot get a positive budget is refused with the figures\","
          "\"properties\":{\"tokens\":{\"type\":\"integer\",\"minimum\":1,\"description\":"
          "\"Input + output tokens of its model calls and its children's\"},\"turns\":{"
          "\"type\":\"integer\",\"minimum\":1,\"description\":\"Its own model turns\"},"
          "\"seconds\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Wall time\"},"
          "\"cost_usd\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"description\":\"US "
          "dollars, where profiles declare a price\"}},\"additionalProperties\":false}},"
          "\"required\":[\"name\",\"task\",\"scope\"],\"additionalProperties\":false}" },
        { "SendToPod", pod_tool,
          "Send a message to one of your child pods. A child that is working reads it between "
          "steps; one that is idle starts a new turn with it.",
          "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"description\":"
          "\"The child pod\"},\"message\":{\"type\":\"string\"}},\"required\":[\"name\","
          "\"message\"],\"additionalProperties\":false}" },
        { "WaitPod", pod_tool,
          "Wait until child pods finish their current turn, and return each one's state and "
          "result (or error).",
          "{\"type\":\"object\",\"properties\":{\"names\":{\"type\":\"array\",\"items\":{"
          "\"type\":\"string\"},\"description\":\"Which children (default: all)\"},\"timeout_s\":"
          "{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600,\"description\":\"Default "
          "600\"}},\"additionalProperties\":false}" },
        { "ReadPodOutput", pod_tool,
          "The text a child pod has written since you last read it (its progress notes and "
          "answers).",
          "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":"
          "[\"name\"],\"additionalProperties\":false}" },
        { "ListPods", pod_tool,
          "List your child pods: state, profile, turns done and the write lease each holds.",
          "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}" },
        { "StopPod", pod_tool,
          "Stop one of your child pods (and its own children); its write lease returns to you.",
          "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":"
          "[\"name\"],\"additionalProperties\":false}" },
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

json_t *pod_tool_schemas(const json_t *m, const char *spawn_description) {
        return tools_schemas(m, pod_tool_defs, POD_ARRAY_SIZE(pod_tool_defs),
                             spawn_description ?: "Start a child pod.");
}
