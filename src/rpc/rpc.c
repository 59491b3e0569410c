/* SPDX-License-Identifier: MIT */
/*
 * The JSON-RPC 2.0 codec: requests, replies and errors built in one place, a reply's result
 * read back, a request line decoded (rpc_decode), and one message sent as a line.
 */
#include <assert.h>
#include <string.h>

#include "rpc.h"

json_t *rpc_request(int id, const char *method, json_t *params) {
        return json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", id, "method", method,
                         "params", params ? json_incref(params) : json_object());
}

json_t *rpc_reply(json_t *id, json_t *result) {
        return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                         result);
}

json_t *rpc_error(json_t *id, int code, const char *message) {
        return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                         "error", "code", code, "message", message);
}

int rpc_decode(rpc_frame *out, const char *line, size_t len) {
        json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *id, *params;
        const char *version, *method;

        assert(out && line);
        *out = (rpc_frame){ 0 };
        if (!req)
                return RPC_PARSE_ERROR;
        id = json_object_get(req, "id");
        params = json_object_get(req, "params");
        version = json_string_value(json_object_get(req, "jsonrpc"));
        method = json_string_value(json_object_get(req, "method"));
        out->req = req;
        out->id = id;
        if (!json_is_object(req) || !version || strcmp(version, "2.0") != 0 || !method ||
            (params && !json_is_object(params)) ||
            (id && !json_is_string(id) && !json_is_integer(id)))
                return RPC_INVALID_REQUEST;
        out->method = method;
        out->params = params;
        return 0;
}

void rpc_frame_done(rpc_frame *f) {
        json_decref(f->req);
        *f = (rpc_frame){ 0 };
}

int rpc_result(json_t **out, const char *line, size_t len, const char *method, pod_error *err) {
        json_t *resp = json_loadb(line, len, 0, NULL), *e;

        assert(out && line && method);
        e = json_object_get(resp, "error");
        if (!resp || e) {
                bool busy = json_integer_value(json_object_get(e, "code")) == RPC_BUSY;
                int r = pod_error_set(err, busy ? -EBUSY : -EPROTO, "%s: %s", method,
                                      json_string_value(json_object_get(e, "message")) ?:
                                              "malformed reply");
                json_decref(resp);
                return r;
        }
        *out = json_incref(json_object_get(resp, "result"));
        json_decref(resp);
        return 0;
}

int rpc_send_line(int fd, const json_t *msg, long long deadline) {
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        pod_buf b = { 0 };
        int r = text && buf_puts(&b, text) >= 0 && buf_puts(&b, "\n") >= 0 ? 0 : -ENOMEM;

        free(text);
        if (r >= 0)
                r = fd_send_all(fd, b.data, b.len, deadline);
        buf_done(&b);
        return r;
}

int rpc_read_line(pod_buf *in, int fd, size_t max, long long deadline, size_t *ret_len) {
        char *nl;
        size_t n;

        assert(in && ret_len && max <= POD_FRAME_MAX);
        while (!(nl = in->len ? memchr(in->data, '\n', in->len) : NULL)) {
                int r = in->len > max ? -EMSGSIZE : fd_read_more(in, fd, deadline);
                if (r < 0)
                        return r == -ECONNRESET ? -EPIPE : r;
        }
        n = (size_t) (nl - in->data);
        if (n > max)
                return -EMSGSIZE;
        *nl = '\0';
        *ret_len = n;
        return 0;
}

void rpc_line_drop(pod_buf *in, size_t len) {
        assert(len < in->len);
        memmove(in->data, in->data + len + 1, in->len - len - 1);
        in->len -= len + 1;
}
