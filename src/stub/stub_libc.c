/*
 * stub_libc.c: dlopen() and dlerror() as the executable defines them:
 * dlopen() of a library the program carries, or of a path under it, is
 * answered by src/runtime/rt_natives.c; any other goes to libc's own,
 * found with dlsym(RTLD_NEXT). The libc calls that take a path are
 * src/runtime/rt_libc.c's. The executable exports its symbols (for
 * extension modules), so extension modules and the libraries they load
 * reach these too.
 */
#include "../runtime/rt_files.h"
#include "../runtime/rt_natives.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Declare `real` as a pointer to libc's `name`, a function returning ret
 * with parameters params. */
#define STUB_REAL(ret, name, params)                                       \
    static void *stub_slot_##name;                                        \
    ret(*real) params = (ret(*) params)rt_libc_real(&stub_slot_##name,   \
                                                     #name)

/* ---- dlopen ---------------------------------------------------------------- */

/* libc's dlopen of bare name file for code at address caller, searching
 * the caller's own RPATH or RUNPATH first: libc's dlopen searches those
 * of the object that calls it, which is now this executable. A name
 * already loaded is libc's to answer; for an object loaded from memory or
 * the cache, its $ORIGIN directories are looked up in the program
 * (rt_natives_dlopen_beside); then the directories the loader gives
 * (dlinfo RTLD_DI_SERINFO, in its order, LD_LIBRARY_PATH's among them) are
 * tried; the system's are left to libc's own search. */
static void *stub_libc_dlopen_name(void *(*real)(const char *, int),
                                   const char *file, int flags,
                                   const void *caller)
{
    struct link_map *lm = NULL;
    Dl_serinfo size;
    Dl_serinfo *si = NULL;
    Dl_info info;
    kl_buf path = KL_BUF_INIT;
    void *h = NULL;
    unsigned i;

    if (dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) == 0 ||
        lm == NULL || lm->l_name[0] == '\0')
        return real(file, flags);
    if ((h = real(file, flags | RTLD_NOLOAD)) != NULL ||
        rt_natives_dlopen_beside(lm->l_name, file, flags, &h))
        return h;
    if (dlinfo(lm, RTLD_DI_SERINFOSIZE, &size) == 0 &&
        (si = malloc(size.dls_size)) != NULL) {
        *si = size;
        if (dlinfo(lm, RTLD_DI_SERINFO, si) < 0)
            si->dls_cnt = 0;
        for (i = 0; h == NULL && i < si->dls_cnt; i++) {
            if (si->dls_serpath[i].dls_flags & (LA_SER_DEFAULT | LA_SER_CONFIG))
                continue;
            if (kl_path_join(&path, si->dls_serpath[i].dls_name, file) == 0 &&
                access(path.s, F_OK) == 0)
                h = real(path.s, flags);
        }
        free(si);
        kl_buf_free(&path);
    }
    (void)dlerror();
    return h != NULL ? h : real(file, flags);
}

void *dlopen(const char *file, int flags)
{
    STUB_REAL(void *, dlopen, (const char *, int));
    void *h;

    if (rt_natives_dlopen(file, flags, &h))
        return h;
    rt_natives_dlerror_clear();
    if (file != NULL && strchr(file, '/') == NULL)
        return stub_libc_dlopen_name(real, file, flags,
                                     __builtin_return_address(0));
    return real(file, flags);
}

/* libc's dlerror, looked up before main: looking it up with dlsym when
 * it is first called would clear the very message it is called for. */
static void *stub_libc_dlerror_slot;

__attribute__((constructor)) static void stub_libc_dlerror_init(void)
{
    (void)rt_libc_real(&stub_libc_dlerror_slot, "dlerror");
}

/* A failure of rt_natives_dlopen() is said here; any other is libc's.
 * Code that runs before this file's constructor (a sanitizer's runtime,
 * another library's constructor) has libc's looked up at its first call,
 * when no message of ours can be pending. */
char *dlerror(void)
{
    char *(*real)(void) = (char *(*)(void))rt_libc_real(
        &stub_libc_dlerror_slot, "dlerror");
    const char *ours = rt_natives_dlerror();

    if (ours != NULL) {
        (void)real();
        return (char *)ours;
    }
    return real();
}
