/*
 * rt_natives.c: the shared libraries a program carries (entries of kind
 * shlib, named as extension modules ask for them), loaded before the
 * module that needs them. The dynamic loader satisfies a DT_NEEDED name
 * with an object already loaded under that DT_SONAME, so each library is
 * loaded, after the bundled libraries it needs itself, from a memfd (or,
 * in a folder program, from its file), and the module's own load then
 * finds it without searching any directory. Also: the path strings memfds
 * are loaded under, which must never name two objects.
 */
#include "rt.h"

#include "../elf/elf_reader.h"

#include <assert.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* How many times the loader was handed /proc/self/fd/N, per N: the
 * next path for N gets that many more slashes (rt_natives_fd_path). */
static unsigned *rt_natives_fd_uses;
static size_t rt_natives_fd_cap;

int rt_natives_fd_path(int fd, kl_buf *path, kl_err *err)
{
    size_t need = (size_t)fd + 1;
    char num[16];
    unsigned i;

    assert(fd >= 0);
    if (need > rt_natives_fd_cap) {
        size_t cap = need < 64 ? 64 : need * 2;
        unsigned *grown = realloc(rt_natives_fd_uses, cap * sizeof *grown);

        if (grown == NULL)
            return kl_err_oom(err);
        memset(grown + rt_natives_fd_cap, 0,
               (cap - rt_natives_fd_cap) * sizeof *grown);
        rt_natives_fd_uses = grown;
        rt_natives_fd_cap = cap;
    }
    if (kl_buf_sets(path, "/proc/self/fd/") < 0)
        return kl_err_oom(err);
    for (i = 0; i < rt_natives_fd_uses[fd]; i++)
        if (kl_buf_add(path, "/", 1) < 0)
            return kl_err_oom(err);
    snprintf(num, sizeof num, "%d", fd);
    if (kl_buf_adds(path, num) < 0)
        return kl_err_oom(err);
    rt_natives_fd_uses[fd]++;
    return 0;
}

/* Which entries are loaded, or being loaded (one byte per entry of the
 * bundle), made on first use. */
static unsigned char *rt_natives_state;

enum { RT_NATIVE_NEW = 0, RT_NATIVE_LOADING, RT_NATIVE_LOADED };

static int rt_natives_load(const rt_program *prog, const bundle_entry *e,
                           kl_err *err);

/* Load the bundled libraries that the object image[0, size) (named what,
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
            r = rt_natives_load(prog, lib, err);
    }
    elf_info_free(&info);
    return r;
}

/* Load library entry e once: what it needs first, then itself, from a
 * memfd named after it (never closed: glibc knows a loaded object by its
 * path string) or from its file in a folder program. A cycle of libraries
 * is loaded in the order met. */
static int rt_natives_load(const rt_program *prog, const bundle_entry *e,
                           kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    size_t at = (size_t)(e - v->entries);
    const char *name = bundle_entry_name(v, e);
    const uint8_t *data;
    uint8_t *owned = NULL;
    size_t size;
    kl_buf path = KL_BUF_INIT;
    kl_map m = {NULL, 0};
    int fd = -1, r;

    if (rt_natives_state == NULL &&
        (rt_natives_state = calloc(v->header->entry_count, 1)) == NULL)
        return kl_err_oom(err);
    if (rt_natives_state[at] != RT_NATIVE_NEW)
        return 0;
    rt_natives_state[at] = RT_NATIVE_LOADING;
    if (e->flags & BUNDLE_FLAG_EXTERNAL) {
        if (rt_program_map_external(prog, e, &m, err) < 0)
            rt_program_damaged(prog, err);
        r = rt_natives_needs(prog, m.data, (size_t)m.size, name, err);
        kl_unmap(&m);
        if (r == 0 && kl_path_join(&path, prog->root,
                                   bundle_entry_path(v, e)) < 0)
            r = kl_err_oom(err);
    } else {
        if (bundle_read(v, e, BUNDLE_PART_DATA, &data, &size, &owned, err) < 0)
            rt_program_damaged(prog, err);
        r = rt_natives_needs(prog, data, size, name, err);
        fd = r == 0 ? rt_files_memfd(name, data, size, 1, err) : -1;
        rt_program_release(prog, data, size);
        free(owned);
        if (r == 0 && fd < 0)
            r = -1;
        if (r == 0)
            r = rt_natives_fd_path(fd, &path, err);
    }
    if (r == 0 && dlopen(path.s, RTLD_NOW | RTLD_LOCAL) == NULL)
        r = kl_err_set(err, "cannot load the library %s the program carries: "
                            "%s", name, dlerror());
    /* Loaded, the library needs no descriptor (its path string is never
     * handed to the loader again). */
    if (fd >= 0)
        close(fd);
    kl_buf_free(&path);
    if (r == 0)
        rt_natives_state[at] = RT_NATIVE_LOADED;
    return r;
}

int rt_natives_preload(const rt_program *prog, const void *image,
                       size_t size, const char *what, kl_err *err)
{
    if (bundle_find_prefix(&prog->bundle, BUNDLE_NS_LIB, "", 0) == NULL)
        return 0;
    return rt_natives_needs(prog, image, size, what, err);
}
