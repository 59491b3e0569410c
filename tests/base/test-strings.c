/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"

Test(strings, slug_grammar) {
        cr_assert(slug_valid("coder"));
        cr_assert(slug_valid("a"));
        cr_assert(slug_valid("0x.y_z-1"));
        cr_assert_not(slug_valid(""));
        cr_assert_not(slug_valid(NULL));
        cr_assert_not(slug_valid("-coder"));
        cr_assert_not(slug_valid(".hidden"));
        cr_assert_not(slug_valid("Coder"));
        cr_assert_not(slug_valid("a/b"));
        cr_assert_not(slug_valid("a b"));
        cr_assert_not(slug_valid("a:b"));
}

Test(strings, slug_length_edge) {
        char s[POD_SLUG_MAX + 2];

        memset(s, 'a', sizeof(s));
        s[POD_SLUG_MAX] = '\0';
        cr_assert(slug_valid(s), "64 characters are allowed");
        s[POD_SLUG_MAX] = 'a';
        s[POD_SLUG_MAX + 1] = '\0';
        cr_assert_not(slug_valid(s), "65 characters are not");
}

Test(strings, env_names) {
        cr_assert(env_name_valid("OPENAI_API_KEY"));
        cr_assert(env_name_valid("_x1"));
        cr_assert_not(env_name_valid("1X"));
        cr_assert_not(env_name_valid("sk-abc123"));
        cr_assert_not(env_name_valid("A=B"));
        cr_assert_not(env_name_valid(""));
}

Test(strings, utf8_accepts_valid_text) {
        const char *s = "héllo — 日本 🙂";

        cr_assert(utf8_valid(s, strlen(s)));
}

Test(strings, utf8_rejects_malformed_sequences) {
        static const char *bad[] = {
                "\xff", /* invalid byte */
                "\xc0\xaf", /* overlong '/' */
                "\xe0\x80\xaf", /* overlong */
                "\xed\xa0\x80", /* surrogate */
                "\xf4\x90\x80\x80", /* above U+10FFFF */
                "\xe6\x97", /* truncated */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_not(utf8_valid(bad[i], strlen(bad[i])), "case %zu", i);
        cr_assert_eq(utf8_invalid_offset("ab\xff", 3), 2);
        cr_assert_not(utf8_valid("a\0b", 3), "a NUL byte is not text");
}

Test(strings, utf8_clean_replaces_each_bad_byte_and_nul) {
        char *c = utf8_clean("a\xff\xfe\xc3\xa9\0b\xe2\x82", 9);

        cr_assert_str_eq(c,
                         "a\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd"
                         "b\xef\xbf\xbd\xef\xbf\xbd");
        free(c);
        c = utf8_clean("", 0);
        cr_assert_str_eq(c, "");
        free(c);
}

Test(strings, quote_escapes_and_cuts) {
        char *q = str_quote("a'b\n", 10);

        cr_assert_str_eq(q, "'a\\'b\\x0a'");
        free(q);
        q = str_quote("abcdef", 3);
        cr_assert_str_eq(q, "'abc'…");
        free(q);
}

Test(strings, prefix_suffix) {
        cr_assert(str_startswith("path:x", "path:"));
        cr_assert_not(str_startswith("pat", "path:"));
        cr_assert(str_endswith("a.md", ".md"));
        cr_assert_not(str_endswith("md", ".md"));
}

Test(strings, from_mem_reads_exactly_n_bytes) {
        char raw[3] = { 'a', 'b', 'c' }; /* no NUL */
        char *s = str_from_mem(raw, 2);

        cr_assert_str_eq(s, "ab");
        free(s);
}
