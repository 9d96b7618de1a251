/*
 * seed_bundle.c: makes a seed of the bundle fuzz target (fuzz_bundle.c)
 * from a program kiln built: a bundle, written by the bundle writer at
 * offset 0, that holds a few of the program's entries of each kind (the
 * smallest, and __main__ and the run target) with their real bytes,
 * stored as the program stores them (compressed, external), and the
 * program's header: run mode and target, folder, runtime path and
 * interpreter options. A whole program is megabytes, almost all payload;
 * the seed keeps its structure in a few kilobytes of index and tens of
 * payload, where mutations land on what the reader checks.
 *
 * Usage: seed_bundle PROGRAM OUT [MAX]
 * PROGRAM is a one-file program or a folder program's executable. With
 * MAX, every entry stored in at most MAX bytes is kept too: an index of
 * several pages, as a real program has, whose pages a lazily opened view
 * checks one by one as lookups reach them.
 * Built with the ordinary objects, as the unit tests are: it is no fuzz
 * target.
 */
#include "../../src/bundle/bundle.h"
#include "../../src/common/kl_common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How many of the smallest entries of each kind the seed keeps: one
 * extension module and one library (tens of kilobytes each), two of the
 * others. */
#define SEED_PER_KIND 2
#define SEED_PER_NATIVE_KIND 1
#define SEED_ZSTD_LEVEL 3

/* The stored size of entry e, both parts. */
static uint64_t seed_size(const bundle_entry *e)
{
    return e->data_size + e->aux_size;
}

/* Whether entry i of v is among the smallest of its kind (ties broken by
 * position), the program's __main__ or run target, or stored in at most
 * max bytes (0: no such rule). */
static int seed_keeps(const bundle_view *v, uint32_t i, uint64_t max)
{
    const bundle_entry *e = &v->entries[i];
    const char *name = bundle_entry_name(v, e);
    uint32_t k, smaller = 0;

    if (seed_size(e) <= max || strcmp(name, "__main__") == 0 ||
        (bundle_kind_ns(e->kind) == BUNDLE_NS_MODULE &&
         strcmp(name, bundle_run_target(v)) == 0))
        return 1;
    for (k = 0; k < v->header->entry_count; k++) {
        const bundle_entry *o = &v->entries[k];

        if (o->kind == e->kind &&
            (seed_size(o) < seed_size(e) ||
             (seed_size(o) == seed_size(e) && k < i)))
            smaller++;
    }
    return smaller < (e->kind == BUNDLE_KIND_EXTENSION ||
                              e->kind == BUNDLE_KIND_SHLIB
                          ? SEED_PER_NATIVE_KIND
                          : SEED_PER_KIND);
}

/* Declare the entries of v that seed_keeps() keeps to w, and its
 * header's settings. */
static int seed_declare(const bundle_view *v, uint64_t max, bundle_writer *w,
                        kl_err *err)
{
    uint32_t i;

    for (i = 0; i < v->header->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];

        if (!seed_keeps(v, i, max))
            continue;
        if (bundle_writer_add(w, e->kind, bundle_entry_name(v, e),
                              bundle_entry_path(v, e), err) < 0 ||
            ((e->flags & BUNDLE_FLAG_FILES) &&
             bundle_writer_mark_files(w, err) < 0))
            return -1;
    }
    if (bundle_writer_set_run(w, (enum bundle_run_mode)v->header->run_mode,
                              bundle_run_target(v), v->header->python_hex,
                              err) < 0 ||
        (bundle_folder(v)[0] &&
         bundle_writer_set_folder(w, bundle_folder(v), err) < 0) ||
        (bundle_runtime_path(v)[0] &&
         bundle_writer_set_runtime_path(w, bundle_runtime_path(v), err) < 0) ||
        bundle_writer_set_options(w, bundle_options(v), err) < 0)
        return -1;
    return 0;
}

/* The file of external entry e of v, whose program is at program:
 * <program's directory>/<folder>/<path>, into b. -1 when out of memory. */
static int seed_external_path(const bundle_view *v, const bundle_entry *e,
                              const char *program, kl_buf *b)
{
    const char *slash = strrchr(program, '/');

    return kl_buf_setf(b, "%.*s/%s/%s", slash ? (int)(slash - program) : 1,
                       slash ? program : ".", bundle_folder(v),
                       bundle_entry_path(v, e)) < 0
               ? -1
               : 0;
}

