/* SPDX-License-Identifier: MIT */
#include "llm-test.h"

Test(errors, the_servers_message_is_read_from_each_shape) {
        const char *anthropic = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                                "\"message\":\"bad\\nthing\"}}";
        const char *ollama = "{\"error\":\"model 'x' not found\"}";
        char *m;

        m = llm_error_message(anthropic, strlen(anthropic));
        cr_assert_str_eq(m, "'bad\\x0athing'", "one line, quoted");
        free(m);
        m = llm_error_message(ollama, strlen(ollama));
        cr_assert_str_eq(m, "'model \\'x\\' not found'");
        free(m);
        m = llm_error_message("<html>\nbad gateway", 18);
        cr_assert(m && strstr(m, "html"));
        free(m);
        cr_assert_null(llm_error_message("", 0));
}

Test(errors, userinfo_is_redacted_and_a_key_scrubbed) {
        char *u = llm_redact_url("https://user:pw@host:8443/v1");
        char msg[128] = "key sk-abc123 was sk-abc123";

        cr_assert_str_eq(u, "https://***@host:8443/v1");
        free(u);
        u = llm_redact_url("http://127.0.0.1:8080/v1?a=b@c");
        cr_assert_str_eq(u, "http://127.0.0.1:8080/v1?a=b@c");
        free(u);
        llm_scrub(msg, "sk-abc123");
        cr_assert_str_eq(msg, "key *** was ***");
        llm_scrub(msg, NULL);
}

Test(errors, retry_after_in_seconds_or_a_date) {
        cr_assert_eq(llm_retry_after_ms(" 3\r\n"), 3000);
        cr_assert_eq(llm_retry_after_ms("0"), 0);
        cr_assert_eq(llm_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), 0, "in the past");
        cr_assert_eq(llm_retry_after_ms("soon"), -1);
}
