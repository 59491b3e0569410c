/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static void check(const char *in, size_t n, const char *want) {
        char hex[SHA256_HEX_LEN + 1];

        sha256_hex(hex, in, n);
        cr_assert_str_eq(hex, want);
}

Test(sha256, fips_180_vectors) {
        check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
              112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, million_a_in_odd_chunks) {
        char chunk[997];
        unsigned char d[32];
        char hex[65];
        sha256_ctx c;
        size_t left = 1000000;

        memset(chunk, 'a', sizeof(chunk));
        sha256_init(&c);
        while (left > 0) {
                size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
                sha256_update(&c, chunk, k);
                left -= k;
        }
        sha256_final(&c, d);
        for (int i = 0; i < 32; i++)
                sprintf(hex + 2 * i, "%02x", d[i]);
        cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, padding_boundaries_differ) {
        char a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];
        char buf[128];

        memset(buf, 'x', sizeof(buf));
        for (size_t n = 54; n < 66; n++) {
                sha256_hex(a, buf, n);
                sha256_hex(b, buf, n + 1);
                cr_assert_str_neq(a, b, "lengths %zu and %zu collide", n, n + 1);
        }
}
