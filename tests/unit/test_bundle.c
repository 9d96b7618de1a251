/*
 * test_bundle.c: unit tests of the bundle writer and reader (src/bundle/)
 * and of kl_checksum and kl_sum (src/common/). Checks as in check.h: each
 * failure prints one line, the last line is "N passed, M failed", and the
 * exit status is non-zero when anything failed.
 *
 * Built and run by `make unit`. Every file image handed to bundle_open() is a
 * malloc'd buffer of exactly the file's size, so that running this under
 * valgrind or -fsanitize=address catches any read past the end.
 */
#include "../../src/bundle/bundle.h"
#include "../../src/common/kl_common.h"
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- test data ---------------------------------------------------------- */

/* Compressible Python-looking text. */
static void fill_text(uint8_t *p, size_t n, uint64_t seed)
{
    char line[96];
    size_t i = 0, k = 0;

    while (i < n) {
        int len = snprintf(line, sizeof line,
                           "def f%llu_%zu(x):\n    return x + %zu\n",
                           (unsigned long long)seed, k % 7, k % 5);
        size_t take = (size_t)len < n - i ? (size_t)len : n - i;

        memcpy(p + i, line, take);
        i += take;
        k++;
    }
}

enum fill { FILL_NONE, FILL_RANDOM, FILL_TEXT };

typedef struct spec {
    unsigned kind;
    const char *name;
    const char *path;
    enum fill dfill;
    size_t dsize;
    enum fill afill;
    size_t asize;
    /* filled by spec_make */
    uint8_t *data;
    uint8_t *aux;
} spec;

static uint8_t *make_bytes(enum fill f, size_t n, uint64_t seed)
{
    uint8_t *p;

    if (f == FILL_NONE || n == 0)
        return NULL;
    p = xmalloc(n);
    if (f == FILL_RANDOM)
        fill_random(p, n, seed);
    else
        fill_text(p, n, seed);
    return p;
}

static void specs_make(spec *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        s[i].data = make_bytes(s[i].dfill, s[i].dsize, 1000 + i);
        s[i].aux = make_bytes(s[i].afill, s[i].asize, 2000 + i);
        if (s[i].data == NULL)
            s[i].dsize = 0;
        if (s[i].aux == NULL)
            s[i].asize = 0;
    }
}

static void specs_free(spec *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(s[i].data);
        free(s[i].aux);
        s[i].data = s[i].aux = NULL;
    }
}

/* Several entries of each kind. Names are chosen so that the last entry in
 * (namespace, name) order ends at an odd payload offset, and one name
 * ("libfoo.so.1") exists in two namespaces. */
static spec main_specs[] = {
    {BUNDLE_KIND_MODULE, "alpha", "alpha.py", FILL_TEXT, 5000, FILL_TEXT, 3001, 0, 0},
    {BUNDLE_KIND_MODULE, "beta.gamma", "beta/gamma.py", FILL_RANDOM, 777, FILL_TEXT, 13, 0, 0},
    {BUNDLE_KIND_MODULE, "zeta", "zeta.py", FILL_TEXT, 100, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_MODULE, "__main__", "app.py", FILL_TEXT, 2048, FILL_TEXT, 1500, 0, 0},
    {BUNDLE_KIND_PACKAGE, "beta", "beta/__init__.py", FILL_TEXT, 200, FILL_TEXT, 50, 0, 0},
    {BUNDLE_KIND_PACKAGE, "pkg.sub", "pkg/sub/__init__.py", FILL_RANDOM, 31, FILL_RANDOM, 9, 0, 0},
    {BUNDLE_KIND_NAMESPACE, "nsp", "nsp", FILL_NONE, 0, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_NAMESPACE, "nsp.deeper", "nsp/deeper", FILL_NONE, 0, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_EXTENSION, "beta._speedups",
     "beta/_speedups.cpython-312-x86_64-linux-gnu.so", FILL_RANDOM, 9000, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_EXTENSION, "_ext2", "_ext2.so", FILL_TEXT, 4097, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_SHLIB, "libfoo.so.1", "libs/libfoo.so.1", FILL_RANDOM, 6000, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_SHLIB, "libbar.so", "libs/libbar.so", FILL_TEXT, 12345, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "beta/data/table.txt", "beta/data/table.txt", FILL_TEXT, 10000, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "a/empty.bin", "a/empty.bin", FILL_NONE, 0, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "libfoo.so.1", "libfoo.so.1", FILL_RANDOM, 17, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "res/odd.bin", "res/odd.bin", FILL_RANDOM, 1001, FILL_NONE, 0, 0, 0},
};
#define N_MAIN (sizeof main_specs / sizeof main_specs[0])

/* A small bundle for the exhaustive corruption tests. */
static spec small_specs[] = {
    {BUNDLE_KIND_MODULE, "a", "a.py", FILL_TEXT, 300, FILL_TEXT, 40, 0, 0},
    {BUNDLE_KIND_PACKAGE, "p", "p/__init__.py", FILL_RANDOM, 20, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_NAMESPACE, "n", "n", FILL_NONE, 0, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_SHLIB, "libz.so.1", "libz.so.1", FILL_RANDOM, 24, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "d.txt", "d.txt", FILL_TEXT, 100, FILL_NONE, 0, 0, 0},
};
#define N_SMALL (sizeof small_specs / sizeof small_specs[0])

/* Only module-namespace entries: the last payload is a source of odd size. */
static spec module_specs[] = {
    {BUNDLE_KIND_MODULE, "app", "app.py", FILL_TEXT, 100, FILL_TEXT, 37, 0, 0},
    {BUNDLE_KIND_NAMESPACE, "ns", "ns", FILL_NONE, 0, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_PACKAGE, "pkg", "pkg/__init__.py", FILL_RANDOM, 50, FILL_RANDOM, 21, 0, 0},
};
#define N_MODULE (sizeof module_specs / sizeof module_specs[0])

#define RUN_TARGET "beta.gamma:main"
#define PY_HEX 0x030c01f0u

static int is_text_big(enum fill f, size_t n)
{
    return f == FILL_TEXT && n >= 1000;
}

/* ---- building ----------------------------------------------------------- */

/* Where the writer takes payloads from: memory, a file, a file whose
 * first bytes are wrong and replaced by a head, or memory or a file with
 * two runs of 8 wrong bytes (in the middle and at the end) replaced by
 * patches. Every way must give the same bundle. */
enum how { FROM_MEMORY, FROM_FILE, FROM_FILE_HEAD, FROM_MEMORY_PATCHED,
           FROM_FILE_PATCHED };
#define HOW_COUNT 5
static const char *const how_names[] = {"memory", "file", "file+head",
                                        "memory+patches", "file+patches"};
#define HEAD_MAX 7

static int spec_cmp(const void *a, const void *b)
{
    const spec *x = *(const spec *const *)a, *y = *(const spec *const *)b;

    return bundle_entry_order(x->kind, x->name, y->kind, y->name);
}

/* The specs s[0, n) in bundle order, as a new array of pointers. */
static spec **specs_sorted(spec *s, size_t n)
{
    spec **order = xmalloc(n * sizeof *order);
    size_t i;

    for (i = 0; i < n; i++)
        order[i] = &s[i];
    qsort(order, n, sizeof *order, spec_cmp);
    return order;
}

/* A new anonymous file holding p[0, n). */
static int memfd_with(const void *p, size_t n)
{
    int fd = memfd_create("test", MFD_CLOEXEC);

    if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n)) {
        perror("memfd");
        exit(2);
    }
    return fd;
}

/* The whole of fd, in a malloc'd buffer of exactly its size. */
static uint8_t *fd_contents(int fd, size_t *size)
{
    struct stat st;
    uint8_t *buf;

    if (fstat(fd, &st) < 0) {
        perror("fstat");
        exit(2);
    }
    buf = xmalloc((size_t)st.st_size);
    if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
        perror("pread");
        exit(2);
    }
    *size = (size_t)st.st_size;
    return buf;
}

/* Fill src for bytes p[0, n) the way `how` says. A file source gets its
 * own descriptor (returned; -1 for memory) and, for FROM_FILE_HEAD, head
 * receives the true first bytes while the file holds them flipped; for
 * the patched ways, patches receive the true bytes of two runs that the
 * source holds flipped (*copy: a memory source's bytes, for the caller
 * to free). */
static int source_for(bundle_source *src, const uint8_t *p, size_t n,
                      int level, enum how how, uint8_t head[HEAD_MAX],
                      bundle_patch patches[2], uint8_t **copy_out)
{
    uint8_t *copy;
    size_t k, i, j;
    int fd;

    memset(src, 0, sizeof *src);
    *copy_out = NULL;
    src->fd = -1;
    src->size = n;
    src->level = level;
    if (how == FROM_MEMORY || n == 0) {
        src->bytes = p;
        return -1;
    }
    copy = xdup(p, n);
    k = how == FROM_FILE_HEAD ? (n < HEAD_MAX ? n : HEAD_MAX) : 0;
    for (i = 0; i < k; i++) {
        head[i] = copy[i];
        copy[i] ^= 0x5a;
    }
    if ((how == FROM_MEMORY_PATCHED || how == FROM_FILE_PATCHED) && n >= 16) {
        patches[0].off = n / 2 - 4;
        patches[1].off = n - 8;
        src->patches = patches;
        src->n_patches = patches[0].off + 8 <= patches[1].off ? 2 : 1;
        for (j = 0; j < src->n_patches; j++)
            for (i = 0; i < 8; i++) {
                patches[j].bytes[i] = copy[patches[j].off + i];
                copy[patches[j].off + i] ^= 0xa5;
            }
    }
    if (how == FROM_MEMORY_PATCHED) {
        src->bytes = copy;
        *copy_out = copy;
        return -1;
    }
    fd = memfd_with(copy, n);
    free(copy);
    src->fd = fd;
    src->head = k ? head : NULL;
    src->head_size = k;
    return fd;
}

