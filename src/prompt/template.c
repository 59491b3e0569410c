/* SPDX-License-Identifier: MIT */
/*
 * The template engine of prompts: a lexer that applies the white-space rules, a recursive
 * descent parser into a small tree, and a renderer over a jansson context. Strict by
 * design: every error names the template and line, and nothing undefined renders empty.
 */
#include <stdio.h>
#include <string.h>

#include "template.h"

/* ---- the tree -------------------------------------------------------------------------- */

typedef struct tpath {
        char **segs; /* "a.b.c" -> {a, b, c} */
} tpath;

typedef enum expr_op { OP_TRUTH, OP_EQ, OP_NE } expr_op;

typedef struct texpr {
        bool negate;
        tpath path;
        expr_op op;
        char *literal;
} texpr;

typedef struct node node;
typedef struct node_list {
        node *items;
        size_t n;
} node_list;

typedef struct branch {
        texpr cond;
        node_list body;
} branch;

typedef enum node_kind { N_TEXT, N_VAR, N_IF, N_FOR } node_kind;

struct node {
        node_kind kind;
        unsigned line;
        const char *text; /* N_TEXT: points into the template's source */
        size_t text_len;
        tpath path; /* N_VAR, N_FOR (the list) */
        char *var; /* N_FOR: the loop variable */
        branch *branches; /* N_IF */
        size_t n_branches;
        node_list body; /* N_FOR body, N_IF else body */
};

struct pod_template {
        char *name;
        char *src;
        node_list root;
        template_var *vars; /* computed on demand */
        size_t n_vars;
};

static void list_done(node_list *l);

static void path_done(tpath *p) {
        p->segs = strv_free(p->segs);
}

static void node_done(node *n) {
        path_done(&n->path);
        free(n->var);
        for (size_t i = 0; i < n->n_branches; i++) {
                path_done(&n->branches[i].cond.path);
                free(n->branches[i].cond.literal);
                list_done(&n->branches[i].body);
        }
        free(n->branches);
        list_done(&n->body);
}

static void list_done(node_list *l) {
        for (size_t i = 0; i < l->n; i++)
                node_done(&l->items[i]);
        free(l->items);
        *l = (node_list){ 0 };
}

pod_template *template_free(pod_template *t) {
        if (!t)
                return NULL;
        list_done(&t->root);
        free(t->name);
        free(t->src);
        free(t->vars);
        free(t);
        return NULL;
}

const char *template_name(const pod_template *t) {
        return t->name;
}

static node *list_add(node_list *l) {
        node *ni = realloc(l->items, (l->n + 1) * sizeof(node));

        if (!ni)
                return NULL;
        l->items = ni;
        ni[l->n] = (node){ 0 };
        return &ni[l->n++];
}

/* ---- lexing ---------------------------------------------------------------------------- */

typedef enum tok_kind { TK_TEXT, TK_VAR, TK_TAG, TK_END } tok_kind;

typedef struct token {
        tok_kind kind;
        const char *s; /* TK_TEXT: the text; TK_VAR / TK_TAG: the inside, trimmed */
        size_t n;
        unsigned line;
} token;

typedef struct lexer {
        const char *name;
        const char *src, *end;
        const char *pos; /* next unread byte */
        const char *text_at; /* start of pending text */
        unsigned line; /* line of pos */
        token *toks;
        size_t n, cap;
        pod_error *err;
} lexer;

#define lex_error(lx, line, ...) pod_error_at((lx)->err, -EINVAL, (lx)->name, line, __VA_ARGS__)

