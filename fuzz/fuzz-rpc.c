/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the JSON-RPC frame decoder (rpc_decode), which reads every line a process of
 * the operator's user sends to a pod's socket, hello or not. A frame is valid, or refused
 * with the code the server replies; either way nothing leaks and what it points at lives
 * in the decoded object. The same bytes as a reply (rpc_result, what a client reads from a
 * pod or a child): a result, or an error and no result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rpc_frame f;
        int code = rpc_decode(&f, (const char *) data, size);

        if (code == 0) {
                /* A valid frame names its method and has an object (or no) params. */
                if (!f.req || !f.method || strlen(f.method) > size ||
                    (f.params && !json_is_object(f.params)))
                        abort();
                if (f.id && !json_is_string(f.id) && !json_is_integer(f.id))
                        abort();
        } else if (code == RPC_PARSE_ERROR) {
                if (f.req || f.id || f.method || f.params)
                        abort();
        } else if (code != RPC_INVALID_REQUEST || !f.req || f.method) {
                abort();
        }
        rpc_frame_done(&f);
        if (f.req)
                abort();
        {
                json_t *res = NULL;
                pod_error err = { 0 };
                if (rpc_result(&res, (const char *) data, size, "m", &err) < 0 &&
                    (res || !err.msg[0]))
                        abort();
                json_decref(res);
        }
        return 0;
}