/* A whole "file": a fake stub of `at` bytes, then the bundle of specs
 * s[0, n) stored at `level`, payloads taken as `how` says. */
static uint8_t *file_from(spec *s, size_t n, int level, uint64_t at,
                          enum how how, size_t *fsize)
{
    spec **order = specs_sorted(s, n);
    bundle_writer *w = bundle_writer_new();
    uint8_t *stub = xmalloc((size_t)at), *file;
    kl_err err;
    size_t i;
    int fd;

    if (!CHECK(w != NULL))
        exit(2);
    for (i = 0; i < n; i++) {
        err.msg[0] = 0;
        CHECKF(bundle_writer_add(w, order[i]->kind, order[i]->name,
                                 order[i]->path, &err) == 0,
               "add %s: %s", order[i]->name, err.msg);
    }
    CHECK(bundle_writer_set_run(w, BUNDLE_RUN_ENTRY, RUN_TARGET, PY_HEX,
                                &err) == 0);
    fill_random(stub, (size_t)at, 77);
    if (at >= 4)
        memcpy(stub, "\177ELF", 4);
    fd = memfd_with(stub, (size_t)at);
    free(stub);
    err.msg[0] = 0;
    if (!CHECKF(bundle_writer_begin(w, fd, at, &err) == 0, "%s", err.msg))
        exit(2);
    for (i = 0; i < n; i++) {
        bundle_source data, aux;
        uint8_t dhead[HEAD_MAX], ahead[HEAD_MAX], *dcopy, *acopy;
        bundle_patch dpatch[2], apatch[2];
        int dfd = source_for(&data, order[i]->data, order[i]->dsize, level,
                             how, dhead, dpatch, &dcopy);
        int afd = source_for(&aux, order[i]->aux, order[i]->asize, level, how,
                             ahead, apatch, &acopy);

        err.msg[0] = 0;
        CHECKF(bundle_writer_put(w, &data, &aux, &err) == 0, "put %s: %s",
               order[i]->name, err.msg);
        if (dfd >= 0)
            close(dfd);
        if (afd >= 0)
            close(afd);
        free(dcopy);
        free(acopy);
    }
    err.msg[0] = 0;
    if (!CHECKF(bundle_writer_finish(w, &err) == 0, "%s", err.msg))
        exit(2);
    file = fd_contents(fd, fsize);
    close(fd);
    bundle_writer_free(w);
    free(order);
    return file;
}

static void get_trailer(const uint8_t *file, size_t fsize, bundle_trailer *t)
{
    memcpy(t, file + fsize - sizeof *t, sizeof *t);
}

static void put_trailer(uint8_t *file, size_t fsize, const bundle_trailer *t)
{
    memcpy(file + fsize - sizeof *t, t, sizeof *t);
}

/* ---- checking a view against specs ------------------------------------- */

static int bytes_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Read one part and compare; `expect_z` -1: don't care, 0/1: expected
 * compression flag. */
static void check_part(const bundle_view *v, const bundle_entry *e,
                       enum bundle_part part, const uint8_t *want,
                       size_t want_n, int expect_z, const char *ctx)
{
    const uint8_t *d = (const uint8_t *)"x";
    size_t n = 12345;
    uint8_t *owned = (uint8_t *)"y";
    unsigned zflag = part == BUNDLE_PART_DATA ? BUNDLE_FLAG_DATA_ZSTD
                                              : BUNDLE_FLAG_AUX_ZSTD;
    int z = (e->flags & zflag) != 0;
    kl_err err;

    err.msg[0] = 0;
    if (!CHECKF(bundle_read(v, e, part, &d, &n, &owned, &err) == 0,
                "%s part %d: %s", ctx, (int)part, err.msg))
        return;
    CHECKF(bytes_equal(d, n, want, want_n), "%s part %d: %zu bytes, want %zu",
           ctx, (int)part, n, want_n);
    if (expect_z >= 0)
        CHECKF(z == expect_z, "%s part %d: compressed %d, want %d", ctx,
               (int)part, z, expect_z);
    if (z) {
        CHECKF(owned != NULL && d == owned, "%s part %d: compressed part must "
               "be returned in *owned", ctx, (int)part);
    } else {
        uint64_t off = part == BUNDLE_PART_DATA ? e->data_off : e->aux_off;

        CHECKF(owned == NULL, "%s part %d: stored part must not be owned", ctx,
               (int)part);
        CHECKF(d == v->payload + off && d >= v->file &&
                   d + n <= v->file + v->file_size,
               "%s part %d: stored part must point into the mapping", ctx,
               (int)part);
    }
    free(owned);
}

/* Full check of a bundle built from specs at level, in file[0, fsize) with
 * the bundle at `at`. */
static void check_view(const uint8_t *file, size_t fsize, uint64_t at,
                       spec *s, size_t n, int level, int with_run,
                       const char *ctx)
{
    bundle_view v;
    kl_err err;
    bundle_trailer t;
    uint64_t payload_file_off;
    size_t i;

    err.msg[0] = 0;
    CHECKF(bundle_present(file, fsize), "%s", ctx);
    if (!CHECKF(bundle_open(&v, file, fsize, &err) == 0, "%s: %s", ctx,
                err.msg))
        return;
    get_trailer(file, fsize, &t);
    CHECKF(t.bundle_offset == at, "%s", ctx);
    CHECKF(t.bundle_offset + t.bundle_size + sizeof t == fsize, "%s", ctx);
    /* docs/format.md: integers lie at offsets that are multiples of their
     * size, and bundle.h: "every structure below lies at an offset that is
     * a multiple of 8, so the reader uses them straight from the mapping".
     * The trailer starts at B + bundle_size. */
    CHECKF((fsize - sizeof t) % 8 == 0,
           "%s: trailer at file offset %zu, not a multiple of 8 (bundle_size "
           "%llu; the writer does not pad the payload area)",
           ctx, fsize - sizeof t, (unsigned long long)t.bundle_size);
    CHECKF(v.base == file + at, "%s", ctx);
    CHECKF(v.header->entry_count == n, "%s: %u entries", ctx,
           v.header->entry_count);
    CHECKF(v.header->hash_slots >= 16 &&
               v.header->hash_slots >= 2 * v.header->entry_count &&
               (v.header->hash_slots & (v.header->hash_slots - 1)) == 0,
           "%s: %u slots", ctx, v.header->hash_slots);
    CHECKF(v.header->flags == 0, "%s", ctx);
    CHECKF(v.strings[0] == '\0', "%s", ctx);
    payload_file_off = (uint64_t)(v.payload - v.file);
    CHECKF(payload_file_off % BUNDLE_PAGE == 0, "%s: payload at %llu", ctx,
           (unsigned long long)payload_file_off);
    CHECKF(payload_file_off == at + v.header->payload_off, "%s", ctx);
    if (with_run) {
        CHECKF(v.header->run_mode == BUNDLE_RUN_ENTRY, "%s", ctx);
        CHECKF(v.header->python_hex == PY_HEX, "%s", ctx);
        CHECKF(strcmp(bundle_run_target(&v), RUN_TARGET) == 0, "%s: '%s'", ctx,
               bundle_run_target(&v));
        CHECKF(v.header->run_target_len == strlen(RUN_TARGET), "%s", ctx);
    } else {
        CHECKF(strcmp(bundle_run_target(&v), "") == 0, "%s", ctx);
    }

    /* entries sorted by (namespace, name bytes) */
    for (i = 1; i < v.header->entry_count; i++) {
        const bundle_entry *a = &v.entries[i - 1], *b = &v.entries[i];
        int na = bundle_kind_ns(a->kind), nb = bundle_kind_ns(b->kind);

        CHECKF(na < nb || (na == nb && strcmp(bundle_entry_name(&v, a),
                                              bundle_entry_name(&v, b)) < 0),
               "%s: entries %zu and %zu out of order", ctx, i - 1, i);
    }

    for (i = 0; i < n; i++) {
        const spec *sp = &s[i];
        enum bundle_ns ns = bundle_kind_ns(sp->kind);
        const bundle_entry *e = bundle_find(&v, ns, sp->name, strlen(sp->name));
        char c[160];
        int ez_data = -1, ez_aux = -1;

        snprintf(c, sizeof c, "%s: %s", ctx, sp->name);
        if (!CHECKF(e != NULL, "%s: not found", c))
            continue;
        CHECKF(e >= v.entries && e < v.entries + v.header->entry_count, "%s",
               c);
        CHECKF(e->kind == sp->kind, "%s: kind %u", c, e->kind);
        CHECKF(strcmp(bundle_entry_name(&v, e), sp->name) == 0, "%s", c);
        CHECKF(strcmp(bundle_entry_path(&v, e), sp->path) == 0, "%s: path %s",
               c, bundle_entry_path(&v, e));
        CHECKF(e->name_len == strlen(sp->name), "%s", c);
        CHECKF(e->path_len == strlen(sp->path), "%s", c);
        CHECKF(e->reserved0 == 0 && e->reserved1 == 0, "%s", c);
        CHECKF(e->data_raw_size == sp->dsize && e->aux_raw_size == sp->asize,
               "%s", c);
        if (level == 0) {
            ez_data = ez_aux = 0;
        } else {
            if (sp->dfill == FILL_RANDOM || sp->dsize == 0)
                ez_data = 0;
            else if (is_text_big(sp->dfill, sp->dsize))
                ez_data = 1;
            if (sp->afill == FILL_RANDOM || sp->asize == 0)
                ez_aux = 0;
            else if (is_text_big(sp->afill, sp->asize))
                ez_aux = 1;
        }
        check_part(&v, e, BUNDLE_PART_DATA, sp->data, sp->dsize, ez_data, c);
        check_part(&v, e, BUNDLE_PART_AUX, sp->aux, sp->asize, ez_aux, c);

        /* alignment of payloads */
        if (sp->kind == BUNDLE_KIND_EXTENSION || sp->kind == BUNDLE_KIND_SHLIB ||
            sp->kind == BUNDLE_KIND_DATA)
            CHECKF((payload_file_off + e->data_off) % BUNDLE_PAGE == 0,
                   "%s: data at file offset %llu", c,
                   (unsigned long long)(payload_file_off + e->data_off));
        else
            CHECKF(e->data_off % BUNDLE_SMALL_ALIGN == 0, "%s", c);
        CHECKF(e->aux_off % BUNDLE_SMALL_ALIGN == 0, "%s", c);

        /* the length argument is honoured: a longer buffer, cut at len */
        {
            char buf[300];

            snprintf(buf, sizeof buf, "%sXYZ", sp->name);
            CHECKF(bundle_find(&v, ns, buf, strlen(sp->name)) == e, "%s", c);
            CHECKF(bundle_find(&v, ns, buf, strlen(buf)) == NULL, "%s", c);
            if (strlen(sp->name) > 1) {
                const bundle_entry *o =
                    bundle_find(&v, ns, sp->name, strlen(sp->name) - 1);

                CHECKF(o == NULL ||
                           (o->name_len == strlen(sp->name) - 1 &&
                            memcmp(bundle_entry_name(&v, o), sp->name,
                                   o->name_len) == 0),
                       "%s: a prefix finds another name", c);
            }
        }
        /* the other namespaces don't have it, unless another spec says so */
        {
            int other;

            for (other = BUNDLE_NS_MODULE; other <= BUNDLE_NS_FILE; other++) {
                const bundle_entry *o;
                size_t j;
                int expected = 0;

                if (other == (int)ns)
                    continue;
                for (j = 0; j < n; j++)
                    if ((int)bundle_kind_ns(s[j].kind) == other &&
                        strcmp(s[j].name, sp->name) == 0)
                        expected = 1;
                o = bundle_find(&v, (enum bundle_ns)other, sp->name,
                                strlen(sp->name));
                if (expected)
                    CHECKF(o != NULL && o != e &&
                               (int)bundle_kind_ns(o->kind) == other,
                           "%s in ns %d", c, other);
                else
                    CHECKF(o == NULL, "%s: found in wrong namespace %d", c,
                           other);
            }
        }
    }
    {
        static const char *const missing[] = {
            "", "alph", "alpha2", "Alpha", "beta.gamma.x", "nsp.deeper2",
            "libfoo.so", "libfoo.so.10", "res/odd.bi", "d.txt2", "zzz",
        };

        for (i = 0; i < sizeof missing / sizeof missing[0]; i++) {
            int ns;

            for (ns = BUNDLE_NS_MODULE; ns <= BUNDLE_NS_FILE; ns++) {
                size_t j;
                int present = 0;

                for (j = 0; j < n; j++)
                    if ((int)bundle_kind_ns(s[j].kind) == ns &&
                        strcmp(s[j].name, missing[i]) == 0)
                        present = 1;
                if (!present)
                    CHECKF(bundle_find(&v, (enum bundle_ns)ns, missing[i],
                                       strlen(missing[i])) == NULL,
                           "%s: '%s' found in ns %d", ctx, missing[i], ns);
            }
        }
    }
    /* Prefix search: every prefix of every name, and of names that are
     * not there, against a scan of the entry table. */
    for (i = 0; i < n + 2; i++) {
        const char *name = i < n ? s[i].name : i == n ? "beta/d" : "zz";
        size_t k, len = strlen(name);
        int ns;

        for (ns = BUNDLE_NS_MODULE; ns <= BUNDLE_NS_FILE; ns++) {
            for (k = 0; k <= len; k++) {
                const bundle_entry *want = NULL;
                uint32_t j;

                for (j = 0; j < v.header->entry_count && want == NULL; j++) {
                    const bundle_entry *e = &v.entries[j];

                    if ((int)bundle_kind_ns(e->kind) == ns &&
                        e->name_len >= k &&
                        memcmp(bundle_entry_name(&v, e), name, k) == 0)
                        want = e;
                }
                CHECKF(bundle_find_prefix(&v, (enum bundle_ns)ns, name, k) ==
                           want,
                       "%s: prefix '%.*s' in ns %d", ctx, (int)k, name, ns);
            }
        }
    }
    err.msg[0] = 0;
    CHECKF(bundle_verify(&v, &err) == 0, "%s: %s", ctx, err.msg);
}