static int push_tok(lexer *lx, tok_kind kind, const char *s, size_t n, unsigned line) {
        if (lx->n == lx->cap) {
                size_t cap = lx->cap ? lx->cap * 2 : 64;
                token *nt = realloc(lx->toks, cap * sizeof(token));
                if (!nt)
                        return pod_error_oom(lx->err);
                lx->toks = nt;
                lx->cap = cap;
        }
        lx->toks[lx->n++] = (token){ kind, s, n, line };
        return 0;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned count_lines(const char *a, const char *b) {
        unsigned n = 0;

        for (; a < b; a++)
                n += *a == '\n';
        return n;
}

/* Is [open, close) alone on its line? Sets the span to remove around it. */
static bool standalone(const lexer *lx,
                       const char *open,
                       const char *close,
                       const char **ret_from,
                       const char **ret_to) {
        const char *a = open, *b = close;

        while (a > lx->text_at && (a[-1] == ' ' || a[-1] == '\t'))
                a--;
        if (a != lx->src && a[-1] != '\n')
                return false;
        while (b < lx->end && (*b == ' ' || *b == '\t' || *b == '\r'))
                b++;
        if (b < lx->end && *b != '\n')
                return false;
        *ret_from = a;
        *ret_to = b < lx->end ? b + 1 : b;
        return true;
}

/* The text before a tag, trimmed as its markers ask, then the tag itself. */
static int emit_text(lexer *lx, const char *text_end) {
        if (text_end > lx->text_at)
                return push_tok(lx, TK_TEXT, lx->text_at, (size_t) (text_end - lx->text_at),
                                lx->line);
        return 0;
}

static const char *find_close(const lexer *lx, const char *from, const char *close) {
        size_t n = strlen(close);

        for (const char *p = from; p + n <= lx->end; p++)
                if (memcmp(p, close, n) == 0)
                        return p;
        return NULL;
}

/* The text of a {% raw %} block runs, verbatim, to the next {% endraw %}. */
static int lex_raw(lexer *lx, const char *body, unsigned line) {
        for (const char *p = body; (p = find_close(lx, p, "{%")); p += 2) {
                const char *q = p + 2, *close, *from = p, *to;
                if (*q == '-')
                        q++;
                while (q < lx->end && is_space(*q))
                        q++;
                if ((size_t) (lx->end - q) < 6 || memcmp(q, "endraw", 6) != 0)
                        continue;
                close = find_close(lx, q, "%}");
                if (!close)
                        break;
                to = close + 2;
                lx->text_at = body;
                standalone(lx, p, to, &from, &to);
                if (push_tok(lx, TK_TEXT, body, (size_t) (from - body), line) < 0)
                        return -ENOMEM;
                lx->pos = lx->text_at = to;
                return 0;
        }
        return lex_error(lx, line, "{%% raw %%} is never closed (expected {%% endraw %%})");
}

static bool tag_is_raw(const char *s, size_t n) {
        return n == 3 && memcmp(s, "raw", 3) == 0;
}

static int lex_tag(lexer *lx, const char *open) {
        char kind = open[1]; /* '{', '%' or '#' */
        const char *close_s = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
        const char *in = open + 2, *close, *in_end, *from = open, *to;
        unsigned line = lx->line + count_lines(lx->text_at, open);
        bool trim_before = *in == '-', trim_after;
        int r;

        close = find_close(lx, in, close_s);
        if (!close)
                return lex_error(lx, line, "'%.2s' is never closed (expected '%s')", open, close_s);
        trim_after = close > in && close[-1] == '-' && kind != '#';
        in_end = trim_after ? close - 1 : close;
        in += trim_before;
        if (in_end < in) /* "{{-}}": one '-' cannot both open and close */
                in_end = in;
        to = close + 2;
        if (kind != '{')
                standalone(lx, open, to, &from, &to);
        if (trim_before)
                while (from > lx->text_at && is_space(from[-1]))
                        from--;
        if (trim_after)
                while (to < lx->end && is_space(*to))
                        to++;
        r = emit_text(lx, from);
        while (r >= 0 && in < in_end && is_space(*in))
                in++;
        while (r >= 0 && in_end > in && is_space(in_end[-1]))
                in_end--;
        if (r >= 0 && kind != '#')
                r = push_tok(lx, kind == '{' ? TK_VAR : TK_TAG, in, (size_t) (in_end - in), line);
        lx->line = line + count_lines(open, to);
        lx->pos = lx->text_at = to;
        if (r >= 0 && kind == '%' && tag_is_raw(in, (size_t) (in_end - in))) {
                lx->n--; /* the raw tag itself is not a token */
                r = lex_raw(lx, to, lx->line);
                lx->line += count_lines(to, lx->pos);
        }
        return r;
}

static int lex(lexer *lx) {
        int r;

        while (lx->pos < lx->end) {
                const char *open = find_close(lx, lx->pos, "{");
                if (!open || open + 1 >= lx->end)
                        break;
                if (open[1] != '{' && open[1] != '%' && open[1] != '#') {
                        lx->pos = open + 1;
                        continue;
                }
                r = lex_tag(lx, open);
                if (r < 0)
                        return r;
        }
        r = emit_text(lx, lx->end);
        if (r >= 0)
                r = push_tok(lx, TK_END, lx->end, 0, lx->line + count_lines(lx->text_at, lx->end));
        return r;
}

/* ---- parsing --------------------------------------------------------------------------- */

typedef struct parser {
        const char *name;
        token *toks;
        size_t i, n;
        pod_error *err;
} parser;

#define perr(p, line, ...) pod_error_at((p)->err, -EINVAL, (p)->name, line, __VA_ARGS__)

/* A cursor over the inside of one tag. */
typedef struct words {
        const char *s, *end;
} words;

static void skip_ws(words *w) {
        while (w->s < w->end && is_space(*w->s))
                w->s++;
}

static bool ident_char(char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                (!first && c >= '0' && c <= '9');
}

/* Next identifier, or NULL (allocated). */
static char *word_ident(words *w) {
        const char *a;

        skip_ws(w);
        a = w->s;
        if (w->s >= w->end || !ident_char(*w->s, true))
                return NULL;
        while (w->s < w->end && ident_char(*w->s, false))
                w->s++;
        return strndup(a, (size_t) (w->s - a));
}

static bool word_is(words *w, const char *kw) {
        words save = *w;
        char *id = word_ident(w);
        bool yes = id && strcmp(id, kw) == 0;

        free(id);
        if (!yes)
                *w = save;
        return yes;
}

static int parse_path(const parser *p, words *w, unsigned line, tpath *out) {
        char **segs = NULL, *id;

        for (;;) {
                id = word_ident(w);
                if (!id || strv_consume(&segs, id) < 0) {
                        free(id);
                        strv_free(segs);
                        return perr(p, line, "expected a variable name");
                }
                if (w->s >= w->end || *w->s != '.')
                        break;
                w->s++;
        }
        out->segs = segs;
        return 0;
}

static int parse_literal(const parser *p, words *w, unsigned line, char **out) {
        pod_buf b = { 0 };

        skip_ws(w);
        if (w->s >= w->end || *w->s != '"')
                return perr(p, line, "expected a \"string\" after == or !=");
        for (w->s++; w->s < w->end && *w->s != '"'; w->s++) {
                if (*w->s == '\\' && w->s + 1 < w->end)
                        w->s++;
                buf_append(&b, w->s, 1);
        }
        if (w->s >= w->end) {
                buf_done(&b);
                return perr(p, line, "unterminated string");
        }
        w->s++;
        *out = buf_steal(&b);
        if (!*out)
                *out = strdup("");
        return *out ? 0 : -ENOMEM;
}

static int parse_expr(const parser *p, words *w, unsigned line, texpr *out) {
        texpr e = { 0 };
        int r;

        e.negate = word_is(w, "not");
        r = parse_path(p, w, line, &e.path);
        if (r < 0)
                return r;
        skip_ws(w);
        if (w->end - w->s >= 2 && (memcmp(w->s, "==", 2) == 0 || memcmp(w->s, "!=", 2) == 0)) {
                e.op = w->s[0] == '=' ? OP_EQ : OP_NE;
                w->s += 2;
                r = parse_literal(p, w, line, &e.literal);
        }
        skip_ws(w);
        if (r >= 0 && w->s < w->end)
                r = perr(p, line, "unexpected '%.*s' in condition", (int) (w->end - w->s), w->s);
        if (r < 0) {
                path_done(&e.path);
                free(e.literal);
                return r;
        }
        *out = e;
        return 0;
}

static int parse_list(parser *p,
                      node_list *out,
                      unsigned depth,
                      char **ret_end_kw,
                      words *ret_rest,
                      unsigned *ret_line);

/* Parse the nodes up to a closing keyword, which must be one of allowed. */
static int parse_until(parser *p,
                       node_list *out,
                       unsigned depth,
                       const char *opener,
                       unsigned open_line,
                       const char *const *allowed,
                       char **ret_kw,
                       words *ret_rest,
                       unsigned *ret_line) {
        int r = parse_list(p, out, depth + 1, ret_kw, ret_rest, ret_line);

        if (r < 0)
                return r;
        if (!*ret_kw)
                return perr(p, open_line, "{%% %s %%} is never closed (expected {%% %s %%})",
                            opener, allowed[0]);
        for (const char *const *a = allowed; *a; a++)
                if (strcmp(*a, *ret_kw) == 0)
                        return 0;
        r = perr(p, *ret_line, "unexpected {%% %s %%} inside {%% %s %%} (line %u)", *ret_kw, opener,
                 open_line);
        free(*ret_kw);
        *ret_kw = NULL;
        return r;
}

static int parse_if(parser *p, node *n, words *w, unsigned depth) {
        static const char *const next[] = { "endif", "elif", "else", NULL };
        static const char *const last[] = { "endif", NULL };
        unsigned line = n->line;
        int r;

        n->kind = N_IF;
        for (;;) {
                branch *nb = realloc(n->branches, (n->n_branches + 1) * sizeof(branch));
                _cleanup_free_ char *kw = NULL;
                if (!nb)
                        return -ENOMEM;
                n->branches = nb;
                nb[n->n_branches] = (branch){ 0 };
                r = parse_expr(p, w, line, &nb[n->n_branches].cond);
                if (r < 0)
                        return r;
                n->n_branches++;
                r = parse_until(p, &nb[n->n_branches - 1].body, depth, "if", n->line, next, &kw, w,
                                &line);
                if (r < 0)
                        return r;
                if (strcmp(kw, "endif") == 0)
                        return 0;
                if (strcmp(kw, "else") == 0)
                        break;
        }
        {
                _cleanup_free_ char *kw = NULL;
                r = parse_until(p, &n->body, depth, "if", n->line, last, &kw, w, &line);
        }
        return r;
}

static int parse_for(parser *p, node *n, words *w, unsigned depth) {
        static const char *const last[] = { "endfor", NULL };
        _cleanup_free_ char *kw = NULL;
        unsigned line = n->line;
        int r;

        n->kind = N_FOR;
        n->var = word_ident(w);
        if (!n->var || strcmp(n->var, "loop") == 0)
                return perr(p, line, "expected {%% for NAME in LIST %%} (NAME may not be 'loop')");
        if (!word_is(w, "in"))
                return perr(p, line,
                            "{%% for %%} needs the form {%% for NAME in LIST %%}: expected "
                            "'in' after '%s'",
                            n->var);
        r = parse_path(p, w, line, &n->path);
        skip_ws(w);
        if (r >= 0 && w->s < w->end)
                r = perr(p, line, "unexpected '%.*s' in {%% for %%}", (int) (w->end - w->s), w->s);
        if (r >= 0)
                r = parse_until(p, &n->body, depth, "for", n->line, last, &kw, w, &line);
        return r;
}

static int parse_var(parser *p, node *n, const token *t) {
        words w = { t->s, t->s + t->n };
        int r;

        n->kind = N_VAR;
        r = parse_path(p, &w, t->line, &n->path);
        skip_ws(&w);
        if (r >= 0 && w.s < w.end)
                r = perr(p, t->line,
                         "unexpected '%.*s' in {{ }}: only a variable path may be printed",
                         (int) (w.end - w.s), w.s);
        return r;
}

static int parse_tag(parser *p,
                     node_list *out,
                     const token *t,
                     unsigned depth,
                     char **ret_kw,
                     words *ret_rest,
                     unsigned *ret_line) {
        words w = { t->s, t->s + t->n };
        _cleanup_free_ char *kw = word_ident(&w);
        node *n;

        if (!kw)
                return perr(p, t->line, "empty or malformed tag");
        if (!strcmp(kw, "endif") || !strcmp(kw, "endfor") || !strcmp(kw, "elif") ||
            !strcmp(kw, "else")) {
                *ret_kw = TAKE_PTR(kw);
                *ret_rest = w;
                *ret_line = t->line;
                return 1;
        }
        if (strcmp(kw, "if") && strcmp(kw, "for"))
                return perr(p, t->line,
                            "unknown tag '%s' (known: if, elif, else, endif, for, "
                            "endfor, raw, endraw)",
                            kw);
        if (depth >= POD_TEMPLATE_DEPTH_MAX)
                return perr(p, t->line, "blocks nested more than %u deep", POD_TEMPLATE_DEPTH_MAX);
        n = list_add(out);
        if (!n)
                return -ENOMEM;
        n->line = t->line;
        return kw[0] == 'i' ? parse_if(p, n, &w, depth) : parse_for(p, n, &w, depth);
}

/*
 * Parse nodes until a closing keyword (endif, elif, else, endfor) or the end. The keyword
 * found is returned in *ret_end_kw (NULL at the end of the template); for elif, *ret_rest
 * holds its condition.
 */
static int parse_list(parser *p,
                      node_list *out,
                      unsigned depth,
                      char **ret_end_kw,
                      words *ret_rest,
                      unsigned *ret_line) {
        *ret_end_kw = NULL;
        while (p->i < p->n) {
                const token *t = &p->toks[p->i++];
                node *n;
                int r;

                if (t->kind == TK_END)
                        return 0;
                if (t->kind == TK_TAG) {
                        r = parse_tag(p, out, t, depth, ret_end_kw, ret_rest, ret_line);
                        if (r != 0)
                                return r < 0 ? r : 0;
                        continue;
                }
                n = list_add(out);
                if (!n)
                        return -ENOMEM;
                n->line = t->line;
                if (t->kind == TK_TEXT) {
                        n->kind = N_TEXT;
                        n->text = t->s;
                        n->text_len = t->n;
                        continue;
                }
                r = parse_var(p, n, t);
                if (r < 0)
                        return r;
        }
        return 0;
}

int template_parse(
        pod_template **out, const char *name, const char *text, size_t len, pod_error *err) {
        _cleanup_(template_freep) pod_template *t = NULL;
        lexer lx = { 0 };
        parser p;
        char *end_kw = NULL;
        words rest;
        unsigned line = 0;
        int r;

        if (len > POD_TEMPLATE_MAX_BYTES)
                return pod_error_set(err, -EFBIG, "%s: template is over %u bytes", name,
                                     POD_TEMPLATE_MAX_BYTES);
        if (!utf8_valid(text, len))
                return pod_error_set(err, -EILSEQ, "%s: template is not valid UTF-8", name);
        t = calloc(1, sizeof(*t));
        if (!t || !(t->name = strdup(name)) || !(t->src = str_from_mem(text, len)))
                return pod_error_oom(err);
        lx = (lexer){ .name = name,
                      .src = t->src,
                      .end = t->src + len,
                      .pos = t->src,
                      .text_at = t->src,
                      .line = 1,
                      .err = err };
        r = lex(&lx);
        if (r >= 0) {
                p = (parser){ .name = name, .toks = lx.toks, .n = lx.n, .err = err };
                r = parse_list(&p, &t->root, 0, &end_kw, &rest, &line);
        }
        if (r >= 0 && end_kw)
                r = pod_error_set(err, -EINVAL, "%s:%u: unexpected {%% %s %%} (no open block)",
                                  name, line, end_kw);
        free(end_kw);
        free(lx.toks);
        if (r < 0)
                return r == -ENOMEM ? pod_error_set(err, r, "out of memory") : r;
        *out = TAKE_PTR(t);
        return 0;
}

/* ---- rendering ------------------------------------------------------------------------- */

typedef struct frame {
        const char *var;
        json_t *value;
        json_t *loop; /* built on first use of loop.*: most loops never ask */
        size_t index, length;
} frame;

typedef struct render_ctx {
        const pod_template *t;
        const json_t *root;
        frame frames[POD_TEMPLATE_DEPTH_MAX];
        size_t n_frames;
        pod_buf *out;
        size_t start;
        pod_error *err;
} render_ctx;

#define rerr(c, line, ...) pod_error_at((c)->err, -EINVAL, (c)->t->name, line, __VA_ARGS__)

static void path_text(char *buf, size_t size, const tpath *p, size_t upto) {
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; p->segs[i] && i <= upto && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "." : "", p->segs[i]);
}

