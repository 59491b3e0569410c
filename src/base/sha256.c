/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 (FIPS 180-4). Manifests record the digest of every profile and skill so `pod ps`
 * can show which recipe a pod runs; this small, test-vector-checked implementation keeps
 * a cryptographic library out of a binary that must start as fast as a bare C program.
 */
#include <string.h>

#include "base.h"

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n) {
        return (x >> n) | (x << (32 - n));
}

static void sha256_block(sha256_ctx *c, const unsigned char *p) {
        uint32_t w[64], s[8];

        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
                        (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
        for (unsigned i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        memcpy(s, c->h, sizeof(s));
        for (unsigned i = 0; i < 64; i++) {
                uint32_t e = s[4], a = s[0];
                uint32_t t1 = s[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
                        ((e & s[5]) ^ (~e & s[6])) + K[i] + w[i];
                uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
                        ((a & s[1]) ^ (a & s[2]) ^ (s[1] & s[2]));
                memmove(s + 1, s, 7 * sizeof(uint32_t));
                s[4] += t1;
                s[0] = t1 + t2;
        }
        for (unsigned i = 0; i < 8; i++)
                c->h[i] += s[i];
}

void sha256_init(sha256_ctx *c) {
        static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        memcpy(c->h, h0, sizeof(h0));
        c->total = 0;
        c->fill = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t n) {
        const unsigned char *p = data;

        c->total += n;
        while (n > 0) {
                size_t k = 64 - c->fill;
                if (k > n)
                        k = n;
                memcpy(c->block + c->fill, p, k);
                c->fill += k;
                p += k;
                n -= k;
                if (c->fill == 64) {
                        sha256_block(c, c->block);
                        c->fill = 0;
                }
        }
}

void sha256_final(sha256_ctx *c, unsigned char out[32]) {
        uint64_t bits = c->total * 8;
        unsigned char pad[72] = { 0x80 };
        size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;

        for (unsigned i = 0; i < 8; i++)
                pad[padlen + i] = (unsigned char) (bits >> (56 - 8 * i));
        sha256_update(c, pad, padlen + 8);
        for (unsigned i = 0; i < 8; i++) {
                out[4 * i] = (unsigned char) (c->h[i] >> 24);
                out[4 * i + 1] = (unsigned char) (c->h[i] >> 16);
                out[4 * i + 2] = (unsigned char) (c->h[i] >> 8);
                out[4 * i + 3] = (unsigned char) c->h[i];
        }
}

void sha256_hex(char out[SHA256_HEX_LEN + 1], const void *data, size_t n) {
        static const char hex[] = "0123456789abcdef";
        unsigned char d[32];
        sha256_ctx c;

        sha256_init(&c);
        sha256_update(&c, data, n);
        sha256_final(&c, d);
        for (unsigned i = 0; i < 32; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 15];
        }
        out[SHA256_HEX_LEN] = '\0';
}