/* ---- tests -------------------------------------------------------------- */

static void test_kinds(void)
{
    CHECK(bundle_kind_ns(BUNDLE_KIND_MODULE) == BUNDLE_NS_MODULE);
    CHECK(bundle_kind_ns(BUNDLE_KIND_PACKAGE) == BUNDLE_NS_MODULE);
    CHECK(bundle_kind_ns(BUNDLE_KIND_NAMESPACE) == BUNDLE_NS_MODULE);
    CHECK(bundle_kind_ns(BUNDLE_KIND_EXTENSION) == BUNDLE_NS_MODULE);
    CHECK(bundle_kind_ns(BUNDLE_KIND_SHLIB) == BUNDLE_NS_LIB);
    CHECK(bundle_kind_ns(BUNDLE_KIND_DATA) == BUNDLE_NS_FILE);
    CHECK(bundle_kind_ns(BUNDLE_KIND_PKGDATA) == BUNDLE_NS_FILE);
    CHECK(bundle_kind_ns(BUNDLE_KIND_METADATA) == BUNDLE_NS_FILE);
    CHECK(strcmp(bundle_kind_name(BUNDLE_KIND_MODULE), "module") == 0);
    CHECK(strcmp(bundle_kind_name(BUNDLE_KIND_EXTENSION), "extension") == 0);
    CHECK(strcmp(bundle_kind_name(BUNDLE_KIND_DATA), "data") == 0);
    CHECK(strcmp(bundle_kind_name(0), "?") == 0);
    CHECK(strcmp(bundle_kind_name(BUNDLE_KIND_METADATA), "metadata") == 0);
    CHECK(strcmp(bundle_kind_name(BUNDLE_KIND_MAX + 1), "?") == 0);
    CHECK(strcmp(bundle_kind_name(1000000), "?") == 0);
}

static void test_round_trip(int level, uint64_t at)
{
    uint8_t *file, *other;
    size_t fsize, osize;
    char ctx[64];
    int how;

    snprintf(ctx, sizeof ctx, "round trip level %d at %llu", level,
             (unsigned long long)at);
    file = file_from(main_specs, N_MAIN, level, at, FROM_MEMORY, &fsize);
    check_view(file, fsize, at, main_specs, N_MAIN, level, 1, ctx);

    /* writing again, from memory or from files, gives the same bytes */
    for (how = FROM_MEMORY; how < HOW_COUNT; how++) {
        other = file_from(main_specs, N_MAIN, level, at, (enum how)how,
                          &osize);
        CHECKF(bytes_equal(file, fsize, other, osize), "%s: from %s", ctx,
               how_names[how]);
        free(other);
    }
    /* the bundle laid out for `at` is refused anywhere else */
    {
        size_t size = fsize - (size_t)at;
        uint8_t *moved = xmalloc(size + BUNDLE_PAGE);
        kl_err err;
        bundle_view v;

        memset(moved, 0, BUNDLE_PAGE);
        memcpy(moved + (at ? 0 : BUNDLE_PAGE), file + at, size);
        CHECKF(bundle_open(&v, moved, size + (at ? 0 : BUNDLE_PAGE), &err) < 0,
               "%s: bundle moved", ctx);
        free(moved);
    }
    free(file);
}

/* A bundle of modules only (no page-aligned payload at the end). */
static void test_modules_only(int level)
{
    uint8_t *file;
    size_t fsize;
    char ctx[48];

    snprintf(ctx, sizeof ctx, "modules only, level %d", level);
    file = file_from(module_specs, N_MODULE, level, BUNDLE_PAGE, FROM_FILE,
                     &fsize);
    check_view(file, fsize, BUNDLE_PAGE, module_specs, N_MODULE, level, 1, ctx);
    free(file);
}

/* Payloads larger than the writer's chunk, in every way they can arrive:
 * compressible, incompressible, and sizes on and around chunk and word
 * boundaries. */
static spec big_specs[] = {
    {BUNDLE_KIND_DATA, "big/text", "big/text", FILL_TEXT, 3500000, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "big/random", "big/random", FILL_RANDOM, 2500001, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "big/chunk", "big/chunk", FILL_TEXT, 1 << 20, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_DATA, "big/chunk+1", "big/chunk+1", FILL_RANDOM, (1 << 20) + 1, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_EXTENSION, "ext", "ext.so", FILL_TEXT, (1 << 21) - 3, FILL_NONE, 0, 0, 0},
    {BUNDLE_KIND_MODULE, "mod", "mod.py", FILL_TEXT, 1500000, FILL_TEXT, 1200000, 0, 0},
};
#define N_BIG (sizeof big_specs / sizeof big_specs[0])

static void test_big(int level)
{
    uint8_t *files[HOW_COUNT];
    size_t sizes[HOW_COUNT];
    char ctx[64];
    int how;

    for (how = FROM_MEMORY; how < HOW_COUNT; how++) {
        snprintf(ctx, sizeof ctx, "big payloads, level %d, from %s", level,
                 how_names[how]);
        files[how] = file_from(big_specs, N_BIG, level, BUNDLE_PAGE,
                               (enum how)how, &sizes[how]);
        check_view(files[how], sizes[how], BUNDLE_PAGE, big_specs, N_BIG,
                   level, 1, ctx);
        if (how > 0)
            CHECKF(bytes_equal(files[0], sizes[0], files[how], sizes[how]),
                   "%s: not the bytes written from memory", ctx);
    }
    for (how = FROM_MEMORY; how < HOW_COUNT; how++)
        free(files[how]);
}

