/* SPDX-License-Identifier: MIT */
/*
 * `pod profile diff`: two resolved manifests compared field by field, and their worker
 * instructions as a unified diff (longest common subsequence of lines, bounded).
 */
#include <string.h>

#include "manifest-internal.h"

#define DIFF_CELLS_MAX (4u * 1024u * 1024u) /* lines(a) x lines(b) the diff may tabulate */
#define DIFF_CONTEXT 3

/* ---- field by field --------------------------------------------------------------------- */

/* Fields a diff leaves out: they differ by nature (the pod's name, the profile's identity is
 * shown apart) or are not part of the recipe (the profile snapshot). */
static bool skipped(const char *path) {
        static const char *const skip[] = { "pod.name", "profiles", "instruction", "version",
                                            NULL };

        return strv_contains((char *const *) skip, path);
}

static int flatten(json_t *out, const json_t *v, const char *path) {
        const char *key;
        json_t *sub;

        if (skipped(path))
                return 0;
        if (!json_is_object(v))
                return json_object_set(out, path, (json_t *) v);
        json_object_foreach((json_t *) v, key, sub) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s%s%s", path, *path ? "." : "", key) < 0)
                        return -ENOMEM;
                if (flatten(out, sub, p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int diff_keys(json_t *out, const json_t *fa, const json_t *fb, bool from_b) {
        const char *key;
        json_t *va;

        json_object_foreach((json_t *) (from_b ? fb : fa), key, va) {
                json_t *a = json_object_get(fa, key), *b = json_object_get(fb, key);
                if (from_b && a)
                        continue; /* compared from a's side already */
                if (a && b && json_equal(a, b))
                        continue;
                if (json_array_append_new(out,
                                          json_pack("{s:s, s:O, s:O}", "field", key, "a",
                                                    a ? a : json_null(), "b",
                                                    b ? b : json_null())) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int cmp_field(const void *x, const void *y) {
        return strcmp(json_string_value(json_object_get(*(json_t *const *) x, "field")),
                      json_string_value(json_object_get(*(json_t *const *) y, "field")));
}

int manifest_diff_fields(json_t **out, const json_t *a, const json_t *b) {
        json_auto_t *fa = json_object(), *fb = json_object(), *d = json_array();
        size_t n;
        json_t **items;

        if (!fa || !fb || !d || flatten(fa, a, "") < 0 || flatten(fb, b, "") < 0 ||
            diff_keys(d, fa, fb, false) < 0 || diff_keys(d, fa, fb, true) < 0)
                return -ENOMEM;
        n = json_array_size(d);
        items = calloc(n ? n : 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                items[i] = json_incref(json_array_get(d, i));
        qsort(items, n, sizeof(*items), cmp_field);
        json_array_clear(d);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(d, items[i]);
        free(items);
        *out = json_incref(d);
        return 0;
}

/* ---- a unified diff of two texts -------------------------------------------------------- */

typedef struct lines {
        const char **p;
        size_t *len;
        size_t n;
} lines;

static int split(lines *l, const char *t) {
        size_t cap = 16;

        l->n = 0;
        l->p = malloc(cap * sizeof(*l->p));
        l->len = malloc(cap * sizeof(*l->len));
        for (const char *s = t; l->p && l->len && *s;) {
                size_t k = strcspn(s, "\n");
                if (l->n == cap) {
                        cap *= 2;
                        const char **np = realloc(l->p, cap * sizeof(*np));
                        size_t *nl = np ? realloc(l->len, cap * sizeof(*nl)) : NULL;
                        if (np)
                                l->p = np;
                        if (!nl)
                                return -ENOMEM;
                        l->len = nl;
                }
                l->p[l->n] = s;
                l->len[l->n++] = k;
                s += k + (s[k] == '\n');
        }
        return l->p && l->len ? 0 : -ENOMEM;
}

static bool same(const lines *a, size_t i, const lines *b, size_t j) {
        return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* The edit script: for each step 0 (both), 1 (only a: '-'), 2 (only b: '+'). */
static int edit_script(unsigned char **ret, size_t *ret_n, const lines *a, const lines *b) {
        size_t w = b->n + 1, i = 0, j = 0, k = 0;
        uint32_t *t = calloc((a->n + 1) * w, sizeof(*t));
        unsigned char *ops = malloc(a->n + b->n + 1);

        if (!t || !ops) {
                free(t);
                free(ops);
                return -ENOMEM;
        }
        /* t[i][j]: the longest common subsequence of a[i..] and b[j..]. */
        for (size_t x = a->n; x-- > 0;)
                for (size_t y = b->n; y-- > 0;)
                        t[x * w + y] = same(a, x, b, y)               ? t[(x + 1) * w + y + 1] + 1 :
                                t[(x + 1) * w + y] > t[x * w + y + 1] ? t[(x + 1) * w + y] :
                                                                        t[x * w + y + 1];
        while (i < a->n || j < b->n) {
                if (i < a->n && j < b->n && same(a, i, b, j)) {
                        ops[k++] = 0;
                        i++, j++;
                } else if (i < a->n && (j == b->n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
                        ops[k++] = 1; /* deletions first, as diff -u writes them */
                        i++;
                } else {
                        ops[k++] = 2;
                        j++;
                }
        }
        free(t);
        *ret = ops;
        *ret_n = k;
        return 0;
}

/* One hunk: ops[from..to) with its line numbers. */
static void hunk(pod_buf *o,
                 const unsigned char *ops,
                 size_t from,
                 size_t to,
                 size_t ai,
                 size_t bi,
                 const lines *a,
                 const lines *b) {
        size_t na = 0, nb = 0;

        for (size_t k = from; k < to; k++) {
                na += ops[k] != 2;
                nb += ops[k] != 1;
        }
        buf_printf(o, "@@ -%zu,%zu +%zu,%zu @@\n", na ? ai + 1 : ai, na, nb ? bi + 1 : bi, nb);
        for (size_t k = from; k < to; k++) {
                const lines *l = ops[k] == 2 ? b : a;
                size_t idx = ops[k] == 2 ? bi : ai;
                buf_printf(o, "%c%.*s\n", " -+"[ops[k]], (int) l -> len[idx], l -> p[idx]);
                ai += ops[k] != 2;
                bi += ops[k] != 1;
        }
}

static void hunks(pod_buf *o, const unsigned char *ops, size_t n, const lines *a, const lines *b) {
        size_t k = 0, ai = 0, bi = 0;

        while (k < n) {
                size_t start, end, sa, sb, last;
                if (ops[k] == 0) {
                        k++, ai++, bi++;
                        continue;
                }
                /* A change at k: back up the context, then run until DIFF_CONTEXT * 2
                 * unchanged lines (or the end) follow the last change. */
                start = k < DIFF_CONTEXT ? 0 : k - DIFF_CONTEXT;
                sa = ai - (k - start);
                sb = bi - (k - start);
                last = k;
                for (size_t e = k; e < n && (ops[e] != 0 || e - last <= 2 * DIFF_CONTEXT); e++)
                        if (ops[e] != 0)
                                last = e;
                end = last + 1 + DIFF_CONTEXT < n ? last + 1 + DIFF_CONTEXT : n;
                hunk(o, ops, start, end, sa, sb, a, b);
                for (; k < end; k++) {
                        ai += ops[k] != 2;
                        bi += ops[k] != 1;
                }
        }
}

int text_unified_diff(
        pod_buf *o, const char *ta, const char *tb, const char *label_a, const char *label_b) {
        lines a = { 0 }, b = { 0 };
        unsigned char *ops = NULL;
        size_t n = 0;
        int r;

        if (strcmp(ta, tb) == 0)
                return 0;
        r = split(&a, ta);
        if (r >= 0)
                r = split(&b, tb);
        buf_printf(o, "--- %s\n+++ %s\n", label_a, label_b);
        if (r >= 0 && (a.n + 1) * (b.n + 1) > DIFF_CELLS_MAX)
                buf_printf(o, "@@ the texts differ; %zu and %zu lines are too many to compare @@\n",
                           a.n, b.n);
        else if (r >= 0 && (r = edit_script(&ops, &n, &a, &b)) >= 0)
                hunks(o, ops, n, &a, &b);
        free(ops);
        free(a.p);
        free(a.len);
        free(b.p);
        free(b.len);
        return r < 0 || o->oom ? -ENOMEM : 0;
}
