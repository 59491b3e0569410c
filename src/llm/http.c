/* SPDX-License-Identifier: MIT */
/*
 * HTTP for the native handlers (DESIGN §9): libcurl, loaded with dlopen at the first model
 * call, so that pod does not link it (start-up stays near a bare C program's, and a pod on
 * the script model never loads it). One POST at a time through a multi handle polled every
 * LLM_HTTP_TICK_MS, so that a cancel flag, the call's deadline and a stalled stream end the
 * transfer within that tick. A 2xx body goes to the caller as it arrives; any other status
 * keeps the first LLM_ERROR_BODY_MAX bytes of its body for the error message. The
 * connection is kept for the next call. libcurl reads HTTPS_PROXY and NO_PROXY itself; a CA
 * bundle named by SSL_CERT_FILE or CURL_CA_BUNDLE replaces the system store.
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "llm-internal.h"

#define LLM_HTTP_TICK_MS 50

typedef struct curl_api {
        CURLcode (*global_init)(long);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
        CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
        void (*easy_reset)(CURL *);
        void (*easy_cleanup)(CURL *);
        const char *(*easy_strerror)(CURLcode);
        struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
        void (*slist_free_all)(struct curl_slist *);
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_add_handle)(CURLM *, CURL *);
        CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
        CURLMcode (*multi_perform)(CURLM *, int *);
        CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned, int, int *);
        CURLMsg *(*multi_info_read)(CURLM *, int *);
        CURLMcode (*multi_cleanup)(CURLM *);
} curl_api;

static curl_api api;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

#define SYM(field, name) \
        { offsetof(curl_api, field), name }

static void load(void) {
        static const char *const libs[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
        static const struct {
                size_t off;
                const char *name;
        } syms[] = {
                SYM(global_init, "curl_global_init"),
                SYM(easy_init, "curl_easy_init"),
                SYM(easy_setopt, "curl_easy_setopt"),
                SYM(easy_getinfo, "curl_easy_getinfo"),
                SYM(easy_reset, "curl_easy_reset"),
                SYM(easy_cleanup, "curl_easy_cleanup"),
                SYM(easy_strerror, "curl_easy_strerror"),
                SYM(slist_append, "curl_slist_append"),
                SYM(slist_free_all, "curl_slist_free_all"),
                SYM(multi_init, "curl_multi_init"),
                SYM(multi_add_handle, "curl_multi_add_handle"),
                SYM(multi_remove_handle, "curl_multi_remove_handle"),
                SYM(multi_perform, "curl_multi_perform"),
                SYM(multi_poll, "curl_multi_poll"),
                SYM(multi_info_read, "curl_multi_info_read"),
                SYM(multi_cleanup, "curl_multi_cleanup"),
        };
        void *lib = NULL;
        curl_api a;

        for (size_t i = 0; !lib && i < POD_ARRAY_SIZE(libs); i++)
                lib = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
                snprintf(load_error, sizeof(load_error),
                         "cannot load libcurl (install libcurl4): %s", dlerror());
                return;
        }
        for (size_t i = 0; i < POD_ARRAY_SIZE(syms); i++) {
                void *f = dlsym(lib, syms[i].name);
                if (!f) {
                        snprintf(load_error, sizeof(load_error),
                                 "libcurl lacks %s (7.66 or later "
                                 "is needed)",
                                 syms[i].name);
                        return;
                }
                memcpy((char *) &a + syms[i].off, &f, sizeof(f));
        }
        if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(load_error, sizeof(load_error), "libcurl failed to initialise");
                return;
        }
        api = a;
}

struct llm_http {
        CURLM *multi;
        CURL *easy;
};

int llm_http_new(llm_http **out, pod_error *err) {
        llm_http *h;

        pthread_once(&load_once, load);
        if (!api.easy_init)
                return pod_error_set(err, -ELIBACC, "%s", load_error);
        h = calloc(1, sizeof(*h));
        if (!h)
                return pod_error_oom(err);
        h->multi = api.multi_init();
        h->easy = api.easy_init();
        if (!h->multi || !h->easy) {
                llm_http_free(h);
                return pod_error_set(err, -ENOMEM, "libcurl: out of memory");
        }
        *out = h;
        return 0;
}

llm_http *llm_http_free(llm_http *h) {
        if (!h)
                return NULL;
        if (h->easy)
                api.easy_cleanup(h->easy);
        if (h->multi)
                api.multi_cleanup(h->multi);
        free(h);
        return NULL;
}

void llm_http_res_done(llm_http_res *res) {
        buf_done(&res->error_body);
        *res = (llm_http_res){ .retry_after_ms = -1 };
}

long llm_retry_after_ms(const char *value) {
        struct tm tm = { 0 };
        char *end;
        long s;

        while (*value == ' ' || *value == '\t')
                value++;
        s = strtol(value, &end, 10);
        if (end != value && s >= 0 && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
                return s > 86400 ? 86400000L : s * 1000;
        end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (end) {
                time_t at = timegm(&tm), now = time(NULL);
                return at <= now ? 0 : (at - now > 86400 ? 86400000L : (long) (at - now) * 1000);
        }
        return -1;
}

typedef struct xfer {
        const llm_http_req *rq;
        llm_http_res *res;
        pod_error *err;
        int failed; /* on_data's error, or the size limit's */
        bool refusal_read; /* a refusal's body was cut at LLM_ERROR_BODY_MAX */
        long long last_ms; /* the last byte */
        size_t total;
} xfer;