static const char *type_name(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "a list";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "?";
}

static json_t *loop_object(frame *f) {
        if (!f->loop)
                f->loop = json_pack("{s:I, s:I, s:b, s:b, s:I}", "index", (json_int_t) f->index + 1,
                                    "index0", (json_int_t) f->index, "first", f->index == 0, "last",
                                    f->index + 1 == f->length, "length", (json_int_t) f->length);
        return f->loop;
}

static int lookup(render_ctx *c, const tpath *p, unsigned line, json_t **ret) {
        char name[512];
        json_t *v = NULL;

        for (size_t i = c->n_frames; i-- > 0 && !v;) {
                if (strcmp(c->frames[i].var, p->segs[0]) == 0)
                        v = c->frames[i].value;
                else if (strcmp(p->segs[0], "loop") == 0)
                        v = loop_object(&c->frames[i]);
        }
        if (!v)
                v = json_object_get(c->root, p->segs[0]);
        for (size_t i = 1; v && p->segs[i]; i++) {
                if (!json_is_object(v)) {
                        path_text(name, sizeof(name), p, i - 1);
                        return rerr(c, line, "'%s' is %s, not an object", name, type_name(v));
                }
                v = json_object_get(v, p->segs[i]);
        }
        if (!v) {
                path_text(name, sizeof(name), p, SIZE_MAX);
                return rerr(c, line, "undefined variable '%s'", name);
        }
        *ret = v;
        return 0;
}