/* Misuse of the writer is refused with a message. */
static void test_writer_args(void)
{
    bundle_writer *w = bundle_writer_new();
    kl_err err;
    int fd = memfd_with("", 0);

    err.msg[0] = 0;
    CHECK(bundle_writer_begin(w, fd, 100, &err) < 0 && err.msg[0] != 0);
    CHECK(bundle_writer_add(w, 0, "x", "x", &err) < 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_MAX + 1, "x", "x", &err) < 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_MODULE, "", "x.py", &err) < 0);
    /* entries come in bundle order */
    CHECK(bundle_writer_add(w, BUNDLE_KIND_MODULE, "b", "b.py", &err) == 0);
    err.msg[0] = 0;
    CHECK(bundle_writer_add(w, BUNDLE_KIND_MODULE, "a", "a.py", &err) < 0);
    CHECKF(strstr(err.msg, "order") != NULL, "%s", err.msg);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_DATA, "a", "a", &err) == 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_SHLIB, "z", "z", &err) < 0);
    bundle_writer_free(w);
    bundle_writer_free(NULL);
    close(fd);
}

/* A source that changes size while it is read is an error, not a bundle
 * with a wrong payload. */
static void test_short_source(void)
{
    bundle_writer *w = bundle_writer_new();
    bundle_source src;
    kl_err err;
    int out = memfd_with("", 0), in = memfd_with("12345", 5);

    CHECK(bundle_writer_add(w, BUNDLE_KIND_DATA, "d", "d", &err) == 0);
    CHECK(bundle_writer_begin(w, out, 0, &err) == 0);
    memset(&src, 0, sizeof src);
    src.fd = in;
    src.size = 10;
    err.msg[0] = 0;
    CHECK(bundle_writer_put(w, &src, NULL, &err) < 0);
    CHECKF(strstr(err.msg, "changed") != NULL, "%s", err.msg);
    bundle_writer_free(w);
    close(in);
    close(out);
}

static void test_duplicates(void)
{
    bundle_writer *w = bundle_writer_new();
    kl_err err;

    CHECK(bundle_writer_add(w, BUNDLE_KIND_MODULE, "shared", "shared.py",
                            &err) == 0);
    err.msg[0] = 0;
    CHECK(bundle_writer_add(w, BUNDLE_KIND_MODULE, "shared", "x.py", &err) < 0);
    CHECKF(strstr(err.msg, "twice") != NULL, "%s", err.msg);
    /* every kind of the module namespace collides */
    CHECK(bundle_writer_add(w, BUNDLE_KIND_PACKAGE, "shared",
                            "shared/__init__.py", &err) < 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_NAMESPACE, "shared", "shared",
                            &err) < 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_EXTENSION, "shared", "shared.so",
                            &err) < 0);
    /* other namespaces are separate */
    CHECK(bundle_writer_add(w, BUNDLE_KIND_SHLIB, "shared", "libs/shared",
                            &err) == 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_SHLIB, "shared", "other", &err) < 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_DATA, "shared", "shared", &err) == 0);
    CHECK(bundle_writer_add(w, BUNDLE_KIND_DATA, "shared", "other", &err) < 0);
    bundle_writer_free(w);
}

/* Write what w holds (entries without payloads) at `at` of a new file
 * whose first `at` bytes are zero; the whole file in a malloc'd buffer. */
static uint8_t *file_from_writer(bundle_writer *w, uint64_t at,
                                 size_t *fsize)
{
    uint8_t *zeros = calloc(1, (size_t)at + 1), *file;
    int fd = memfd_with(zeros, (size_t)at);
    kl_err err;

    free(zeros);
    err.msg[0] = 0;
    if (!CHECKF(bundle_writer_begin(w, fd, at, &err) == 0 &&
                    bundle_writer_finish(w, &err) == 0,
                "%s", err.msg))
        exit(2);
    file = fd_contents(fd, fsize);
    close(fd);
    return file;
}

static void test_empty(uint64_t at)
{
    bundle_writer *w = bundle_writer_new();
    uint8_t *file;
    size_t fsize;
    bundle_view v;
    kl_err err;

    file = file_from_writer(w, at, &fsize);
    err.msg[0] = 0;
    if (CHECKF(bundle_open(&v, file, fsize, &err) == 0, "empty at %llu: %s",
               (unsigned long long)at, err.msg)) {
        CHECK(v.header->entry_count == 0);
        CHECK(v.header->payload_size == 0);
        CHECK(bundle_find(&v, BUNDLE_NS_MODULE, "x", 1) == NULL);
        CHECK(bundle_find(&v, BUNDLE_NS_MODULE, "", 0) == NULL);
        CHECK(bundle_find(&v, BUNDLE_NS_FILE, "x", 1) == NULL);
        CHECK(strcmp(bundle_run_target(&v), "") == 0);
        CHECK(bundle_verify(&v, &err) == 0);
        CHECK((uint64_t)(v.payload - v.file) % BUNDLE_PAGE == 0);
    }
    free(file);
    bundle_writer_free(w);

    /* and with only a run target set */
    w = bundle_writer_new();
    CHECK(bundle_writer_set_run(w, BUNDLE_RUN_MODULE, "app", 0x030b07f0u,
                                &err) == 0);
    file = file_from_writer(w, at, &fsize);
    if (CHECK(bundle_open(&v, file, fsize, &err) == 0)) {
        CHECK(strcmp(bundle_run_target(&v), "app") == 0);
        CHECK(v.header->run_mode == BUNDLE_RUN_MODULE);
        CHECK(v.header->python_hex == 0x030b07f0u);
    }
    free(file);
    bundle_writer_free(w);
}

#define N_MANY 5000

static unsigned many_kind(unsigned i)
{
    static const unsigned kinds[] = {
        BUNDLE_KIND_MODULE, BUNDLE_KIND_PACKAGE, BUNDLE_KIND_MODULE,
        BUNDLE_KIND_NAMESPACE, BUNDLE_KIND_MODULE, BUNDLE_KIND_MODULE,
        BUNDLE_KIND_EXTENSION, BUNDLE_KIND_SHLIB, BUNDLE_KIND_DATA,
    };

    if (i % 25 == 24)
        return kinds[6 + (i / 25) % 3]; /* the page-aligned kinds, sparsely */
    return kinds[i % 6];
}

static void many_name(unsigned i, char *buf, size_t n)
{
    /* mixed shapes, all distinct (the multiplier is odd) */
    switch (i % 4) {
    case 0: snprintf(buf, n, "pkg%u.mod%u", i % 97, i); break;
    case 1: snprintf(buf, n, "m%05u", i); break;
    case 2: snprintf(buf, n, "a.b.c.d.e.%u", i); break;
    default: snprintf(buf, n, "x%u", i * 2654435761u); break;
    }
}

static char many_names[N_MANY][64];

static int many_cmp(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return bundle_entry_order(many_kind(x), many_names[x], many_kind(y),
                              many_names[y]);
}

/* A bundle of N_MANY entries named many_name(i), each entry's data its
 * own name (malloc'd file, size in *fsize). */
static uint8_t *many_file(size_t *fsize)
{
    bundle_writer *w = bundle_writer_new();
    uint8_t *file;
    kl_err err;
    unsigned i, order[N_MANY];
    int fd = memfd_with("", 0);

    for (i = 0; i < N_MANY; i++) {
        many_name(i, many_names[i], sizeof many_names[i]);
        order[i] = i;
    }
    qsort(order, N_MANY, sizeof order[0], many_cmp);
    for (i = 0; i < N_MANY; i++) {
        unsigned k = order[i];

        err.msg[0] = 0;
        if (!CHECKF(bundle_writer_add(w, many_kind(k), many_names[k],
                                      many_names[k], &err) == 0,
                    "%s: %s", many_names[k], err.msg))
            break;
    }
    CHECK(bundle_writer_begin(w, fd, 0, &err) == 0);
    for (i = 0; i < N_MANY; i++) {
        unsigned k = order[i];
        bundle_source src = {many_names[k], -1,
                             many_kind(k) == BUNDLE_KIND_NAMESPACE
                                 ? 0 : strlen(many_names[k]),
                             NULL, 0, k % 2 ? 3 : 0, NULL, 0};

        if (!CHECKF(bundle_writer_put(w, &src, NULL, &err) == 0, "%s: %s",
                    many_names[k], err.msg))
            break;
    }
    CHECKF(bundle_writer_finish(w, &err) == 0, "%s", err.msg);
    file = fd_contents(fd, fsize);
    close(fd);
    bundle_writer_free(w);
    return file;
}

/* Look every name of the many bundle up in v: how many lookups found the
 * right entry (its kind and name; with data, its data too). */
static unsigned many_right(const bundle_view *v, int data)
{
    unsigned i, right = 0;
    char name[64];
    kl_err err;

    for (i = 0; i < N_MANY; i++) {
        unsigned kind = many_kind(i);
        const bundle_entry *e;

        many_name(i, name, sizeof name);
        e = bundle_find(v, bundle_kind_ns(kind), name, strlen(name));
        if (e != NULL && e->kind == kind &&
            strcmp(bundle_entry_name(v, e), name) == 0) {
            const uint8_t *p;
            size_t n;
            uint8_t *owned;

            if (!data ||
                (bundle_read(v, e, BUNDLE_PART_DATA, &p, &n, &owned, &err) ==
                     0 &&
                 bytes_equal(p, n, (const uint8_t *)name,
                             kind == BUNDLE_KIND_NAMESPACE ? 0
                                                           : strlen(name))))
                right++;
        }
    }
    return right;
}

