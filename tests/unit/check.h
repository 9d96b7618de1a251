/*
 * check.h: the few helpers every C unit test shares: counted checks that
 * print one "file:line: check failed: ..." line each, allocation that
 * exits on failure, whole-file helpers and a seeded pseudo-random
 * generator. Each test
 * program includes it once and ends with check_summary().
 */
#ifndef KILN_TEST_CHECK_H
#define KILN_TEST_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/common/kl_common.h"

static unsigned long n_passed, n_failed;

static inline int check_at(int ok, const char *file, int line, const char *expr,
                    const char *fmt, ...) KL_PRINTF(5, 6);

/* Count one check; on failure print "file:line: check failed: expr: ...". */
static inline int check_at(int ok, const char *file, int line, const char *expr,
                    const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        n_passed++;
        return 1;
    }
    n_failed++;
    printf("%s:%d: check failed: %s", file, line, expr);
    if (fmt && fmt[0]) {
        fputs(": ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    fflush(stdout);
    return 0;
}

/* CHECK(cond): one check. CHECKF(cond, fmt, ...): with context. */
#define CHECK(cond) check_at(!!(cond), __FILE__, __LINE__, #cond, "%s", "")
#define CHECKF(cond, ...)                                                      \
    check_at(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static inline uint8_t *xdup(const void *src, size_t n)
{
    uint8_t *p = xmalloc(n);

    if (n)
        memcpy(p, src, n);
    return p;
}

/* ---- files ----------------------------------------------------------------- */

/* Write n bytes to the file at path; exits when it cannot. */
static inline void file_put(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* Read a whole file into a malloc'd buffer; exits when it cannot. */
static inline uint8_t *file_slurp(const char *path, size_t *n)
{
    uint8_t *bytes;
    kl_err err;

    if (kl_read_file(path, &bytes, n, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(2);
    }
    return bytes;
}

/* Make a temporary directory from template (mkdtemp, changed in place);
 * exits when it cannot. */
static inline void tmp_dir_make(char *template)
{
    if (mkdtemp(template) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Remove directory dir and everything below it, as far as possible. */
static inline void tmp_dir_remove(const char *dir)
{
    kl_buf cmd = KL_BUF_INIT;
    int r;

    kl_buf_setf(&cmd, "rm -rf '%s'", dir);
    r = system(cmd.s);
    (void)r;
    kl_buf_free(&cmd);
}

/* Make the directory named by template tmpl (mkdtemp), and in it a file
 * "stub" standing for the runtime stub (not an executable: emitters only
 * copy it), whose path goes to stub; exits on failure. */
static inline void make_test_dir(char *tmpl, kl_buf *stub)
{
    static const char fake[] = "\177ELF a stub that is not one";

    tmp_dir_make(tmpl);
    if (kl_path_join(stub, tmpl, "stub") < 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    file_put(stub->s, fake, sizeof fake - 1);
}

/* Print "N passed, M failed"; the exit status for main. */
static inline int check_summary(void)
{
    printf("%lu passed, %lu failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}

/* ---- pseudo-random bytes -------------------------------------------------- */

static uint64_t rng_state;

static inline uint64_t rng(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static inline void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    size_t i;

    rng_state = seed * 0x9e3779b97f4a7c15u + 1;
    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(rng() >> 24);
}

#endif
