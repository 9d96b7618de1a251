/*
 * fz_libs.h: the shared libraries extension modules bring with them (the
 * ones their RPATH or RUNPATH finds, as auditwheel's <pkg>.libs), to be
 * bundled and loaded from memory before the module. No Python here (the
 * C unit tests use it directly).
 */
#ifndef KILN_FZ_LIBS_H
#define KILN_FZ_LIBS_H

#include "../common/kl_common.h"

/* Libraries found so far: names[i] (the DT_NEEDED name the dynamic loader
 * is asked for, normally the library's DT_SONAME) lies at files[i] (a real
 * path), in the order found; seen holds the names, sorted, so that each
 * is taken once. FZ_LIBS_INIT is empty. */
typedef struct fz_libs {
    kl_strv names;
    kl_strv files;
    kl_strv seen;
} fz_libs;
#define FZ_LIBS_INIT {KL_STRV_INIT, KL_STRV_INIT, KL_STRV_INIT}

/* Add to libs every library the shared object at path needs (DT_NEEDED)
 * that the dynamic loader finds through that object's own paths: its
 * DT_RUNPATH when it has one, else its DT_RPATH and then the DT_RPATHs of
 * the objects that load it ($ORIGIN and ${ORIGIN} expanded to each one's
 * directory); and, the same way, what those need. A name libs holds already is not looked for again. A
 * library found only in the system's directories is not added. Fails on
 * an object that cannot be read as ELF, naming it. */
int fz_libs_collect(const char *path, fz_libs *libs, kl_err *err);

/* Free what libs holds; it is empty again. */
void fz_libs_free(fz_libs *libs);

#endif
