/*
 * kl_common.h: the few helpers shared by the kiln command and the runtime
 * stub: error reporting, checksums and name hashing, whole-file reading.
 *
 * Error convention used everywhere in kiln: a function that can fail returns
 * 0 on success and -1 on failure, and on failure fills the caller's kl_err
 * with one line saying what failed and where. Callers add context by
 * calling kl_err_prefix() and pass the same kl_err up.
 */
#ifndef KILN_KL_COMMON_H
#define KILN_KL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define KILN_VERSION "0.1.0"

#if defined(__GNUC__)
#define KL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KL_PRINTF(f, a)
#endif

/* One line describing the most recent failure. */
typedef struct kl_err {
    char msg[1024];
} kl_err;

/* Replace err's message with the formatted text. Returns -1 so that callers
 * can write `return kl_err_set(err, ...)`. err may be NULL. */
int kl_err_set(kl_err *err, const char *fmt, ...) KL_PRINTF(2, 3);

/* Put the formatted text and ": " in front of err's message. Returns -1. */
int kl_err_prefix(kl_err *err, const char *fmt, ...) KL_PRINTF(2, 3);

/* Checksum of n bytes at p, continuing from seed (use KL_CHECKSUM_SEED to
 * start). FNV-1a over little-endian 64-bit words, then the tail bytes: any
 * change to a single word always changes the result. Not cryptographic. */
#define KL_CHECKSUM_SEED UINT64_C(0xcbf29ce484222325)
uint64_t kl_checksum(uint64_t seed, const void *p, size_t n);

/* 32-bit hash of a name used by the bundle's lookup table. */
uint32_t kl_name_hash(const char *name, size_t len);

/* Read the whole file at path into a new malloc'd buffer (NUL-terminated
 * for convenience; the NUL is not counted in *len). The caller frees *out. */
int kl_read_file(const char *path, uint8_t **out, size_t *len, kl_err *err);

/* Add a and b into *out; returns 0, or -1 when the sum overflows. */
static inline int kl_add_size(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b)
        return -1;
    *out = a + b;
    return 0;
}

#endif
