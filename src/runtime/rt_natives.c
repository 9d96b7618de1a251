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
 * without searching any directory.
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

enum { RT_NATIVE_NEW = 0, RT_NATIVE_LOADING, RT_NATIVE_LOADED };

/* One entry of the bundle as a native object of this process. */
typedef struct rt_native {
    unsigned char state;
    char *path;              /* the string it was loaded by, once loaded */
} rt_native;

static rt_native *rt_natives_v; /* one per entry, made on first use */

/* Held by every function below that reads or changes the table; loading
 * a library may load others, hence recursive. */
static pthread_mutex_t rt_natives_lock =
    PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

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
                           int flags, kl_err *err);

/* Load the carried libraries that the object image[0, size) (named what,
 * for messages) needs, each before what it needs. */
static int rt_natives_needs(const rt_program *prog, const void *image,
                            size_t size, const char *what, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    elf_info info;
    size_t i;
    int r = 0;

    if (elf_read(image, size, &info, err) < 0)
        return kl_err_prefix(err, "%s", what);
    for (i = 0; r == 0 && i < info.n_needed; i++) {
        const bundle_entry *lib = bundle_find(v, BUNDLE_NS_LIB, info.needed[i],
                                              strlen(info.needed[i]));

        if (lib != NULL)
            r = rt_natives_load(prog, lib, RTLD_NOW | RTLD_LOCAL, err);
    }
    elf_info_free(&info);
    return r;
}

/* Set up one-file entry e's object for the loader in p: the carried
 * libraries it needs loaded, its bytes placed. A damaged payload ends the
 * process when damage_ends, else fails. */
static int rt_natives_stage_bytes(const rt_program *prog,
                                  const bundle_entry *e, int damage_ends,
                                  rt_dlpath *p, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    const char *name = bundle_entry_name(v, e);
    const uint8_t *data;
    uint8_t *owned = NULL;
    size_t size;
    int r;

    if (bundle_read(v, e, BUNDLE_PART_DATA, &data, &size, &owned, err) < 0) {
        if (damage_ends)
            rt_program_damaged(prog, err);
        return -1;
    }
    r = rt_natives_needs(prog, data, size, name, err);
    if (r == 0)
        r = rt_dlpath_open(rt_natives_file_name(v, e), data, size, p, err);
    rt_program_release(prog, data, size);
    free(owned);
    return r;
}

/* Load entry e once, with flags: what it needs first, then itself, from
 * where rt_dlpath_open put it, or from its file in a folder program. A
 * cycle of libraries is loaded in the order met. */
static int rt_natives_load(const rt_program *prog, const bundle_entry *e,
                           int flags, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    const char *name = bundle_entry_name(v, e);
    rt_native *n = rt_natives_of(prog, e);
    rt_dlpath p = RT_DLPATH_INIT;
    int r;

    if (n == NULL)
        return kl_err_oom(err);
    if (n->state != RT_NATIVE_NEW)
        return 0;
    n->state = RT_NATIVE_LOADING;
    if (e->flags & BUNDLE_FLAG_EXTERNAL) {
        kl_map m;

        if (rt_program_map_external(prog, e, &m, err) < 0)
            rt_program_damaged(prog, err);
        r = rt_natives_needs(prog, m.data, (size_t)m.size, name, err);
        kl_unmap(&m);
        if (r == 0 && kl_path_join(&p.path, prog->root,
                                   bundle_entry_path(v, e)) < 0)
            r = kl_err_oom(err);
    } else {
        r = rt_natives_stage_bytes(prog, e, 1, &p, err);
    }
    if (r == 0 && dlopen(p.path.s, flags) == NULL)
        r = kl_err_set(err, "cannot load %s%s: %s",
                       e->kind == BUNDLE_KIND_SHLIB
                           ? "the library the program carries " : "",
                       name, dlerror());
    if (r == 0 && (n->path = kl_buf_detach(&p.path)) == NULL)
        r = kl_err_oom(err);
    rt_dlpath_close(&p);
    n->state = r == 0 ? RT_NATIVE_LOADED : RT_NATIVE_NEW;
    return r;
}

int rt_natives_preload(const rt_program *prog, const void *image,
                       size_t size, const char *what, kl_err *err)
{
    int r;

    if (bundle_find_prefix(&prog->bundle, BUNDLE_NS_LIB, "", 0) == NULL)
        return 0;
    pthread_mutex_lock(&rt_natives_lock);
    r = rt_natives_needs(prog, image, size, what, err);
    pthread_mutex_unlock(&rt_natives_lock);
    return r;
}

int rt_natives_stage(const rt_program *prog, const bundle_entry *e,
                     rt_dlpath *p, kl_err *err)
{
    rt_native *n;
    int r;

    assert(!(e->flags & BUNDLE_FLAG_EXTERNAL));
    pthread_mutex_lock(&rt_natives_lock);
    n = rt_natives_of(prog, e);
    if (n == NULL)
        r = kl_err_oom(err);
    else
        r = rt_natives_stage_bytes(prog, e, 0, p, err);
    pthread_mutex_unlock(&rt_natives_lock);
    return r;
}
