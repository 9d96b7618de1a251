/*
 * kl_checksum.c: payload and index checksums, and the hash of bundle names.
 */
#include "kl_common.h"

#include <string.h>

#define KL_FNV_PRIME UINT64_C(0x100000001b3)

uint64_t kl_checksum(uint64_t seed, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = seed;
    uint64_t w;

    /* Four words a turn: the same sum with fewer loop instructions. */
    while (n >= 32) {
        uint64_t w1, w2, w3;

        memcpy(&w, b, 8);
        memcpy(&w1, b + 8, 8);
        memcpy(&w2, b + 16, 8);
        memcpy(&w3, b + 24, 8);
        h = (h ^ w) * KL_FNV_PRIME;
        h = (h ^ w1) * KL_FNV_PRIME;
        h = (h ^ w2) * KL_FNV_PRIME;
        h = (h ^ w3) * KL_FNV_PRIME;
        b += 32;
        n -= 32;
    }
    while (n >= 8) {
        memcpy(&w, b, 8);
        h = (h ^ w) * KL_FNV_PRIME;
        b += 8;
        n -= 8;
    }
    while (n > 0) {
        h = (h ^ *b) * KL_FNV_PRIME;
        b++;
        n--;
    }
    return h;
}

void kl_sum_init(kl_sum *s, uint64_t seed)
{
    s->h = seed;
    s->ntail = 0;
}

void kl_sum_add(kl_sum *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t whole;

    if (s->ntail > 0) {
        size_t take = 8 - s->ntail < n ? 8 - s->ntail : n;

        memcpy(s->tail + s->ntail, b, take);
        s->ntail += take;
        b += take;
        n -= take;
        if (s->ntail < 8)
            return;
        s->h = kl_checksum(s->h, s->tail, 8);
        s->ntail = 0;
    }
    /* Whole words go through kl_checksum; the rest waits for more. */
    whole = n / 8 * 8;
    s->h = kl_checksum(s->h, b, whole);
    memcpy(s->tail, b + whole, n - whole);
    s->ntail = n - whole;
}

uint64_t kl_sum_end(const kl_sum *s)
{
    return kl_checksum(s->h, s->tail, s->ntail);
}

uint32_t kl_name_hash(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)name[i];
        h *= 16777619u;
    }
    return h ^ (h >> 15);
}
