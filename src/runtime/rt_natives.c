/*
 * rt_natives.c: native objects the program carries, loaded once each: the
 * shared libraries (entries of kind shlib, named as extension modules ask
 * for them) before the module that needs them, extension modules' bytes
 * for CPython's loader, and whatever dlopen() is asked for by a carried
 * library's name or a path under a one-file program. The dynamic loader
 * satisfies a DT_NEEDED name with an object already loaded under that
 * DT_SONAME, so each library is loaded, after the carried libraries it
 * needs itself, from memory or the cache (rt_dlpath.c; in a folder
 * program, from its file), and the module's own load then finds it
 * without searching any directory. A library without a DT_SONAME cannot
 * be matched that way: in a one-file program it is loaded with
 * RTLD_GLOBAL and, in the copy of each object that needs it, the
 * DT_NEEDED entry is hidden from the loader (elf_hide_needed); a folder
 * program's files keep their layout, so it and what needs it are left to
 * the loader, which finds them through the RPATH or RUNPATH ($ORIGIN) of
 * what needs them, as python does.
 */
#include "rt.h"

#include "../elf/elf_reader.h"

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* RT_NATIVE_LEFT: a folder program's library that is not loaded ahead
 * but left to the loader, which finds it as a file through the RPATH or
 * RUNPATH of what needs it: one without a DT_SONAME, which it could not
 * match by name, or one that needs such a library. */
enum {
    RT_NATIVE_NEW = 0,
    RT_NATIVE_LOADING,
    RT_NATIVE_LOADED,
    RT_NATIVE_LEFT
};

/* One entry of the bundle as a native object of this process. */
typedef struct rt_native {
    unsigned char state;
    unsigned char no_soname; /* a one-file library without DT_SONAME */
    char *path;              /* the string it was loaded by, once loaded */
} rt_native;

static const rt_program *rt_natives_prog;
static rt_native *rt_natives_v; /* one per entry, made on first use */

/* Held by every function below that reads or changes the table; the
 * loader may call back into dlopen() (a library's constructor), hence
 * recursive. */
static pthread_mutex_t rt_natives_lock =
    PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* This thread's last failure, for dlerror(). */
static __thread kl_err rt_natives_err;
static __thread int rt_natives_err_set;

void rt_natives_mount(const rt_program *prog)
{
    rt_natives_prog = prog;
}

/* The table's record of entry e, or NULL when out of memory. */
static rt_native *rt_natives_of(const rt_program *prog, const bundle_entry *e)
{
    const bundle_view *v = &prog->bundle;

    if (rt_natives_v == NULL &&
        (rt_natives_v = calloc(v->header->entry_count, sizeof *rt_natives_v))
            == NULL)
        return NULL;
    return &rt_natives_v[e - v->entries];
}

/* The file name entry e's object is placed under: the last part of its
 * path in the program. */
