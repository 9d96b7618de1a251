/*
 * fz_libs.h: the shared libraries extension modules need, found as the
 * dynamic loader finds them (fz_libs.c: the objects' own paths, then
 * fz_ldso.c: the ld.so cache and default directories), to be bundled and
 * loaded from memory before the module; and the base-system libraries
 * that are left to the machine the program runs on. No Python here (the
 * C unit tests and `kiln analyze` use it directly).
 */
#ifndef KILN_FZ_LIBS_H
#define KILN_FZ_LIBS_H

#include <stdint.h>

#include "../common/kl_common.h"

/* Libraries found so far: names[i] (the DT_NEEDED name the dynamic loader
 * is asked for, normally the library's DT_SONAME) lies at files[i] (a real
 * path), in the order found; system[i] is nonzero when it was found in the
 * machine's library directories (LD_LIBRARY_PATH, the ld.so cache, the
 * default directories) rather than through a search path of the objects
 * that need it. missing[i] was needed by missing_by[i] (a file) and found
 * nowhere. seen holds every name looked for, sorted, so that each is
 * looked for once.
 *
 * The caller may set system_libs and bundle_libs (borrowed patterns, as
 * fnmatch(3) reads them) before collecting: a name matching system_libs
 * is left to the machine as a base-system library is; one matching
 * bundle_libs is bundled even when it is a base-system library. FZ_LIBS_INIT
 * is empty. */
typedef struct fz_libs {
    kl_strv names;
    kl_strv files;
    unsigned char *system;
    size_t system_cap;
    kl_strv missing;
    kl_strv missing_by;
    kl_strv seen;
    const char *const *system_libs;
    size_t n_system_libs;
    const char *const *bundle_libs;
    size_t n_bundle_libs;
} fz_libs;
#define FZ_LIBS_INIT                                                        \
    {KL_STRV_INIT, KL_STRV_INIT, NULL, 0, KL_STRV_INIT, KL_STRV_INIT,       \
     KL_STRV_INIT, NULL, 0, NULL, 0}

/* Add to libs every library the shared object at path needs (DT_NEEDED),
 * and what those need in turn, found where the dynamic loader looks: the
 * object's DT_RPATH and those of the objects that load it (when it has no
 * DT_RUNPATH), LD_LIBRARY_PATH, its DT_RUNPATH ($ORIGIN and ${ORIGIN}
 * expanded to each object's directory), then the ld.so cache and the
 * default directories (fz_ldso_find). Base-system libraries
 * (fz_libs_is_base) are neither added nor followed; a library found
 * nowhere goes to libs->missing. A name libs has looked for already is
 * not looked for again. Fails on an object that cannot be read as ELF,
 * naming it. */
int fz_libs_collect(const char *path, fz_libs *libs, kl_err *err);

/* Whether the library the dynamic loader is asked for by name belongs to
 * the machine a program runs on rather than to the program: glibc's own
 * libraries, the GCC runtime, graphics and GPU drivers, and libpython
 * (the program carries its own interpreter), as docs/native.md lists
 * them; libs' system_libs add to that list, its bundle_libs take from it
 * (libs may be NULL: the list alone). */
int fz_libs_is_base(const fz_libs *libs, const char *name);

/* Free what libs holds (not the borrowed patterns); it is empty again. */
void fz_libs_free(fz_libs *libs);

/* Look for the library named needed where this machine's dynamic loader
 * looks when an object's own search paths have nothing: the ld.so cache,
 * then the default directories; only an ELF object for machine (an
 * e_machine value) counts. *out gets its real path, malloc'd, or NULL
 * when there is none. Fails only when out of memory. */
int fz_ldso_find(const char *needed, uint16_t machine, char **out,
                 kl_err *err);

/* Look for needed in the ld.so cache file at cache (ldconfig's format
 * 1.1, alone or after the 1.7.0 entries): *out gets the real path of an
 * entry of that name whose file is an ELF object for machine (one without
 * hardware-capability bits preferred: it runs on every CPU), malloc'd,
 * or NULL. A missing, unreadable, old-only or damaged cache is an empty
 * one: no read outside it. Fails only when out of memory. */
int fz_ldso_cache(const char *cache, const char *needed, uint16_t machine,
                  char **out, kl_err *err);

#endif