static void test_many(void)
{
    uint8_t *file;
    size_t fsize;
    bundle_view v;
    kl_err err;
    unsigned i;
    char name[64];
    unsigned found = 0, right = 0, missed = 0;

    file = many_file(&fsize);
    if (!CHECKF(bundle_open(&v, file, fsize, &err) == 0, "%s", err.msg))
        goto out;
    CHECK(v.header->entry_count == N_MANY);
    CHECK(v.header->hash_slots >= 2 * N_MANY);
    for (i = 0; i < N_MANY; i++) {
        unsigned kind = many_kind(i);
        enum bundle_ns ns = bundle_kind_ns(kind);
        const bundle_entry *e;
        int other;

        many_name(i, name, sizeof name);
        e = bundle_find(&v, ns, name, strlen(name));
        if (e) {
            const uint8_t *p;
            size_t n;
            uint8_t *owned;

            found++;
            if (e->kind == kind &&
                strcmp(bundle_entry_name(&v, e), name) == 0 &&
                bundle_read(&v, e, BUNDLE_PART_DATA, &p, &n, &owned, &err) ==
                    0 &&
                bytes_equal(p, n, (const uint8_t *)name,
                            kind == BUNDLE_KIND_NAMESPACE ? 0 : strlen(name)))
                right++;
            else
                CHECKF(0, "many: wrong entry for %s", name);
        } else {
            CHECKF(0, "many: %s not found", name);
        }
        for (other = BUNDLE_NS_MODULE; other <= BUNDLE_NS_FILE; other++)
            if (other != (int)ns &&
                bundle_find(&v, (enum bundle_ns)other, name, strlen(name)))
                CHECKF(0, "many: %s found in namespace %d", name, other);
    }
    CHECK(found == N_MANY && right == N_MANY);
    for (i = N_MANY; i < 3 * N_MANY; i++) {
        int ns;

        many_name(i, name, sizeof name);
        for (ns = BUNDLE_NS_MODULE; ns <= BUNDLE_NS_FILE; ns++)
            if (bundle_find(&v, (enum bundle_ns)ns, name, strlen(name)) == NULL)
                missed++;
            else
                CHECKF(0, "many: absent %s found", name);
    }
    CHECK(missed == 3 * 2 * N_MANY);
    err.msg[0] = 0;
    CHECKF(bundle_verify(&v, &err) == 0, "%s", err.msg);
out:
    free(file);
}

/* A lazily opened view: lookups answer as bundle_open's do, reading only
 * checked pages; a byte changed anywhere in a page of the index is either
 * refused at open, or reported by bundle_damage() when a lookup reads its
 * page, or changes no answer; bundle_check_index then finds it in any
 * case. Never a wrong entry. */
static void test_lazy(void)
{
    size_t fsize, page, k;
    uint8_t *file = many_file(&fsize);
    bundle_view v;
    kl_err err;
    uint64_t at, pages, end;
    unsigned refused = 0, caught = 0, unseen = 0;

    err.msg[0] = 0;
    if (!CHECKF(bundle_open_lazy(&v, file, fsize, &err) == 0, "%s", err.msg))
        goto out;
    CHECK(v.lazy != NULL && v.header->pagesum_off > 0);
    CHECK(many_right(&v, 1) == N_MANY);
    CHECK(bundle_damage(&v) == NULL);
    CHECKF(bundle_check_index(&v, &err) == 0, "%s", err.msg);
    at = v.trailer.bundle_offset;
    end = v.header->pagesum_off;
    pages = bundle_pagesum_count(end);
    CHECK(pages > 100);
    bundle_close(&v);

    for (page = 0; page < pages; page++) {
        static const size_t where[] = {0, 9, 2048, 4095};

        for (k = 0; k < sizeof where / sizeof where[0]; k++) {
            size_t off = at + page * BUNDLE_PAGE + where[k];
            unsigned right;

            if (off >= at + end)
                continue;
            file[off] ^= 0x10;
            err.msg[0] = 0;
            if (bundle_open_lazy(&v, file, fsize, &err) < 0) {
                CHECKF(strstr(err.msg, "damaged") != NULL, "%s", err.msg);
                refused++;
            } else {
                right = many_right(&v, 0);
                if (bundle_damage(&v) != NULL)
                    caught++;
                else if (CHECKF(right == N_MANY,
                                "lazy: byte %zu changed %u answers unseen",
                                off - at, N_MANY - right))
                    unseen++;
                CHECKF(bundle_check_index(&v, &err) < 0,
                       "lazy: byte %zu not found by the whole check",
                       off - at);
                bundle_close(&v);
            }
            file[off] ^= 0x10;
        }
    }
    CHECK(refused > 0 && caught > 0);
    printf("lazy: %u refused at open, %u found by lookups, %u changed no "
           "answer\n", refused, caught, unseen);
out:
    free(file);
}

/* ---- corruption --------------------------------------------------------- */

/* The expected content of small_specs, checked after a corruption that
 * bundle_open accepted: every part reads back exactly, except the part that
 * holds the changed byte (payload-relative offset payload_changed, or
 * UINT64_MAX for none), whose read must fail. */
static void check_damaged(const bundle_view *v, uint64_t payload_changed,
                          const char *ctx, size_t off)
{
    size_t i;

    for (i = 0; i < N_SMALL; i++) {
        const spec *sp = &small_specs[i];
        const bundle_entry *e = bundle_find(v, bundle_kind_ns(sp->kind),
                                            sp->name, strlen(sp->name));
        int part;

        if (!CHECKF(e != NULL && e->kind == sp->kind,
                    "%s: offset %zu: open accepted a damaged index (%s)", ctx,
                    off, sp->name))
            continue;
        for (part = BUNDLE_PART_DATA; part <= BUNDLE_PART_AUX; part++) {
            const uint8_t *want = part ? sp->aux : sp->data;
            size_t want_n = part ? sp->asize : sp->dsize;
            uint64_t poff = part ? e->aux_off : e->data_off;
            uint64_t psize = part ? e->aux_size : e->data_size;
            int inside = payload_changed >= poff &&
                         payload_changed < poff + psize;
            const uint8_t *d;
            size_t n;
            uint8_t *owned;
            kl_err err;
            int rc = bundle_read(v, e, (enum bundle_part)part, &d, &n, &owned,
                                 &err);

            if (rc == 0) {
                CHECKF(!inside, "%s: offset %zu: damaged %s part %d read "
                       "without error", ctx, off, sp->name, part);
                CHECKF(bytes_equal(d, n, want, want_n),
                       "%s: offset %zu: %s part %d: wrong data", ctx, off,
                       sp->name, part);
                free(owned);
            } else {
                CHECKF(inside, "%s: offset %zu: undamaged %s part %d fails",
                       ctx, off, sp->name, part);
                CHECKF(owned == NULL, "%s", ctx);
            }
        }
    }
}

static uint8_t *small_file(int level, uint64_t at, size_t *fsize)
{
    return file_from(small_specs, N_SMALL, level, at, FROM_MEMORY, fsize);
}

static void test_truncation(int level)
{
    size_t fsize, len;
    uint8_t *file = small_file(level, BUNDLE_PAGE, &fsize);
    unsigned long bad = 0;

    check_view(file, fsize, BUNDLE_PAGE, small_specs, N_SMALL, level, 1,
               "small");
    for (len = 0; len < fsize; len++) {
        uint8_t *cut = xdup(file, len);
        bundle_view v;
        kl_err err;

        err.msg[0] = 0;
        if (bundle_open(&v, cut, len, &err) == 0 || err.msg[0] == 0) {
            bad++;
            CHECKF(0, "level %d: file cut to %zu of %zu bytes accepted", level,
                   len, fsize);
        }
        free(cut);
    }
    CHECKF(bad == 0, "level %d: %lu truncations accepted", level, bad);

    /* cut from the middle, trailer kept: payload end, and the stub */
    {
        static const size_t cuts[] = {1, 7, 8, 16, 100, 4096};
        size_t k;

        for (k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
            size_t c = cuts[k];
            uint8_t *f2;
            bundle_view v;
            kl_err err;

            if (c + sizeof(bundle_trailer) > fsize - BUNDLE_PAGE)
                continue;
            f2 = xmalloc(fsize - c);
            memcpy(f2, file, fsize - sizeof(bundle_trailer) - c);
            memcpy(f2 + fsize - sizeof(bundle_trailer) - c,
                   file + fsize - sizeof(bundle_trailer),
                   sizeof(bundle_trailer));
            CHECKF(bundle_open(&v, f2, fsize - c, &err) < 0,
                   "%zu bytes cut before the trailer", c);
            memcpy(f2, file + c, fsize - c);
            CHECKF(bundle_open(&v, f2, fsize - c, &err) < 0,
                   "%zu bytes cut from the stub", c);
            free(f2);
        }
    }
    /* junk appended after the trailer */
    {
        uint8_t *f2 = xmalloc(fsize + 8);

        memcpy(f2, file, fsize);
        memset(f2 + fsize, 0, 8);
        {
            bundle_view v;
            kl_err err;

            CHECK(bundle_open(&v, f2, fsize + 8, &err) < 0);
        }
        free(f2);
    }
    free(file);
}

