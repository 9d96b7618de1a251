/*
 * test_ldso.c: unit tests of the ld.so cache reader (src/freeze/fz_ldso.c)
 * on caches the test writes itself, laid out as docs/native.md and the
 * reader's comment describe ldconfig's format 1.1: a name found, the entry
 * without hwcap bits preferred, another machine's object passed over, the
 * format after 1.7.0 entries, and truncated or hostile caches read as
 * empty, never outside the file. Checks as in check.h.
 *
 * Usage: test_ldso FIXTURES_DIR
 */
#include "../../src/freeze/fz_libs.h"
#include "check.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#error "the ld.so cache tests know x86_64 and aarch64"
#endif

/* One entry to write: key, value (paths), hwcap bits. */
typedef struct entry {
    const char *key, *value;
    uint64_t hwcap;
} entry;

static void put32(kl_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};

    kl_buf_add(b, x, 4);
}

static void put64(kl_buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

/* Append a 1.1-format cache of es[0, n) to b (its header where b ends,
 * string offsets from there). */
static void write_new(kl_buf *b, const entry *es, size_t n)
{
    size_t base = b->len, strings = 48 + n * 24, i;
    kl_buf str = KL_BUF_INIT;

    kl_buf_add(b, "glibc-ld.so.cache1.1", 20);
    put32(b, (uint32_t)n);
    put32(b, 0); /* string table length: not read */
    put32(b, 0); /* flags, padding */
    put32(b, 0); /* extension offset */
    put32(b, 0), put32(b, 0), put32(b, 0);
    for (i = 0; i < n; i++) {
        size_t key = strings + str.len;

        kl_buf_add(&str, es[i].key, strlen(es[i].key) + 1);
        put32(b, 0x0303);
        put32(b, (uint32_t)key);
        put32(b, (uint32_t)(strings + str.len));
        kl_buf_add(&str, es[i].value, strlen(es[i].value) + 1);
        put32(b, 0);
        put64(b, es[i].hwcap);
    }
    CHECK(b->len - base == strings);
    kl_buf_add(b, str.s, str.len);
    kl_buf_free(&str);
}

/* Write b to a file in dir; returns its path (malloc'd). */
static char *save(const char *dir, const kl_buf *b)
{
    kl_buf path = KL_BUF_INIT;
    kl_err err;

    kl_path_join(&path, dir, "ld.so.cache");
    if (!CHECKF(kl_file_replace(path.s, b->s, b->len, 0644, &err) == 0, "%s",
                err.msg))
        exit(2);
    return kl_buf_detach(&path);
}

/* What fz_ldso_cache finds for name in the cache at path ("" for none). */
static char *find(const char *path, const char *name, uint16_t machine)
{
    char *out = (char *)1;
    kl_err err;

    CHECK(fz_ldso_cache(path, name, machine, &out, &err) == 0);
    return out ? out : strdup("");
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/test_ldso.XXXXXX", *dir, *path, *got, *lib, *other;
    kl_buf b = KL_BUF_INIT, p = KL_BUF_INIT;
    size_t cut;

    if (argc != 2) {
        fprintf(stderr, "usage: test_ldso FIXTURES_DIR\n");
        return 2;
    }
    dir = mkdtemp(tmpl);
    kl_path_join(&p, argv[1], "libkltest.so");
    lib = realpath(p.s, NULL);
    kl_path_join(&p, argv[1], "libkltest-rpath.so");
    other = realpath(p.s, NULL);
    if (!CHECK(dir != NULL && lib != NULL && other != NULL))
        return 2;
    {
        entry es[] = {
            {"libzz.so.1", "/nonexistent/libzz.so.1", 0},
            {"libkltest.so.1", other, 0x4000}, /* hwcap: second choice */
            {"libkltest.so.1", lib, 0},
            {"libbad.so.1", "/etc/hostname", 0}, /* not ELF */
        };

        write_new(&b, es, 4);
        path = save(dir, &b);
        got = find(path, "libkltest.so.1", HOST_MACHINE);
        CHECKF(strcmp(got, lib) == 0, "%s", got);
        free(got);
        got = find(path, "libkltest.so.1", HOST_MACHINE == EM_X86_64
                                                ? EM_AARCH64 : EM_X86_64);
        CHECKF(strcmp(got, "") == 0, "another machine: %s", got);
        free(got);
        got = find(path, "libzz.so.1", HOST_MACHINE);
        CHECKF(strcmp(got, "") == 0, "a missing file: %s", got);
        free(got);
        got = find(path, "libbad.so.1", HOST_MACHINE);
        CHECKF(strcmp(got, "") == 0, "not ELF: %s", got);
        free(got);
        got = find(path, "libkltest.so", HOST_MACHINE);
        CHECKF(strcmp(got, "") == 0, "a name's prefix: %s", got);
        free(got);

        /* every truncation reads as a smaller or empty cache (with the
         * plain entry's path cut off, the hwcap one is what is left) */
        for (cut = 0; cut < b.len; cut += 7) {
            kl_buf t = KL_BUF_INIT;
            char *tp;

            kl_buf_add(&t, b.s, cut);
            tp = save(dir, &t);
            got = find(tp, "libkltest.so.1", HOST_MACHINE);
            CHECKF(strcmp(got, "") == 0 || strcmp(got, lib) == 0 ||
                       strcmp(got, other) == 0,
                   "cut %zu", cut);
            free(got);
            free(tp);
            kl_buf_free(&t);
        }
        /* string offsets pointing outside the file, and an entry count far
         * beyond it */
        b.s[48 + 4] = (char)0xff, b.s[48 + 5] = (char)0xff;
        b.s[48 + 6] = (char)0xff, b.s[48 + 7] = (char)0x7f;
        b.s[20] = (char)0xff, b.s[21] = (char)0xff, b.s[22] = (char)0xff;
        free(path);
        path = save(dir, &b);
        got = find(path, "libkltest.so.1", HOST_MACHINE);
        CHECKF(strcmp(got, lib) == 0, "hostile: %s", got);
        free(got);
        free(path);
    }
    {
        /* the 1.7.0 format's entries first, then the 1.1 cache on an
         * 8-byte boundary */
        entry es[] = {{"libkltest.so.1", lib, 0}};
        size_t i;

        kl_buf_sets(&b, "");
        kl_buf_add(&b, "ld.so-1.7.0\0", 12);
        put32(&b, 3);
        for (i = 0; i < 3 * 12; i++)
            kl_buf_add(&b, "\0", 1);
        while (b.len % 8 != 0)
            kl_buf_add(&b, "\0", 1);
        write_new(&b, es, 1);
        path = save(dir, &b);
        got = find(path, "libkltest.so.1", HOST_MACHINE);
        CHECKF(strcmp(got, lib) == 0, "after 1.7.0 entries: %s", got);
        free(got);
        free(path);
    }
    got = find("/nonexistent/ld.so.cache", "libkltest.so.1", HOST_MACHINE);
    CHECK(strcmp(got, "") == 0);
    free(got);

    kl_path_join(&p, dir, "ld.so.cache");
    unlink(p.s);
    rmdir(dir);
    free(lib);
    free(other);
    kl_buf_free(&b);
    kl_buf_free(&p);
    return check_summary();
}
