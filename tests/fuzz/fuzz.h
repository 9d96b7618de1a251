/*
 * fuzz.h: what the fuzz targets (tests/fuzz/fuzz_*.c) share: libFuzzer's
 * entry points, a contract check that ends the run as a finding, and an
 * exact-size copy of an input (the readers get a buffer of exactly the
 * input's size, so that AddressSanitizer catches any read past its end,
 * aligned as a mapping is, and writable where a target changes it), and
 * a memory file for readers that take a path (nothing is left on disk).
 */
#ifndef KILN_FUZZ_H
#define KILN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "../../src/common/kl_common.h"

/* libFuzzer calls these: once at start, then once per input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the run with a finding when a reader broke its contract: one line
 * naming what, then abort() (libFuzzer saves the input). */
#define FUZZ_REQUIRE(cond, what)                                           \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: contract broken: %s (%s)\n", __FILE__, \
                    __LINE__, what, #cond);                                \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* A malloc'd copy of p[0, n), exactly n bytes (one when n is 0); NULL when
 * memory runs out, which the caller treats as an input to skip. */
static inline uint8_t *fuzz_dup(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);

    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

/* Check that a failure left a message in err: a NUL-terminated, non-empty
 * string, as every kl_err a failing function fills must be. */
static inline void fuzz_check_err(const kl_err *err)
{
    size_t n = strnlen(err->msg, sizeof err->msg);

    FUZZ_REQUIRE(n > 0 && n < sizeof err->msg,
                 "a failure says what failed");
}

/* A memory file named name: its descriptor, and in path[0, n) the path
 * that opens it (/proc/self/fd/N). Exits when there is none: the target
 * cannot run. */
static inline int fuzz_memfile(const char *name, char *path, size_t n)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0) {
        perror("fuzz: memfd_create");
        exit(1);
    }
    snprintf(path, n, "/proc/self/fd/%d", fd);
    return fd;
}

/* Make memory file fd hold exactly data[0, size). 0, or -1 when it
 * cannot (the input is then skipped). */
static inline int fuzz_memfile_set(int fd, const uint8_t *data, size_t size)
{
    size_t done = 0;

    if (ftruncate(fd, 0) < 0)
        return -1;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

#endif