static void test_flips(int level)
{
    static const uint8_t masks[] = {0xff, 0x01, 0x80};
    const uint64_t at = BUNDLE_PAGE;
    size_t fsize, off;
    uint8_t *file = small_file(level, at, &fsize);
    bundle_view v0;
    kl_err err;
    uint64_t payload_start;
    unsigned long rejected = 0, verify_caught = 0, accepted_stub = 0;
    char ctx[48];

    if (!CHECK(bundle_open(&v0, file, fsize, &err) == 0))
        goto out;
    payload_start = at + v0.header->payload_off;

    /* every byte of the bundle and its trailer */
    for (off = at; off < fsize; off++) {
        size_t k;

        for (k = 0; k < sizeof masks; k++) {
            bundle_view v;
            uint64_t pchanged = UINT64_MAX;

            snprintf(ctx, sizeof ctx, "flip level %d mask %#x", level,
                     masks[k]);
            file[off] ^= masks[k];
            err.msg[0] = 0;
            if (bundle_open(&v, file, fsize, &err) < 0) {
                CHECKF(err.msg[0] != 0, "%s: offset %zu: no message", ctx, off);
                rejected++;
            } else {
                /* only payload bytes and the bundle checksum are outside
                 * the index checksum */
                size_t tr = fsize - sizeof(bundle_trailer);
                size_t ck = tr + offsetof(bundle_trailer, bundle_checksum);

                CHECKF((off >= payload_start && off < tr) ||
                           (off >= ck && off < ck + 8),
                       "%s: offset %zu (index or trailer) accepted by open",
                       ctx, off);
                if (off >= payload_start && off < fsize - 48)
                    pchanged = off - payload_start;
                check_damaged(&v, pchanged, ctx, off);
                err.msg[0] = 0;
                if (CHECKF(bundle_verify(&v, &err) < 0,
                           "%s: offset %zu: verify missed the damage", ctx,
                           off))
                    verify_caught++;
                CHECKF(err.msg[0] != 0, "%s", ctx);
            }
            file[off] ^= masks[k];
        }
    }
    /* the stub is no part of the bundle: damage there changes nothing */
    for (off = 0; off < at; off += 61) {
        bundle_view v;

        file[off] ^= 0xff;
        if (CHECKF(bundle_open(&v, file, fsize, &err) == 0, "stub offset %zu",
                   off)) {
            check_damaged(&v, UINT64_MAX, "stub", off);
            CHECKF(bundle_verify(&v, &err) == 0, "stub offset %zu", off);
            accepted_stub++;
        }
        file[off] ^= 0xff;
    }
    CHECK(rejected + verify_caught == (fsize - at) * sizeof masks);
    CHECK(rejected > 0 && verify_caught > 0);
    CHECK(accepted_stub > 0);
    {
        bundle_view v;

        CHECK(bundle_open(&v, file, fsize, &err) == 0 &&
              bundle_verify(&v, &err) == 0);
    }
out:
    free(file);
}

/* ---- hand-crafted hostile bundles --------------------------------------- */

typedef struct img {
    uint8_t *f;
    size_t size;
    uint64_t at;
    bundle_header *h;
    bundle_entry *e;   /* the entry table as originally laid out */
    uint32_t *slots;
    char *strings;
    bundle_trailer t;
} img;

static const uint8_t *hostile_base;
static size_t hostile_size;

static void img_load(img *m)
{
    m->size = hostile_size;
    m->at = BUNDLE_PAGE;
    m->f = xdup(hostile_base, hostile_size);
    m->h = (bundle_header *)(m->f + m->at);
    m->e = (bundle_entry *)(m->f + m->at + m->h->entries_off);
    m->slots = (uint32_t *)(m->f + m->at + m->h->hash_off);
    m->strings = (char *)(m->f + m->at + m->h->strings_off);
    get_trailer(m->f, m->size, &m->t);
}

/* Write the trailer back; with fix, recompute the index checksum over the
 * (possibly changed) payload_off when that still lies in the file. */
static void img_commit(img *m, int fix)
{
    if (fix && m->h->payload_off <= m->size - sizeof m->t - m->at)
        m->t.index_checksum =
            kl_checksum(KL_CHECKSUM_SEED, m->f + m->at, m->h->payload_off);
    put_trailer(m->f, m->size, &m->t);
}

static void hostile_expect(img *m, int accept, const char *what,
                           const char *file, int line)
{
    bundle_view v;
    kl_err err;
    int rc;

    err.msg[0] = 0;
    rc = bundle_open(&v, m->f, m->size, &err);
    if (accept) {
        check_at(rc == 0, file, line, "open", "hostile bundle refused: %s: %s", what,
                 err.msg);
        return;
    }
    if (!check_at(rc < 0, file, line, "open fails", "hostile bundle accepted: %s", what))
        return;
    check_at(err.msg[0] != 0, file, line, "message", "no message: %s", what);
    /* the checksum was recomputed: refusal must come from a bounds check */
    check_at(strstr(err.msg, "checksum") == NULL, file, line,
             "bounds check", "refused only by the checksum (%s): %s", err.msg, what);
}

/* HOSTILE(fix, statements using `m`): a copy of the hostile base with the
 * statements applied must be refused by bundle_open. */