static size_t on_header(char *buf, size_t size, size_t n, void *ud) {
        xfer *x = ud;
        size_t len = size * n;
        char line[256];

        x->last_ms = mono_ms();
        snprintf(line, sizeof(line), "%.*s", (int) (len < sizeof(line) ? len : sizeof(line) - 1),
                 buf);
        if (strncmp(line, "HTTP/", 5) == 0) { /* a new response: a proxy's, then the server's */
                const char *sp = strchr(line, ' ');
                x->res->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                x->res->retry_after_ms = -1;
        } else if (strncasecmp(line, "retry-after-ms:", 15) == 0)
                x->res->retry_after_ms = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "retry-after:", 12) == 0 && x->res->retry_after_ms < 0)
                x->res->retry_after_ms = llm_retry_after_ms(line + 12);
        return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud) {
        xfer *x = ud;
        size_t len = size * n;
        int r;

        x->last_ms = mono_ms();
        if (x->res->status / 100 != 2) { /* a refusal: its first bytes are enough */
                size_t room = LLM_ERROR_BODY_MAX - x->res->error_body.len;
                buf_append(&x->res->error_body, buf, len < room ? len : room);
                x->refusal_read = len >= room;
                return x->refusal_read ? 0 : len;
        }
        x->total += len;
        if (x->total > LLM_RESPONSE_MAX) {
                x->failed = pod_error_set(x->err, -EMSGSIZE, "the response is over %u MiB",
                                          LLM_RESPONSE_MAX >> 20);
                return 0;
        }
        r = x->rq->on_data(x->rq->ud, buf, len, x->err);
        if (r < 0) {
                x->failed = r;
                return 0;
        }
        return len;
}

static struct curl_slist *header_list(const char *const *headers) {
        struct curl_slist *l = NULL, *n;

        for (const char *const *h = headers; h && *h; h++) {
                n = api.slist_append(l, *h);
                if (!n) {
                        api.slist_free_all(l);
                        return NULL;
                }
                l = n;
        }
        return l;
}

