/*
 * emit_files.c: what the emitters share: a plan entry's data opened for
 * storing (shared objects cut to what the loader reads), an entry stored
 * inside a bundle or beside it.
 */
#include "emit_files.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prepare native object e, opened into d->src from path: the search
 * paths of the machine it was built on hidden (elf_fixed_paths: a built
 * program never searches them) with patches in d; and, when e->strip and
 * it has parts the loader never reads, src made to cover only its
 * loadable part, with the header edited to match (d->head). Anything that
 * is not a readable ELF object is kept whole. */
static void emit_native(const plan_entry *e, const char *path, emit_data *d)
{
    kl_map m;
    elf_info info;
    kl_err ignored;
    uint64_t offs[2];
    size_t n, i, k;

    if (kl_map_file(path, &m, &ignored) < 0)
        return;
    if (m.size == d->src.size &&
        elf_read(m.data, m.size, &info, &ignored) == 0) {
        if (e->strip && info.loadable_size < m.size) {
            elf_cut_header(m.data, d->head);
            d->src.size = info.loadable_size;
            d->src.head = d->head;
            d->src.head_size = ELF_HEADER_SIZE;
        }
        elf_fixed_paths(m.data, m.size, offs, &n);
        for (i = 0; i < n; i++) {
            d->patches[i].off = offs[i];
            for (k = 0; k < 8; k++)
                d->patches[i].bytes[k] =
                    (uint8_t)((uint64_t)ELF_DT_HIDDEN_PATH >> (8 * k));
        }
        d->src.patches = d->patches;
        d->src.n_patches = n;
        elf_info_free(&info);
    }
    kl_unmap(&m);
}

int emit_data_open(const plan_entry *e, emit_data *d, kl_err *err)
{
    bundle_source src = {e->data.bytes, -1, e->data.size, NULL, 0,
                         e->data.level, NULL, 0};

    d->src = src;
    if (e->data.file == NULL)
        return 0;
    if (kl_open_regular(e->data.file, &d->src.fd, &d->src.size, err) < 0)
        return -1;
    if (e->kind == BUNDLE_KIND_EXTENSION || e->kind == BUNDLE_KIND_SHLIB)
        emit_native(e, e->data.file, d);
    return 0;
}

void emit_data_close(emit_data *d)
{
    if (d->src.fd >= 0)
        close(d->src.fd);
    d->src.fd = -1;
}

static int emit_put(bundle_writer *w, const plan_entry *e, kl_err *err)
{
    bundle_source aux = {e->aux.bytes, -1, e->aux.size, NULL, 0,
                         e->aux.level, NULL, 0};
    emit_data data;
    int r;

    /* Sources of modules live in memory; only data comes from files. */
    if (e->aux.file != NULL)
        return kl_err_set(err, "%s: sources from files are not supported "
                               "(internal error)", e->name);
    r = emit_data_open(e, &data, err);
    if (r == 0)
        r = bundle_writer_put(w, &data.src, e->aux.bytes ? &aux : NULL,
                              err);
    emit_data_close(&data);
    return r;
}

/* The mode of entry e's file in a folder: native code is executable, and
 * so is a data file that was executable where it came from (a package's
 * programs); other files are not. */
static mode_t emit_file_mode(const plan_entry *e)
{
    struct stat st;

    if (e->kind == BUNDLE_KIND_EXTENSION || e->kind == BUNDLE_KIND_SHLIB ||
        (e->data.file != NULL && stat(e->data.file, &st) == 0 &&
         (st.st_mode & 0111)))
        return 0755;
    return 0644;
}

/* Write entry e's data as the file <dir>/<location> (dir: the folder
 * being made) and record it in w as external, with emit_file_mode(); a
 * file that already exists (two entries with one location) is an error,
 * as is a location outside the folder. */
static int emit_put_outside(bundle_writer *w, const plan_entry *e,
                            const char *dir, kl_err *err)
{
    kl_buf path = KL_BUF_INIT;
    mode_t mode = emit_file_mode(e);
    emit_data data;
    int fd = -1, r = -1;

    if (!bundle_path_inside(e->location))
        return kl_err_set(err, "%s: its place '%s' is outside the program's "
                               "folder", e->name, e->location);
    if (kl_path_join(&path, dir, e->location) < 0)
        return kl_err_oom(err);
    if (emit_data_open(e, &data, err) < 0 ||
        kl_make_parents(path.s, err) < 0)
        goto done;
    fd = open(path.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        kl_err_set(err, "%s: another entry is already the file %s", e->name,
                   e->location);
        goto done;
    }
    if (fd < 0) {
        kl_err_set(err, "cannot create %s: %s", path.s, strerror(errno));
        goto done;
    }
    if (bundle_writer_put_external(w, &data.src, fd, path.s, err) < 0)
        goto done;
    r = close(fd);
    fd = -1;
    if (r < 0)
        kl_err_set(err, "cannot write %s: %s", path.s, strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    emit_data_close(&data);
    kl_buf_free(&path);
    return r;
}

int emit_program_write(const plan *p, const kl_map *stub, int fd,
                       const char *folder, const char *folder_path,
                       kl_err *err)
{
    static const uint8_t zeros[BUNDLE_PAGE];
    uint64_t at = kl_align(stub->size, BUNDLE_PAGE);
    bundle_writer *w = bundle_writer_new();
    size_t i;
    int r = -1;

    assert((folder == NULL) == (folder_path == NULL));
    if (w == NULL)
        return kl_err_oom(err);
    if (kl_write_all(fd, stub->data, (size_t)stub->size, "the program",
                     err) < 0 ||
        kl_write_all(fd, zeros, (size_t)(at - stub->size), "the program",
                     err) < 0)
        goto done;
    for (i = 0; i < p->n; i++)
        if (bundle_writer_add(w, p->entries[i].kind, p->entries[i].name,
                              p->entries[i].location, err) < 0 ||
            (p->entries[i].files && bundle_writer_mark_files(w, err) < 0))
            goto done;
    if (bundle_writer_set_run(w, p->run_mode, p->run_target, p->python_hex,
                              err) < 0 ||
        (folder != NULL && bundle_writer_set_folder(w, folder, err) < 0) ||
        (p->runtime_path != NULL &&
         bundle_writer_set_runtime_path(w, p->runtime_path, err) < 0) ||
        (p->options != NULL &&
         bundle_writer_set_options(w, p->options, err) < 0) ||
        bundle_writer_begin(w, fd, at, err) < 0)
        goto done;
    for (i = 0; i < p->n; i++) {
        const plan_entry *e = &p->entries[i];

        kl_progress("writing entries", i, p->n);
        if ((folder != NULL && e->outside
                 ? emit_put_outside(w, e, folder_path, err)
                 : emit_put(w, e, err)) < 0)
            goto done;
    }
    r = bundle_writer_finish(w, err);
done:
    kl_progress_end();
    bundle_writer_free(w);
    return r;
}