#define HOSTILE(fix, ...)                                                      \
    do {                                                                       \
        img m_;                                                                \
        img_load(&m_);                                                         \
        {                                                                      \
            img *m = &m_;                                                      \
            __VA_ARGS__;                                                       \
        }                                                                      \
        img_commit(&m_, fix);                                                  \
        hostile_expect(&m_, 0, #__VA_ARGS__, __FILE__, __LINE__);              \
        free(m_.f);                                                            \
    } while (0)

/* Entry index of a small_specs name in the hostile base. */
static uint32_t hostile_index(const char *name, unsigned kind)
{
    bundle_view v;
    kl_err err;
    const bundle_entry *e;

    if (bundle_open(&v, hostile_base, hostile_size, &err) < 0)
        return 0;
    e = bundle_find(&v, bundle_kind_ns(kind), name, strlen(name));
    return e ? (uint32_t)(e - v.entries) : 0;
}

/* Accepted by open (all bounds fine) but the named part must not read. */
static void hostile_read_fails(img *m, uint32_t idx, enum bundle_part part,
                               const char *what, int line)
{
    bundle_view v;
    kl_err err;
    const uint8_t *d;
    size_t n;
    uint8_t *owned;

    img_commit(m, 1);
    err.msg[0] = 0;
    if (!check_at(bundle_open(&v, m->f, m->size, &err) == 0, __FILE__, line,
                  "open", "refused: %s: %s", what, err.msg))
        return;
    check_at(bundle_read(&v, &v.entries[idx], part, &d, &n, &owned, &err) < 0,
             __FILE__, line, "read fails", "read succeeded: %s", what);
    check_at(owned == NULL, __FILE__, line, "owned == NULL", "%s", what);
    check_at(bundle_verify(&v, &err) < 0, __FILE__, line,
             "verify fails", "verify succeeded: %s", what);
}

#define READ_FAILS(idx, part, ...)                                             \
    do {                                                                       \
        img m_;                                                                \
        img_load(&m_);                                                         \
        {                                                                      \
            img *m = &m_;                                                      \
            __VA_ARGS__;                                                       \
        }                                                                      \
        hostile_read_fails(&m_, idx, part, #__VA_ARGS__, __LINE__);            \
        free(m_.f);                                                            \
    } while (0)

/* Accepted by open, but the compressed data part of entry idx has a raw
 * size its zstd frame cannot fill: reading it must say the bundle is
 * damaged (size mismatch), and say so before a buffer of that size is
 * asked for: under a data limit of 1 GiB, where asking would fail with
 * "out of memory". */
static void hostile_size_damaged(img *m, uint32_t idx, const char *what,
                                 int line)
{
    bundle_view v;
    kl_err err;
    const uint8_t *d;
    size_t n;
    uint8_t *owned = NULL;
    struct rlimit old, low;
    int rc;

    img_commit(m, 1);
    err.msg[0] = 0;
    if (!check_at(bundle_open(&v, m->f, m->size, &err) == 0, __FILE__, line,
                  "open", "refused: %s: %s", what, err.msg) ||
        !check_at(getrlimit(RLIMIT_DATA, &old) == 0, __FILE__, line,
                  "getrlimit", "%s", what))
        return;
    low = old;
    if (low.rlim_cur == RLIM_INFINITY || low.rlim_cur > (rlim_t)1 << 30)
        low.rlim_cur = (rlim_t)1 << 30;
    setrlimit(RLIMIT_DATA, &low);
    rc = bundle_read(&v, &v.entries[idx], BUNDLE_PART_DATA, &d, &n, &owned,
                     &err);
    setrlimit(RLIMIT_DATA, &old);
    check_at(rc < 0 && strstr(err.msg, "damaged (size mismatch)") != NULL,
             __FILE__, line, "size mismatch", "%s: %s", what,
             rc < 0 ? err.msg : "read succeeded");
    free(owned);
}

/* A zstd frame that says it holds 2^33 bytes but holds one block of one
 * byte: magic, a header with an 8-byte content size, a last RLE block. */
static const uint8_t claims_8g[] = {
    0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x00, 0, 0, 0, 0, 0x02, 0, 0, 0,
    0x0b, 0x00, 0x00, 'x'};

static void test_hostile(void)
{
    size_t fsize;
    uint8_t *file = small_file(3, BUNDLE_PAGE, &fsize);
    const uint64_t M64 = UINT64_MAX;
    const uint32_t M32 = UINT32_MAX;
    uint32_t ia, ip, id, in;

    hostile_base = file;
    hostile_size = fsize;
    ia = hostile_index("a", BUNDLE_KIND_MODULE);
    ip = hostile_index("p", BUNDLE_KIND_PACKAGE);
    id = hostile_index("d.txt", BUNDLE_KIND_DATA);
    in = hostile_index("n", BUNDLE_KIND_NAMESPACE);

    /* control: the recomputed checksum is right, so an untouched copy (and
     * a harmless change to a reserved header word) still opens */
    {
        img m;

        img_load(&m);
        img_commit(&m, 1);
        hostile_expect(&m, 1, "no change", __FILE__, __LINE__);
        m.h->flags = 7;
        img_commit(&m, 1);
        hostile_expect(&m, 1, "reserved word", __FILE__, __LINE__);
        m.h->flags = 7;
        img_commit(&m, 0);
        m.h->flags = 8;
        {
            bundle_view v;
            kl_err err;

            err.msg[0] = 0;
            CHECK(bundle_open(&v, m.f, m.size, &err) < 0 &&
                  strstr(err.msg, "checksum") != NULL);
        }
        free(m.f);
    }
    CHECK(small_specs[0].kind == BUNDLE_KIND_MODULE);

    /* trailer (not covered by the index checksum) */
    HOSTILE(0, m->t.bundle_offset = M64 & ~(uint64_t)(BUNDLE_PAGE - 1));
    HOSTILE(0, m->t.bundle_offset = 0 - (uint64_t)BUNDLE_PAGE,
            m->t.bundle_size += 2 * BUNDLE_PAGE); /* offset + size wraps */
    HOSTILE(0, m->t.bundle_offset = 0 - (uint64_t)BUNDLE_PAGE,
            m->t.bundle_size = m->size - 48 + BUNDLE_PAGE);
    HOSTILE(0, m->t.bundle_size = M64);
    HOSTILE(0, m->t.bundle_size = M64 - BUNDLE_PAGE + 1);
    HOSTILE(0, m->t.bundle_size = 0);
    HOSTILE(0, m->t.bundle_size = 64, m->t.bundle_offset = m->size - 48 - 64);
    HOSTILE(0, m->t.bundle_offset = 8, m->t.bundle_size = m->size - 48 - 8);
    HOSTILE(0, m->t.bundle_offset = 0, m->t.bundle_size = m->size - 48);
    HOSTILE(0, m->t.bundle_offset += BUNDLE_PAGE,
            m->t.bundle_size -= BUNDLE_PAGE);
    HOSTILE(0, m->t.version = 0);
    HOSTILE(0, m->t.version = 2);
    HOSTILE(0, m->t.version = M32);
    HOSTILE(0, m->t.trailer_size = 0);
    HOSTILE(0, m->t.trailer_size = 47);
    HOSTILE(0, m->t.trailer_size = M32);
    HOSTILE(0, m->t.magic[7] = 'X');

    /* header */
    HOSTILE(1, m->h->magic[0] = 'k');
    HOSTILE(1, m->h->version = 0);
    HOSTILE(1, m->h->version = M32);
    HOSTILE(1, m->h->header_size = 0);
    HOSTILE(1, m->h->header_size = 127);
    HOSTILE(1, m->h->header_size = M32);
    HOSTILE(1, m->h->entry_count = M32);
    HOSTILE(1, m->h->entry_count = 0x80000000u, m->h->hash_slots = 0x80000000u);
    HOSTILE(1, m->h->entry_count = m->h->hash_slots + 1);
    HOSTILE(1, m->h->hash_slots = 0);
    HOSTILE(1, m->h->hash_slots = 3);
    HOSTILE(1, m->h->hash_slots = M32);
    HOSTILE(1, m->h->hash_slots = 0x80000000u);
    HOSTILE(1, m->h->hash_slots = 0x40000000u);
    HOSTILE(1, m->h->entries_off = M64 - 7);
    HOSTILE(1, m->h->entries_off = M64 & ~(uint64_t)7);
    HOSTILE(1, m->h->entries_off = (uint64_t)1 << 63);
    HOSTILE(1, m->h->entries_off = 0 - (uint64_t)N_SMALL * 88);  /* wraps to 0 */
    HOSTILE(1, m->h->entries_off = 4);
    HOSTILE(1, m->h->entries_off = m->h->payload_off - 8);
    HOSTILE(1, m->h->entries_off = m->h->payload_off);
    HOSTILE(1, m->h->hash_off = M64 - 3);
    HOSTILE(1, m->h->hash_off = 0 - (uint64_t)m->h->hash_slots * 4);
    HOSTILE(1, m->h->hash_off = 2);
    HOSTILE(1, m->h->hash_off = m->h->payload_off - 4);
    HOSTILE(1, m->h->strings_off = M64);
    HOSTILE(1, m->h->strings_off = 0 - m->h->strings_size);  /* wraps to 0 */
    HOSTILE(1, m->h->strings_off = m->h->payload_off);
    HOSTILE(1, m->h->strings_off = m->h->payload_off - m->h->strings_size + 1);
    HOSTILE(1, m->h->strings_size = M64);
    HOSTILE(1, m->h->strings_size = 0);
    HOSTILE(1, m->h->strings_size = 0 - m->h->strings_off);  /* wraps to 0 */
    HOSTILE(1, m->h->strings_size -= 1); /* unterminated */
    HOSTILE(1, m->h->payload_off = M64 & ~(uint64_t)(BUNDLE_PAGE - 1));
    HOSTILE(1, m->h->payload_off = 0);
    HOSTILE(1, m->h->payload_off = 8);
    HOSTILE(1, m->h->payload_off -= 8);
    HOSTILE(1, m->h->payload_off += BUNDLE_PAGE);
    HOSTILE(1, m->h->payload_off = 0 - (uint64_t)BUNDLE_PAGE);
    HOSTILE(1, m->h->payload_size = M64);
    HOSTILE(1, m->h->payload_size += 1);
    HOSTILE(1, m->h->payload_size = 0 - m->h->payload_off);  /* wraps to 0 */
    HOSTILE(1, m->h->payload_size = 0 - m->h->payload_off + 1);
    HOSTILE(1, m->h->run_target_off = M32, m->h->run_target_len = 1);
    HOSTILE(1, m->h->run_target_len = M32);
    HOSTILE(1, m->h->run_target_off = M32 - 1, m->h->run_target_len = 1);
    HOSTILE(1, m->h->run_target_off = (uint32_t)m->h->strings_size - 1,
            m->h->run_target_len = 1);
    HOSTILE(1, m->h->run_target_len = (uint32_t)m->h->strings_size);
    HOSTILE(1, m->h->options_off = M32, m->h->options_len = 1);
    HOSTILE(1, m->h->options_len = M32);
    HOSTILE(1, m->h->options_off = (uint32_t)m->h->strings_size - 1,
            m->h->options_len = 1);
    /* a string, but not lines: its last byte is no '\n' */
    HOSTILE(1, m->h->options_off = m->h->run_target_off,
            m->h->options_len = m->h->run_target_len);

    /* entries */
    HOSTILE(1, m->e[ia].kind = 0);
    HOSTILE(1, m->e[ia].kind = BUNDLE_KIND_MAX + 1);
    HOSTILE(1, m->e[ia].kind = 255);
    HOSTILE(1, m->e[ia].name_off = M32);
    HOSTILE(1, m->e[ia].name_len = M32);
    HOSTILE(1, m->e[ia].name_off = M32, m->e[ia].name_len = 1); /* u32 wrap */
    HOSTILE(1, m->e[ia].name_off = M32, m->e[ia].name_len = M32);
    HOSTILE(1, m->e[ia].name_off = 1, m->e[ia].name_len = M32);
    HOSTILE(1, m->e[ia].name_off = (uint32_t)m->h->strings_size);
    HOSTILE(1, m->e[ia].name_off = (uint32_t)m->h->strings_size - 1,
            m->e[ia].name_len = 1);
    HOSTILE(1, m->e[ia].name_len += 1); /* no NUL at the end */
    HOSTILE(1, m->e[ia].path_off = M32);
    HOSTILE(1, m->e[ia].path_len = M32);
    HOSTILE(1, m->e[ia].path_off = M32, m->e[ia].path_len = 1);
    HOSTILE(1, m->e[ia].path_off = 2, m->e[ia].path_len = M32 - 1);
    HOSTILE(1, m->e[ia].path_len -= 1);
    HOSTILE(1, m->e[ia].data_off = M64);
    HOSTILE(1, m->e[ia].data_off = M64, m->e[ia].data_size = 1);
    HOSTILE(1, m->e[ia].data_off = 1, m->e[ia].data_size = M64);
    HOSTILE(1, m->e[ia].data_off = 0 - m->e[ia].data_size); /* wraps to 0 */
    HOSTILE(1, m->e[ia].data_off = 16,
            m->e[ia].data_size = 0 - (uint64_t)16 + 1); /* wraps to 1 */
    HOSTILE(1, m->e[ia].data_off = m->h->payload_size,
            m->e[ia].data_size = 1);
    HOSTILE(1, m->e[ia].data_size = m->h->payload_size + 1);
    HOSTILE(1, m->e[ia].data_raw_size = M64);
    HOSTILE(1, m->e[ia].data_raw_size = ((uint64_t)1 << 34) + 1);
    HOSTILE(1, m->e[ia].aux_off = M64);
    HOSTILE(1, m->e[ia].aux_off = M64, m->e[ia].aux_size = 1);
    HOSTILE(1, m->e[ia].aux_off = 1, m->e[ia].aux_size = M64);
    HOSTILE(1, m->e[ia].aux_off = 0 - m->e[ia].aux_size);
    HOSTILE(1, m->e[ia].aux_off = m->h->payload_size, m->e[ia].aux_size = 1);
    HOSTILE(1, m->e[ia].aux_raw_size = M64);
    HOSTILE(1, m->e[in].data_off = M64); /* an entry with no payload */
    HOSTILE(1, m->e[in].aux_off = m->h->payload_size + 1);
    HOSTILE(1, m->e[id].data_off = M64 & ~(uint64_t)(BUNDLE_PAGE - 1));
    HOSTILE(1, m->e[ip].kind = 0, m->e[ip].data_size = M64);

    /* hash slots */
    HOSTILE(1, m->slots[0] = m->h->entry_count + 1);
    HOSTILE(1, m->slots[m->h->hash_slots - 1] = M32);
    HOSTILE(1, m->slots[3] = 0x80000000u);

    /* accepted by bundle_open (bounds are fine), but reading must fail */
    READ_FAILS(ia, BUNDLE_PART_DATA, m->e[ia].data_check ^= 1);
    READ_FAILS(ia, BUNDLE_PART_AUX, m->e[ia].aux_check ^= 1);
    READ_FAILS(ia, BUNDLE_PART_DATA, m->e[ia].data_raw_size += 1);
    READ_FAILS(ia, BUNDLE_PART_DATA, m->e[ia].data_raw_size -= 1);
    READ_FAILS(ia, BUNDLE_PART_DATA, m->e[ia].data_raw_size = 0);
    READ_FAILS(ia, BUNDLE_PART_DATA, m->e[ia].data_raw_size *= 1000);
    READ_FAILS(ia, BUNDLE_PART_DATA, m->e[ia].flags &= ~BUNDLE_FLAG_DATA_ZSTD);
    READ_FAILS(ip, BUNDLE_PART_DATA, m->e[ip].flags |= BUNDLE_FLAG_DATA_ZSTD);
    READ_FAILS(ip, BUNDLE_PART_DATA, m->e[ip].data_raw_size += 1);
    READ_FAILS(in, BUNDLE_PART_AUX, m->e[in].aux_raw_size = 5);
    READ_FAILS(id, BUNDLE_PART_DATA, m->e[id].data_size -= 1);
    READ_FAILS(ia, BUNDLE_PART_DATA,
               m->e[ia].data_size -= 1,
               m->e[ia].data_check = kl_checksum(
                   KL_CHECKSUM_SEED,
                   m->f + m->at + m->h->payload_off + m->e[ia].data_off,
                   m->e[ia].data_size)); /* truncated zstd frame */

    /* raw sizes a frame cannot fill: one it does not record, and one it
     * records but is far too short to hold */
    {
        img m;

        img_load(&m);
        m.e[ia].data_raw_size = (uint64_t)1 << 34;
        hostile_size_damaged(&m, ia, "raw size 2^34", __LINE__);
        free(m.f);
        img_load(&m);
        CHECK(m.e[ia].data_size >= sizeof claims_8g);
        memcpy(m.f + m.at + m.h->payload_off + m.e[ia].data_off, claims_8g,
               sizeof claims_8g);
        m.e[ia].data_size = sizeof claims_8g;
        m.e[ia].data_raw_size = (uint64_t)1 << 33;
        m.e[ia].data_check = kl_checksum(KL_CHECKSUM_SEED, claims_8g,
                                         sizeof claims_8g);
        hostile_size_damaged(&m, ia, "a frame that claims 8 GiB", __LINE__);
        free(m.f);
    }

    /* an empty part flagged as compressed still reads as empty */
    {
        img m;
        bundle_view v;
        kl_err err;
        const uint8_t *d;
        size_t n = 1;
        uint8_t *owned;

        img_load(&m);
        m.e[in].flags |= BUNDLE_FLAG_DATA_ZSTD | BUNDLE_FLAG_AUX_ZSTD;
        img_commit(&m, 1);
        if (CHECK(bundle_open(&v, m.f, m.size, &err) == 0)) {
            int part;

            for (part = BUNDLE_PART_DATA; part <= BUNDLE_PART_AUX; part++) {
                if (bundle_read(&v, &v.entries[in], (enum bundle_part)part, &d,
                                &n, &owned, &err) == 0) {
                    CHECK(n == 0);
                    free(owned);
                }
            }
        }
        free(m.f);
    }

    /* accepted hash tables that are full or point at the wrong entries:
     * lookups end, and never return an entry of another name */
    {
        static const int fills[] = {1, 2, -1};
        size_t k;

        for (k = 0; k < sizeof fills / sizeof fills[0]; k++) {
            img m;
            bundle_view v;
            kl_err err;
            uint32_t s;

            img_load(&m);
            for (s = 0; s < m.h->hash_slots; s++)
                m.slots[s] = fills[k] > 0 ? (uint32_t)fills[k]
                                          : s % m.h->entry_count + 1;
            img_commit(&m, 1);
            if (CHECK(bundle_open(&v, m.f, m.size, &err) == 0)) {
                size_t i;

                for (i = 0; i < N_SMALL; i++) {
                    const spec *sp = &small_specs[i];
                    const bundle_entry *e = bundle_find(
                        &v, bundle_kind_ns(sp->kind), sp->name,
                        strlen(sp->name));

                    CHECKF(e == NULL ||
                               strcmp(bundle_entry_name(&v, e), sp->name) == 0,
                           "full table fill %d: %s", fills[k], sp->name);
                }
                CHECK(bundle_find(&v, BUNDLE_NS_MODULE, "absent", 6) == NULL);
                CHECK(bundle_find(&v, BUNDLE_NS_FILE, "", 0) == NULL);
            }
            free(m.f);
        }
    }

    /* every byte of a compressed part changed, with its checksum (and the
     * index checksum) fixed: zstd sees garbage; no crash, no overrun, and
     * a successful read has exactly raw_size bytes */
    {
        img m0;
        uint64_t i, n, at_payload;

        img_load(&m0);
        n = m0.e[ia].data_size;
        at_payload = m0.at + m0.h->payload_off + m0.e[ia].data_off;
        CHECK(m0.e[ia].flags & BUNDLE_FLAG_DATA_ZSTD);
        free(m0.f);
        for (i = 0; i < n; i++) {
            static const uint8_t masks[] = {0xff, 0x01, 0x40};
            size_t k;

            for (k = 0; k < sizeof masks; k++) {
                img m;
                bundle_view v;
                kl_err err;
                const uint8_t *d;
                size_t got;
                uint8_t *owned;

                img_load(&m);
                m.f[at_payload + i] ^= masks[k];
                m.e[ia].data_check = kl_checksum(KL_CHECKSUM_SEED,
                                                 m.f + at_payload, (size_t)n);
                img_commit(&m, 1);
                if (CHECK(bundle_open(&v, m.f, m.size, &err) == 0) &&
                    bundle_read(&v, &v.entries[ia], BUNDLE_PART_DATA, &d, &got,
                                &owned, &err) == 0) {
                    CHECKF(got == small_specs[0].dsize && owned == d,
                           "garbage zstd at %llu", (unsigned long long)i);
                    free(owned);
                }
                free(m.f);
            }
        }
    }
    free(file);
}

/* ---- kl_checksum -------------------------------------------------------- */

static void test_checksum(void)
{
    uint8_t buf[64 + 8];
    size_t n, pos, align;
    unsigned delta;

    CHECK(kl_checksum(KL_CHECKSUM_SEED, buf, 0) == KL_CHECKSUM_SEED);
    CHECK(kl_checksum(KL_CHECKSUM_SEED, NULL, 0) == KL_CHECKSUM_SEED);
    /* the documented algorithm, for one word and one tail byte */
    {
        const uint64_t p = UINT64_C(0x100000001b3);
        uint8_t b[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        uint64_t w = UINT64_C(0x0807060504030201);
        uint64_t h = ((KL_CHECKSUM_SEED ^ w) * p ^ 9) * p;

        CHECK(kl_checksum(KL_CHECKSUM_SEED, b, 9) == h);
        /* chaining: seed is the previous result */
        CHECK(kl_checksum(kl_checksum(KL_CHECKSUM_SEED, b, 8), b + 8, 1) == h);
    }
    for (align = 0; align < 8; align += 3) {
        for (n = 0; n <= 33; n++) {
            uint8_t *p = buf + align;
            uint64_t base;

            fill_random(p, n, n * 31 + align);
            base = kl_checksum(KL_CHECKSUM_SEED, p, n);
            for (pos = 0; pos < n; pos++) {
                unsigned same = 0;

                for (delta = 1; delta < 256; delta++) {
                    p[pos] ^= (uint8_t)delta;
                    if (kl_checksum(KL_CHECKSUM_SEED, p, n) == base)
                        same++;
                    p[pos] ^= (uint8_t)delta;
                }
                CHECKF(same == 0, "size %zu, byte %zu: %u changes not seen", n,
                       pos, same);
            }
        }
    }
}

/* kl_sum gives kl_checksum's result whatever the pieces. */
static void test_sum(void)
{
    uint8_t buf[200];
    size_t cut1, cut2;

    fill_random(buf, sizeof buf, 5);
    for (cut1 = 0; cut1 <= 40; cut1++) {
        for (cut2 = cut1; cut2 <= 60; cut2 += 3) {
            kl_sum s;

            kl_sum_init(&s, KL_CHECKSUM_SEED);
            kl_sum_add(&s, buf, cut1);
            kl_sum_add(&s, buf + cut1, cut2 - cut1);
            kl_sum_add(&s, buf + cut2, 0);
            kl_sum_add(&s, buf + cut2, sizeof buf - cut2);
            CHECKF(kl_sum_end(&s) == kl_checksum(KL_CHECKSUM_SEED, buf,
                                                 sizeof buf),
                   "pieces %zu, %zu", cut1, cut2);
        }
    }
}

int main(void)
{
    size_t i;

    specs_make(main_specs, N_MAIN);
    specs_make(small_specs, N_SMALL);
    specs_make(module_specs, N_MODULE);

    specs_make(big_specs, N_BIG);

    test_kinds();
    test_checksum();
    test_sum();
    test_writer_args();
    test_short_source();
    for (i = 0; i < 2; i++) {
        int level = i ? 3 : 0;

        test_round_trip(level, BUNDLE_PAGE);
        test_round_trip(level, 0);
        test_round_trip(level, 3 * BUNDLE_PAGE);
        test_modules_only(level);
        test_big(level);
    }
    test_duplicates();
    test_empty(0);
    test_empty(BUNDLE_PAGE);
    test_many();
    test_lazy();
    test_truncation(0);
    test_truncation(3);
    test_flips(0);
    test_flips(3);
    test_hostile();

    specs_free(main_specs, N_MAIN);
    specs_free(small_specs, N_SMALL);
    specs_free(module_specs, N_MODULE);
    specs_free(big_specs, N_BIG);
    return check_summary();
}
