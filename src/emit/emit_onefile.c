/*
 * emit_onefile.c: the one-file program: stub, then bundle, in one file
 * that appears atomically.
 */
#include "emit.h"

#include "../elf/elf_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The stored bytes of a shared object opened as fd (size bytes, from
 * path): when it has parts the loader never reads, src covers only its
 * loadable part, with the header edited to match (head, ELF_HEADER_SIZE
 * bytes, owned by the caller). Anything that is not a readable ELF object
 * is kept whole. */
static void emit_strip(const char *path, bundle_source *src,
                       uint8_t head[ELF_HEADER_SIZE])
{
    kl_map m;
    elf_info info;
    kl_err ignored;

    if (kl_map_file(path, &m, &ignored) < 0)
        return;
    if (m.size == src->size &&
        elf_read(m.data, m.size, &info, &ignored) == 0) {
        if (info.loadable_size < m.size) {
            elf_cut_header(m.data, head);
            src->size = info.loadable_size;
            src->head = head;
            src->head_size = ELF_HEADER_SIZE;
        }
        elf_info_free(&info);
    }
    kl_unmap(&m);
}

/* Store entry e's payloads through w. */
static int emit_put(bundle_writer *w, const plan_entry *e, kl_err *err)
{
    bundle_source data = {e->data.bytes, -1, e->data.size, NULL, 0,
                          e->data.level};
    bundle_source aux = {e->aux.bytes, -1, e->aux.size, NULL, 0,
                         e->aux.level};
    uint8_t head[ELF_HEADER_SIZE];
    int r;

    /* Sources of modules live in memory; only data comes from files. */
    if (e->aux.file != NULL)
        return kl_err_set(err, "%s: sources from files are not supported "
                               "(internal error)", e->name);
    if (e->data.file != NULL) {
        if (kl_open_regular(e->data.file, &data.fd, &data.size, err) < 0)
            return -1;
        if (e->strip)
            emit_strip(e->data.file, &data, head);
    }
    r = bundle_writer_put(w, &data, &aux, err);
    if (data.fd >= 0)
        close(data.fd);
    return r;
}

/* Write stub and bundle to fd. */
static int emit_write(const plan *p, const kl_map *stub, int fd, kl_err *err)
{
    static const uint8_t zeros[BUNDLE_PAGE];
    uint64_t at = kl_align(stub->size, BUNDLE_PAGE);
    bundle_writer *w = bundle_writer_new();
    size_t i;
    int r = -1;

    if (w == NULL)
        return kl_err_oom(err);
    if (kl_write_all(fd, stub->data, (size_t)stub->size, "the program",
                     err) < 0 ||
        kl_write_all(fd, zeros, (size_t)(at - stub->size), "the program",
                     err) < 0)
        goto done;
    for (i = 0; i < p->n; i++)
        if (bundle_writer_add(w, p->entries[i].kind, p->entries[i].name,
                              p->entries[i].location, err) < 0)
            goto done;
    if (bundle_writer_set_run(w, p->run_mode, p->run_target, p->python_hex,
                              err) < 0 ||
        bundle_writer_begin(w, fd, at, err) < 0)
        goto done;
    for (i = 0; i < p->n; i++) {
        kl_progress("writing entries", i, p->n);
        if (emit_put(w, &p->entries[i], err) < 0)
            goto done;
    }
    r = bundle_writer_finish(w, err);
done:
    kl_progress_end();
    bundle_writer_free(w);
    return r;
}

int emit_onefile(const plan *p, const char *stub_path, const char *out_path,
                 kl_err *err)
{
    kl_map stub = {NULL, 0};
    kl_buf tmp = KL_BUF_INIT;
    struct stat st;
    int fd = -1, r = -1;

    if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode))
        return kl_err_set(err, "cannot write %s: it is a directory",
                          out_path);
    if (kl_map_file(stub_path, &stub, err) < 0)
        return kl_err_prefix(err, "runtime stub");
    if (bundle_present(stub.data, stub.size)) {
        kl_err_set(err, "%s already carries a bundle; reinstall kiln",
                   stub_path);
        goto done;
    }
    if (kl_make_parents(out_path, err) < 0 ||
        kl_temp_beside(out_path, &tmp, &fd, err) < 0)
        goto done;
    if (emit_write(p, &stub, fd, err) < 0) {
        kl_err_prefix(err, "%s", out_path);
        kl_temp_discard(&tmp, fd);
        goto done;
    }
    r = kl_temp_commit(&tmp, fd, out_path, 0755, err);
done:
    kl_buf_free(&tmp);
    kl_unmap(&stub);
    return r;
}