static int render_list(render_ctx *c, const node_list *l);

static int render_var(render_ctx *c, const node *n) {
        char name[512];
        json_t *v;
        int r = lookup(c, &n->path, n->line, &v);

        if (r < 0)
                return r;
        switch (json_typeof(v)) {
        case JSON_STRING:
                return buf_append(c->out, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                return buf_printf(c->out, "%lld", (long long) json_integer_value(v));
        case JSON_REAL:
                return buf_printf(c->out, "%g", json_real_value(v));
        case JSON_TRUE:
        case JSON_FALSE:
                return buf_puts(c->out, json_is_true(v) ? "true" : "false");
        default:
                path_text(name, sizeof(name), &n->path, SIZE_MAX);
                return rerr(c, n->line, "cannot print '%s': it is %s", name, type_name(v));
        }
}

static int eval(render_ctx *c, const texpr *e, unsigned line, bool *ret) {
        json_t *v;
        bool yes;
        int r = lookup(c, &e->path, line, &v);

        if (r < 0)
                return r;
        if (e->op != OP_TRUTH) {
                char name[512];
                if (!json_is_string(v)) {
                        path_text(name, sizeof(name), &e->path, SIZE_MAX);
                        return rerr(c, line, "cannot compare '%s' with a string: it is %s", name,
                                    type_name(v));
                }
                yes = (strcmp(json_string_value(v), e->literal) == 0) == (e->op == OP_EQ);
        } else if (json_is_string(v))
                yes = json_string_length(v) > 0;
        else if (json_is_array(v))
                yes = json_array_size(v) > 0;
        else if (json_is_object(v))
                yes = json_object_size(v) > 0;
        else if (json_is_integer(v))
                yes = json_integer_value(v) != 0;
        else if (json_is_real(v))
                yes = json_real_value(v) != 0;
        else
                yes = json_is_true(v);
        *ret = yes != e->negate;
        return 0;
}

static int render_if(render_ctx *c, const node *n) {
        for (size_t i = 0; i < n->n_branches; i++) {
                bool yes;
                int r = eval(c, &n->branches[i].cond, n->line, &yes);
                if (r < 0)
                        return r;
                if (yes)
                        return render_list(c, &n->branches[i].body);
        }
        return render_list(c, &n->body);
}

static int render_for(render_ctx *c, const node *n) {
        char name[512];
        json_t *list, *item;
        size_t i, len;
        int r = lookup(c, &n->path, n->line, &list);

        if (r < 0)
                return r;
        if (!json_is_array(list)) {
                path_text(name, sizeof(name), &n->path, SIZE_MAX);
                return rerr(c, n->line, "cannot loop over '%s': it is %s, not a list", name,
                            type_name(list));
        }
        len = json_array_size(list);
        json_array_foreach(list, i, item) {
                frame *f = &c->frames[c->n_frames++];
                *f = (frame){ .var = n->var, .value = item, .index = i, .length = len };
                r = render_list(c, &n->body);
                json_decref(f->loop);
                c->n_frames--;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int render_list(render_ctx *c, const node_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                const node *n = &l->items[i];
                int r = 0;

                if (n->kind == N_TEXT)
                        r = buf_append(c->out, n->text, n->text_len);
                else if (n->kind == N_VAR)
                        r = render_var(c, n);
                else if (n->kind == N_IF)
                        r = render_if(c, n);
                else
                        r = render_for(c, n);
                if (r == -ENOMEM || c->out->oom)
                        return pod_error_oom(c->err);
                if (r < 0)
                        return r;
                if (c->out->len - c->start > POD_TEMPLATE_OUTPUT_MAX)
                        return pod_error_set(c->err, -E2BIG, "%s: output is over %u bytes",
                                             c->t->name, POD_TEMPLATE_OUTPUT_MAX);
        }
        return 0;
}

int template_render(pod_buf *out, const pod_template *t, const json_t *ctx, pod_error *err) {
        render_ctx c = { .t = t, .root = ctx, .out = out, .start = out->len, .err = err };

        if (!json_is_object(ctx))
                return pod_error_set(err, -EINVAL, "%s: the context must be a JSON object",
                                     t->name);
        return render_list(&c, &t->root);
}

/* ---- free variables -------------------------------------------------------------------- */

typedef struct var_walk {
        pod_template *t;
        const char *bound[POD_TEMPLATE_DEPTH_MAX];
        size_t n_bound;
} var_walk;

static int note_path(var_walk *w, const tpath *p, unsigned line) {
        const char *name = p->segs[0];
        template_var *nv;

        if (strcmp(name, "loop") == 0 && w->n_bound > 0)
                return 0;
        for (size_t i = 0; i < w->n_bound; i++)
                if (strcmp(w->bound[i], name) == 0)
                        return 0;
        for (size_t i = 0; i < w->t->n_vars; i++)
                if (strcmp(w->t->vars[i].name, name) == 0)
                        return 0;
        nv = realloc(w->t->vars, (w->t->n_vars + 1) * sizeof(template_var));
        if (!nv)
                return -ENOMEM;
        w->t->vars = nv;
        nv[w->t->n_vars++] = (template_var){ name, line };
        return 0;
}

static int walk_vars(var_walk *w, const node_list *l) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < l->n; i++) {
                const node *n = &l->items[i];
                if (n->kind == N_VAR)
                        r = note_path(w, &n->path, n->line);
                for (size_t b = 0; r >= 0 && n->kind == N_IF && b < n->n_branches; b++) {
                        r = note_path(w, &n->branches[b].cond.path, n->line);
                        if (r >= 0)
                                r = walk_vars(w, &n->branches[b].body);
                }
                if (r >= 0 && n->kind == N_IF)
                        r = walk_vars(w, &n->body);
                if (r >= 0 && n->kind == N_FOR) {
                        r = note_path(w, &n->path, n->line);
                        w->bound[w->n_bound++] = n->var;
                        if (r >= 0)
                                r = walk_vars(w, &n->body);
                        w->n_bound--;
                }
        }
        return r;
}

int template_free_variables(const pod_template *t,
                            template_var **ret,
                            size_t *ret_n,
                            pod_error *err) {
        pod_template *mt = (pod_template *) t; /* the list is a cache */
        var_walk w = { .t = mt };

        if (!mt->vars && walk_vars(&w, &t->root) < 0)
                return pod_error_oom(err);
        *ret = mt->vars;
        *ret_n = mt->n_vars;
        return 0;
}

int template_check_variables(const pod_template *t, char *const *declared, pod_error *err) {
        _cleanup_buf_ pod_buf list = { 0 };
        template_var *vars;
        size_t n;
        int r = template_free_variables(t, &vars, &n, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (strv_contains(declared, vars[i].name))
                        continue;
                STRV_FOREACH(d, declared)
                        buf_printf(&list, "%s%s", list.len ? ", " : "", *d);
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: undefined variable '%s' (this template has: %s)",
                                     t->name, vars[i].line, vars[i].name,
                                     list.len ? buf_str(&list) : "no variables");
        }
        return 0;
}
