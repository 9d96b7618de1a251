/*
 * kl_checksum.c: payload and index checksums, and the hash of bundle names.
 */
#include "kl_common.h"

#include <string.h>

#define KL_FNV_PRIME UINT64_C(0x100000001b3)

uint64_t kl_checksum(uint64_t seed, const void *p, size_t n)
{
    kl_sum s;

    kl_sum_init(&s, seed);
    kl_sum_add(&s, p, n);
    return kl_sum_end(&s);
}

void kl_sum_init(kl_sum *s, uint64_t seed)
{
    s->h = seed;
    s->ntail = 0;
}

void kl_sum_add(kl_sum *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t w;

    if (s->ntail > 0) {
        size_t take = 8 - s->ntail < n ? 8 - s->ntail : n;

        memcpy(s->tail + s->ntail, b, take);
        s->ntail += take;
        b += take;
        n -= take;
        if (s->ntail < 8)
            return;
        memcpy(&w, s->tail, 8);
        s->h = (s->h ^ w) * KL_FNV_PRIME;
        s->ntail = 0;
    }
    while (n >= 8) {
        memcpy(&w, b, 8);
        s->h = (s->h ^ w) * KL_FNV_PRIME;
        b += 8;
        n -= 8;
    }
    memcpy(s->tail, b, n);
    s->ntail = n;
}

uint64_t kl_sum_end(const kl_sum *s)
{
    uint64_t h = s->h;
    size_t i;

    for (i = 0; i < s->ntail; i++)
        h = (h ^ s->tail[i]) * KL_FNV_PRIME;
    return h;
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