static const char *rt_natives_file_name(const bundle_view *v,
                                        const bundle_entry *e)
{
    const char *path = bundle_entry_path(v, e), *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int rt_natives_load(const rt_program *prog, const bundle_entry *e,
                           int flags, int asked, kl_err *err);

/* Load the carried libraries that the object image[0, size) (named what,
 * for messages) needs, each before what it needs. The names of those the
 * loader cannot match by name (without a DT_SONAME, or left to it) are
 * added to hide; *has_soname says whether the image has one itself. */
static int rt_natives_needs(const rt_program *prog, const void *image,
                            size_t size, const char *what, kl_strv *hide,
                            int *has_soname, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    elf_info info;
    size_t i;
    int r = 0;

    if (elf_read(image, size, &info, err) < 0)
        return kl_err_prefix(err, "%s", what);
    *has_soname = info.soname != NULL;
    for (i = 0; r == 0 && i < info.n_needed; i++) {
        const bundle_entry *lib = rt_program_find(v, BUNDLE_NS_LIB,
                                                  info.needed[i],
                                                  strlen(info.needed[i]));
        const rt_native *n;

        if (lib == NULL)
            continue;
        r = rt_natives_load(prog, lib, RTLD_NOW | RTLD_LOCAL, 0, err);
        n = &rt_natives_v[lib - v->entries];
        if (r == 0 && (n->no_soname || n->state == RT_NATIVE_LEFT) &&
            kl_strv_push(hide, info.needed[i]) < 0)
            r = kl_err_oom(err);
    }
    elf_info_free(&info);
    return r;
}

/* Place data[0, size), called name, for the loader (rt_dlpath_open), with
 * the DT_NEEDED entries naming hide's libraries hidden in a copy. check:
 * as rt_dlpath_open's (NULL: the bytes were checked); bytes that fail it
 * set p->damaged. */
static int rt_natives_place(const char *name, const uint8_t *data,
                            size_t size, const uint64_t *check,
                            const kl_strv *hide, rt_dlpath *p, kl_err *err)
{
    uint8_t *copy;
    int r;

    if (hide->n == 0)
        return rt_dlpath_open(name, data, size, check, p, err);
    if (check != NULL &&
        kl_checksum(KL_CHECKSUM_SEED, data, size) != *check)
        return rt_dlpath_damaged(name, p, err);
    if ((copy = malloc(size ? size : 1)) == NULL)
        return kl_err_oom(err);
    memcpy(copy, data, size);
    r = elf_hide_needed(copy, size, (const char *const *)hide->v, hide->n,
                        err);
    if (r < 0)
        kl_err_prefix(err, "%s", name);
    else
        r = rt_dlpath_open(name, copy, size, NULL, p, err);
    free(copy);
    return r;
}

/* The bytes of one-file entry e for the loader: as stored when they are
 * (*check then points to the checksum they must have, checked as they
 * are copied: one pass over them), else read and checked (bundle_read;
 * *owned may get a buffer to free, *check is NULL). */
static int rt_natives_bytes(const bundle_view *v, const bundle_entry *e,
                            const uint8_t **data, size_t *size,
                            uint8_t **owned, const uint64_t **check,
                            kl_err *err)
{
    *owned = NULL;
    *check = NULL;
    if (!(e->flags & BUNDLE_FLAG_DATA_ZSTD)) {
        *check = &e->data_check;
        return bundle_span(v, e, BUNDLE_PART_DATA, data, size, err);
    }
    return bundle_read(v, e, BUNDLE_PART_DATA, data, size, owned, err);
}

/* Set up one-file entry e's object for the loader in p: the carried
 * libraries it needs loaded, its bytes placed (rt_natives_place);
 * *has_soname says whether it has a DT_SONAME. A damaged payload ends the
 * process when damage_ends, else fails. */
static int rt_natives_stage_bytes(const rt_program *prog,
                                  const bundle_entry *e, int damage_ends,
                                  rt_dlpath *p, int *has_soname, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    const char *name = bundle_entry_name(v, e);
    kl_strv hide = KL_STRV_INIT;
    const uint8_t *data;
    const uint64_t *check;
    uint8_t *owned;
    size_t size;
    int r;

    if (rt_natives_bytes(v, e, &data, &size, &owned, &check, err) < 0) {
        if (damage_ends)
            rt_program_damaged(prog, err);
        return -1;
    }
    r = rt_natives_needs(prog, data, size, name, &hide, has_soname, err);
    if (r < 0 && check != NULL &&
        kl_checksum(KL_CHECKSUM_SEED, data, size) != *check) {
        /* Read before they were checked, damaged bytes say so. */
        rt_dlpath_damaged(name, p, err);
    }
    if (r == 0)
        r = rt_natives_place(rt_natives_file_name(v, e), data, size, check,
                             &hide, p, err);
    if (r < 0 && p->damaged && damage_ends)
        rt_program_damaged(prog, err);
    rt_program_release(prog, data, size);
    free(owned);
    kl_strv_free(&hide);
    return r;
}

/* Set p to folder program library e's file, after the carried libraries
 * it needs. *left when it is to be left to the loader (RT_NATIVE_LEFT). */
static int rt_natives_stage_file(const rt_program *prog,
                                 const bundle_entry *e, rt_dlpath *p,
                                 int *left, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    kl_strv hide = KL_STRV_INIT;
    kl_map m;
    int has_soname = 1, r;

    if (rt_program_map_external(prog, e, &m, err) < 0)
        rt_program_damaged(prog, err);
    r = rt_natives_needs(prog, m.data, (size_t)m.size, bundle_entry_name(v, e),
                         &hide, &has_soname, err);
    kl_unmap(&m);
    *left = !has_soname || hide.n > 0;
    kl_strv_free(&hide);
    if (r == 0 && kl_path_join(&p->path, prog->root,
                               bundle_entry_path(v, e)) < 0)
        r = kl_err_oom(err);
    return r;
}

/* Load entry e once, with flags (and RTLD_NODELETE: the path string it
 * is loaded by is handed to the loader again for every later dlopen of
 * it, which must find it still loaded): what it needs first, then itself,
 * from where rt_dlpath_open put it, or from its file in a folder program.
 * A one-file library without a DT_SONAME is loaded with RTLD_GLOBAL too,
 * so that the objects whose DT_NEEDED naming it is hidden find its
 * symbols; a folder program's is left to the loader unless dlopen asked
 * for it (asked). A cycle of libraries is loaded in the order met. */
static int rt_natives_load(const rt_program *prog, const bundle_entry *e,
                           int flags, int asked, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    const char *name = bundle_entry_name(v, e);
    rt_native *n = rt_natives_of(prog, e);
    rt_dlpath p = RT_DLPATH_INIT;
    int has_soname = 1, left = 0, r;

    if (n == NULL)
        return kl_err_oom(err);
    if (n->state == RT_NATIVE_LOADING || n->state == RT_NATIVE_LOADED ||
        (n->state == RT_NATIVE_LEFT && !asked))
        return 0;
    n->state = RT_NATIVE_LOADING;
    if (e->flags & BUNDLE_FLAG_EXTERNAL) {
        r = rt_natives_stage_file(prog, e, &p, &left, err);
        left = left && !asked;
    } else {
        r = rt_natives_stage_bytes(prog, e, 1, &p, &has_soname, err);
        n->no_soname = !has_soname;
        if (n->no_soname)
            flags |= RTLD_GLOBAL;
    }
    if (r == 0 && !left && dlopen(p.path.s, flags | RTLD_NODELETE) == NULL)
        r = kl_err_set(err, "cannot load %s%s: %s",
                       e->kind == BUNDLE_KIND_SHLIB
                           ? "the library the program carries " : "",
                       name, dlerror());
    if (r == 0 && !left && (n->path = kl_buf_detach(&p.path)) == NULL)
        r = kl_err_oom(err);
    rt_dlpath_close(&p);
    n->state = r < 0 ? RT_NATIVE_NEW : left ? RT_NATIVE_LEFT
                                            : RT_NATIVE_LOADED;
    return r;
}

int rt_natives_preload(const rt_program *prog, const void *image,
                       size_t size, const char *what, kl_err *err)
{
    kl_strv hide = KL_STRV_INIT;
    int has_soname, r;

    if (rt_program_find_prefix(&prog->bundle, BUNDLE_NS_LIB, "", 0) == NULL)
        return 0;
    pthread_mutex_lock(&rt_natives_lock);
    r = rt_natives_needs(prog, image, size, what, &hide, &has_soname, err);
    pthread_mutex_unlock(&rt_natives_lock);
    kl_strv_free(&hide);
    return r;
}

int rt_natives_stage(const rt_program *prog, const bundle_entry *e,
                     rt_dlpath *p, kl_err *err)
{
    rt_native *n;
    int has_soname, r;

    assert(!(e->flags & BUNDLE_FLAG_EXTERNAL));
    pthread_mutex_lock(&rt_natives_lock);
    n = rt_natives_of(prog, e);
    if (n == NULL)
        r = kl_err_oom(err);
    else if (n->state == RT_NATIVE_LOADED)
        r = kl_buf_sets(&p->path, n->path) < 0 ? kl_err_oom(err) : 0;
    else
        r = rt_natives_stage_bytes(prog, e, 1, p, &has_soname, err);
    pthread_mutex_unlock(&rt_natives_lock);
    return r;
}

void rt_natives_staged(const rt_program *prog, const bundle_entry *e,
                       const rt_dlpath *p)
{
    rt_native *n;

    pthread_mutex_lock(&rt_natives_lock);
    n = rt_natives_of(prog, e);
    /* Kept loaded from now on, so that dlopen() of its path may hand the
     * loader the same string again. */
    if (n != NULL && n->state == RT_NATIVE_NEW &&
        dlopen(p->path.s, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE) != NULL &&
        (n->path = strdup(p->path.s)) != NULL)
        n->state = RT_NATIVE_LOADED;
    pthread_mutex_unlock(&rt_natives_lock);
}

/* Fail this thread's dlopen of file with message text. */
static void rt_natives_fail(const char *file, const char *text)
{
    kl_err_set(&rt_natives_err, "%s: %s", file, text);
    rt_natives_err_set = 1;
}

int rt_natives_dlopen(const char *file, int flags, void **handle)
{
    const rt_program *prog = rt_natives_prog;
    const bundle_entry *e = NULL;
    rt_native *n;
    kl_err err;
    int r;

    *handle = NULL;
    if (prog == NULL || file == NULL)
        return 0;
    if (strchr(file, '/') == NULL) {
        e = rt_program_find(&prog->bundle, BUNDLE_NS_LIB, file, strlen(file));
        if (e == NULL)
            return 0;
    } else if (!rt_files_claims(file)) {
        return 0;
    }
    rt_natives_err_set = 0;
    if (e == NULL && rt_files_object(file, &e) <= 0) {
        int code = errno;

        if (code == ENOEXEC)
            kl_err_set(&rt_natives_err, "%s: invalid ELF header", file);
        else
            kl_err_set(&rt_natives_err, "%s: cannot open shared object "
                                        "file: %s", file, strerror(code));
        rt_natives_err_set = 1;
        return 1;
    }
    pthread_mutex_lock(&rt_natives_lock);
    n = rt_natives_of(prog, e);
    if (n == NULL) {
        r = kl_err_oom(&err);
    } else if (n->state == RT_NATIVE_LOADED) {
        r = 0;
    } else if (flags & RTLD_NOLOAD) {
        pthread_mutex_unlock(&rt_natives_lock);
        return strchr(file, '/') == NULL ? 0 : 1;
    } else {
        r = rt_natives_load(prog, e, flags, 1, &err);
    }
    if (r == 0 && n->path == NULL)
        r = kl_err_set(&err, "it is being loaded (a constructor of what it "
                             "needs asks for it)");
    if (r == 0)
        *handle = dlopen(n->path, flags);
    pthread_mutex_unlock(&rt_natives_lock);
    if (r < 0)
        rt_natives_fail(file, err.msg);
    return 1;
}

/* The entry loaded by the path string `loaded`, or NULL. */
static const bundle_entry *rt_natives_loaded_by(const rt_program *prog,
                                                const char *loaded)
{
    const bundle_view *v = &prog->bundle;
    uint32_t i;

    for (i = 0; rt_natives_v != NULL && i < v->header->entry_count; i++)
        if (rt_natives_v[i].path != NULL &&
            strcmp(rt_natives_v[i].path, loaded) == 0)
            return &v->entries[i];
    return NULL;
}

/* Set found to the first file named file in the directories of search
 * path `dirs` (an RPATH or RUNPATH) that start with $ORIGIN, taken as
 * <root>/<origin>, that the program's tree holds. 1 found, 0 not, -1
 * out of memory. */
static int rt_natives_search(const char *dirs, const char *root,
                             const char *origin, size_t origin_len,
                             const char *file, kl_buf *found)
{
    const bundle_entry *e;
    const char *p, *end;

    for (p = dirs; *p != '\0'; p = *end ? end + 1 : end) {
        size_t n, skip;

        end = p + strcspn(p, ":");
        n = (size_t)(end - p);
        skip = elf_origin_len(p, n);
        if (skip == 0 || (n > skip && p[skip] != '/'))
            continue;
        if (kl_buf_setf(found, "%s/%.*s%.*s/%s", root, (int)origin_len, origin,
                        (int)(n - skip), p + skip, file) < 0)
            return -1;
        if (rt_files_claims(found->s) && rt_files_object(found->s, &e) > 0)
            return 1;
    }
    return 0;
}

int rt_natives_dlopen_beside(const char *caller, const char *file, int flags,
                             void **handle)
{
    const rt_program *prog = rt_natives_prog;
    const bundle_entry *e;
    const uint8_t *data;
    uint8_t *owned = NULL;
    size_t size;
    const char *path, *slash;
    const uint64_t *check;
    kl_buf found = KL_BUF_INIT;
    elf_info info;
    kl_err err;
    int r = 0;

    if (prog == NULL || bundle_folder(&prog->bundle)[0] != '\0')
        return 0;
    pthread_mutex_lock(&rt_natives_lock);
    e = rt_natives_loaded_by(prog, caller);
    if (e != NULL && rt_natives_bytes(&prog->bundle, e, &data, &size, &owned,
                                      &check, &err) == 0) {
        if (elf_read(data, size, &info, &err) == 0) {
            const char *dirs = info.runpath ? info.runpath : info.rpath;

            path = bundle_entry_path(&prog->bundle, e);
            slash = strrchr(path, '/');
            if (dirs != NULL)
                r = rt_natives_search(dirs, prog->root, path,
                                      slash ? (size_t)(slash - path) : 0,
                                      file, &found);
            elf_info_free(&info);
        }
        rt_program_release(prog, data, size);
        free(owned);
    }
    pthread_mutex_unlock(&rt_natives_lock);
    if (r > 0)
        r = rt_natives_dlopen(found.s, flags, handle);
    kl_buf_free(&found);
    return r > 0;
}

const char *rt_natives_dlerror(void)
{
    if (!rt_natives_err_set)
        return NULL;
    rt_natives_err_set = 0;
    return rt_natives_err.msg;
}

void rt_natives_dlerror_clear(void)
{
    rt_natives_err_set = 0;
}