/* Store external entry e of v, whose program is at program, as the next
 * entry of w: its file's bytes, counted and summed, written nowhere. */
static int seed_put_external(const bundle_view *v, const bundle_entry *e,
                             const char *program, bundle_writer *w,
                             kl_err *err)
{
    bundle_source data = {NULL, -1, 0, NULL, 0, 0, NULL, 0};
    kl_buf file = KL_BUF_INIT;
    int null = -1, r = -1;

    if (seed_external_path(v, e, program, &file) < 0) {
        kl_err_oom(err);
    } else if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
        kl_err_set(err, "cannot open /dev/null");
    } else if (kl_open_regular(file.s, &data.fd, &data.size, err) == 0) {
        r = bundle_writer_put_external(w, &data, null, "/dev/null", err);
        close(data.fd);
    }
    if (null >= 0)
        close(null);
    kl_buf_free(&file);
    return r;
}

/* Store entry e of v, whose program is at program, as the next entry of
 * w, each part as the program stores it. */
static int seed_put(const bundle_view *v, const bundle_entry *e,
                    const char *program, bundle_writer *w, kl_err *err)
{
    static const uint8_t none[1];
    const uint8_t *d, *a;
    uint8_t *dfree = NULL, *afree = NULL;
    size_t dn, an;
    bundle_source data = {none, -1, 0, NULL, 0, 0, NULL, 0}, aux = data;
    int r = -1;

    if (e->flags & BUNDLE_FLAG_EXTERNAL)
        return seed_put_external(v, e, program, w, err);
    if (bundle_read(v, e, BUNDLE_PART_DATA, &d, &dn, &dfree, err) < 0 ||
        bundle_read(v, e, BUNDLE_PART_AUX, &a, &an, &afree, err) < 0)
        goto done;
    data.bytes = dn ? d : none;
    data.size = dn;
    data.level = e->flags & BUNDLE_FLAG_DATA_ZSTD ? SEED_ZSTD_LEVEL : 0;
    aux.bytes = an ? a : none;
    aux.size = an;
    aux.level = e->flags & BUNDLE_FLAG_AUX_ZSTD ? SEED_ZSTD_LEVEL : 0;
    r = bundle_writer_put(w, e->kind == BUNDLE_KIND_NAMESPACE ? NULL : &data,
                          (e->flags & BUNDLE_FLAG_SOURCE) || an ? &aux : NULL,
                          err);
done:
    free(dfree);
    free(afree);
    return r;
}

/* Write the seed of the program mapped at m (found at program) to out,
 * keeping what seed_keeps() keeps. */
static int seed_write(const kl_map *m, const char *program, uint64_t max,
                      const char *out, kl_err *err)
{
    bundle_view v;
    bundle_writer *w;
    uint32_t i;
    int fd = -1, r = -1;

    if (bundle_open(&v, m->data, m->size, err) < 0)
        return -1;
    if ((w = bundle_writer_new()) == NULL)
        return kl_err_oom(err);
    fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        kl_err_set(err, "cannot write %s", out);
        goto done;
    }
    if (seed_declare(&v, max, w, err) < 0 ||
        bundle_writer_begin(w, fd, 0, err) < 0)
        goto done;
    for (i = 0; i < v.header->entry_count; i++)
        if (seed_keeps(&v, i, max) &&
            seed_put(&v, &v.entries[i], program, w, err) < 0)
            goto done;
    if (bundle_writer_finish(w, err) < 0)
        goto done;
    r = 0;
done:
    bundle_writer_free(w);
    if (fd >= 0 && close(fd) < 0 && r == 0)
        r = kl_err_set(err, "cannot write %s", out);
    return r;
}

int main(int argc, char **argv)
{
    kl_map m;
    kl_err err;

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: seed_bundle PROGRAM OUT [MAX]\n");
        return 2;
    }
    if (kl_map_file(argv[1], &m, &err) < 0 ||
        seed_write(&m, argv[1], argc == 4 ? strtoull(argv[3], NULL, 10) : 0,
                   argv[2], &err) < 0) {
        fprintf(stderr, "seed_bundle: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    kl_unmap(&m);
    return 0;
}