static void
set_options(CURL *c, const llm_http_req *rq, xfer *x, struct curl_slist *hl, char *errbuf) {
        const char *ca = getenv("SSL_CERT_FILE");

        if (!ca || !*ca)
                ca = getenv("CURL_CA_BUNDLE");
        api.easy_reset(c);
        api.easy_setopt(c, CURLOPT_URL, rq->url);
        api.easy_setopt(c, CURLOPT_POST, 1L);
        api.easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(rq->body));
        api.easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        api.easy_setopt(c, CURLOPT_WRITEDATA, x);
        api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        api.easy_setopt(c, CURLOPT_HEADERDATA, x);
        api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        api.easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
        api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_ms);
        api.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        api.easy_setopt(c, CURLOPT_USERAGENT, "pod/" POD_VERSION);
        api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (ca && *ca)
                api.easy_setopt(c, CURLOPT_CAINFO, ca);
}

/* Run the transfer until it ends, is cancelled, outlasts its deadline or stalls. */
static int run(llm_http *h, const llm_http_req *rq, xfer *x, CURLcode *ret_code) {
        int running = 1, left;
        CURLMsg *m;

        api.multi_add_handle(h->multi, h->easy);
        for (;;) {
                long long now;
                if (api.multi_perform(h->multi, &running) != CURLM_OK)
                        break;
                if (!running)
                        break;
                now = mono_ms();
                if (rq->cancel && *rq->cancel) {
                        api.multi_remove_handle(h->multi, h->easy);
                        return pod_error_set(x->err, -ECANCELED, "cancelled");
                }
                if (rq->deadline_ms && now >= rq->deadline_ms) {
                        api.multi_remove_handle(h->multi, h->easy);
                        return pod_error_set(x->err, -ETIMEDOUT, "the call reached its time limit");
                }
                if (now - x->last_ms > rq->stall_ms) {
                        api.multi_remove_handle(h->multi, h->easy);
                        return pod_error_set(x->err, -ETIMEDOUT,
                                             "the stream stalled: nothing came for %ld s",
                                             rq->stall_ms / 1000);
                }
                api.multi_poll(h->multi, NULL, 0, LLM_HTTP_TICK_MS, NULL);
        }
        *ret_code = CURLE_GOT_NOTHING;
        while ((m = api.multi_info_read(h->multi, &left)))
                if (m->msg == CURLMSG_DONE)
                        *ret_code = m->data.result;
        api.multi_remove_handle(h->multi, h->easy);
        return 0;
}

static int curl_failure(CURLcode code, const char *detail, llm_http_res *res, pod_error *err) {
        const char *what = *detail ? detail : api.easy_strerror(code);

        switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return pod_error_set(err, -EHOSTUNREACH, "cannot resolve the host: %s", what);
        case CURLE_COULDNT_CONNECT:
                return pod_error_set(err, -ECONNREFUSED, "cannot connect: %s", what);
        case CURLE_OPERATION_TIMEDOUT:
                return pod_error_set(err, -ETIMEDOUT, "cannot connect in time: %s", what);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                return pod_error_set(err, -EPROTO,
                                     "TLS failed: %s (a private CA's certificate goes in "
                                     "SSL_CERT_FILE or CURL_CA_BUNDLE)",
                                     what);
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
                res->transient = true;
                return pod_error_set(err, -ECONNRESET, "the connection broke: %s", what);
        default:
                return pod_error_set(err, -EIO, "%s", what);
        }
}

int llm_http_post(llm_http *h, const llm_http_req *rq, llm_http_res *res, pod_error *err) {
        char errbuf[CURL_ERROR_SIZE] = "";
        xfer x = { .rq = rq, .res = res, .err = err, .last_ms = mono_ms() };
        struct curl_slist *hl = header_list(rq->headers);
        CURLcode code = CURLE_OK;
        int r;

        *res = (llm_http_res){ .retry_after_ms = -1 };
        if (rq->headers && !hl)
                return pod_error_oom(err);
        set_options(h->easy, rq, &x, hl, errbuf);
        r = run(h, rq, &x, &code);
        api.easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
        api.slist_free_all(hl);
        if (r < 0)
                return r;
        if (x.failed)
                return x.failed;
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && x.refusal_read))
                return curl_failure(code, errbuf, res, err);
        if (res->error_body.oom)
                return pod_error_oom(err);
        return 0;
}
