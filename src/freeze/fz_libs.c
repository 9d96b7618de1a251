/*
 * fz_libs.c: the shared libraries an extension module needs: its DT_NEEDED
 * libraries found in the order the dynamic loader looks (the DT_RPATHs of
 * it and of what loads it, LD_LIBRARY_PATH, its DT_RUNPATH with $ORIGIN
 * expanded, as auditwheel's <pkg>.libs directories are found; then the
 * machine's library directories, fz_ldso.c), and what those need in turn;
 * and the list of base-system libraries left to the machine the program
 * runs on. No Python here (the C unit tests use it directly).
 */
#include "fz_libs.h"

#include "fz_dist.h"
#include "../elf/elf_reader.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Set b to dir with every $ORIGIN / ${ORIGIN} replaced by origin. */
static int fz_libs_expand(kl_buf *b, const char *dir, size_t n,
                          const char *origin)
{
    size_t i = 0;

    if (kl_buf_sets(b, "") < 0)
        return -1;
    while (i < n) {
        size_t k = elf_origin_len(dir + i, n - i);

        if ((k ? kl_buf_adds(b, origin) : kl_buf_add(b, dir + i, 1)) < 0)
            return -1;
        i += k ? k : 1;
    }
    return 0;
}

/* Look for `needed` in the colon-separated directories of `paths` (with
 * origin for $ORIGIN); *out gets the real path of the first regular file
 * found (malloc'd), or stays NULL. */
static int fz_libs_search(const char *paths, const char *origin,
                          const char *needed, char **out, kl_err *err)
{
    kl_buf dir = KL_BUF_INIT, file = KL_BUF_INIT;
    const char *p = paths;
    int r = 0;

    while (r == 0 && *out == NULL && p != NULL && *p != '\0') {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);

        if (n > 0) {
            if (fz_libs_expand(&dir, p, n, origin) < 0 ||
                kl_path_join(&file, dir.s, needed) < 0)
                r = kl_err_oom(err);
            else if (kl_is_file(file.s) &&
                     (*out = realpath(file.s, NULL)) == NULL)
                r = kl_err_oom(err);
        }
        p = colon ? colon + 1 : NULL;
    }
    kl_buf_free(&dir);
    kl_buf_free(&file);
    return r;
}

/* One object whose needs are looked at: its file, and the object that
 * needs it (-1 for the extension module), whose DT_RPATH it inherits. */
typedef struct fz_libs_obj {
    char *file;
    char *origin;   /* its directory, for $ORIGIN */
    char *rpath;    /* its DT_RPATH when it has no DT_RUNPATH, else NULL */
    long parent;
} fz_libs_obj;

/* Look for `needed`, asked for by object o of objs (an object for machine),
 * where the dynamic loader would: o's DT_RPATH, then that of the objects
 * that loaded it, up to the extension module (all only when o has no
 * DT_RUNPATH); LD_LIBRARY_PATH; o's DT_RUNPATH; the ld.so cache and the
 * default directories. *found gets the real path or stays NULL; *system
 * is set when it was found in the machine's directories. */
static int fz_libs_find(const fz_libs_obj *objs, long o, const char *runpath,
                        uint16_t machine, const char *needed, char **found,
                        int *system, kl_err *err)
{
    const char *env = getenv("LD_LIBRARY_PATH");
    long up;

    *system = 0;
    for (up = o; runpath == NULL && up >= 0 && *found == NULL;
         up = objs[up].parent)
        if (objs[up].rpath != NULL &&
            fz_libs_search(objs[up].rpath, objs[up].origin, needed, found,
                           err) < 0)
            return -1;
    if (*found == NULL && env != NULL) {
        if (fz_libs_search(env, objs[o].origin, needed, found, err) < 0)
            return -1;
        *system = *found != NULL;
    }
    if (*found == NULL && runpath != NULL &&
        fz_libs_search(runpath, objs[o].origin, needed, found, err) < 0)
        return -1;
    if (*found == NULL) {
        if (fz_ldso_find(needed, machine, found, err) < 0)
            return -1;
        *system = *found != NULL;
    }
    return 0;
}

/* Record library `needed` of libs, found at file (or nowhere: NULL) for
 * the object `by`. */
static int fz_libs_add(fz_libs *libs, const char *needed, const char *file,
                       int system, const char *by, kl_err *err)
{
    if (file == NULL) {
        if (kl_strv_push(&libs->missing, needed) < 0 ||
            kl_strv_push(&libs->missing_by, by) < 0)
            return kl_err_oom(err);
        return 0;
    }
    if (kl_room(&libs->system, &libs->system_cap, libs->names.n + 1, 1) < 0 ||
        kl_strv_push(&libs->names, needed) < 0 ||
        kl_strv_push(&libs->files, file) < 0)
        return kl_err_oom(err);
    libs->system[libs->names.n - 1] = (unsigned char)system;
    return 0;
}

/* The base-system libraries (docs/native.md), as fnmatch(3) patterns of
 * the names objects ask for: glibc's own libraries, the GCC runtime that
 * glibc itself loads, the interpreter (the program is one), and graphics
 * and GPU drivers, which must match the machine's hardware and kernel. */
static const char *const fz_libs_base_list[] = {
    "ld-linux*.so.*", "ld64.so.*", "libc.so.*", "libm.so.*",
    "libmvec.so.*", "libpthread.so.*", "libdl.so.*", "librt.so.*",
    "libutil.so.*", "libresolv.so.*", "libnsl.so.*", "libanl.so.*",
    "libBrokenLocale.so.*", "libthread_db.so.*", "libnss_*.so.*",
    "libc_malloc_debug.so.*", "libmemusage.so", "libpcprofile.so",
    "libgcc_s.so.*",
    "libpython3*.so*",
    "libGL.so.*", "libGLX.so.*", "libGLX_*.so.*", "libEGL.so.*",
    "libEGL_*.so.*", "libGLESv1_CM.so.*", "libGLESv2.so.*",
    "libGLdispatch.so.*", "libOpenGL.so.*", "libvulkan.so.*",
    "libcuda.so.*", "libnvidia-*.so*", "libnvcuvid.so.*",
};

/* Whether name matches one of the n patterns. */
static int fz_libs_match(const char *const *patterns, size_t n,
                         const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (fnmatch(patterns[i], name, 0) == 0)
            return 1;
    return 0;
}

int fz_libs_is_base(const fz_libs *libs, const char *name)
{
    if (libs != NULL &&
        fz_libs_match(libs->bundle_libs, libs->n_bundle_libs, name))
        return 0;
    if (libs != NULL &&
        fz_libs_match(libs->system_libs, libs->n_system_libs, name))
        return 1;
    return fz_libs_match(fz_libs_base_list,
                         sizeof fz_libs_base_list / sizeof *fz_libs_base_list,
                         name);
}

int fz_libs_collect(const char *path, fz_libs *libs, kl_err *err)
{
    fz_libs_obj *objs = NULL;
    size_t n = 0, cap = 0, at;
    int r = 0;

    if (kl_room(&objs, &cap, 1, sizeof *objs) < 0)
        return kl_err_oom(err);
    objs[n++] = (fz_libs_obj){strdup(path), NULL, NULL, -1};
    for (at = 0; r == 0 && at < n; at++) {
        fz_libs_obj *o = &objs[at];
        const char *runpath;
        elf_info info;
        kl_map m;
        size_t i;

        if (o->file == NULL || (o->origin = strdup(o->file)) == NULL) {
            r = kl_err_oom(err);
            break;
        }
        if (strrchr(o->origin, '/') != NULL)
            *strrchr(o->origin, '/') = '\0';
        if (kl_map_file(o->file, &m, err) < 0) {
            r = -1;
            break;
        }
        if (elf_read(m.data, m.size, &info, err) < 0) {
            kl_unmap(&m);
            r = kl_err_prefix(err, "%s", o->file);
            break;
        }
        runpath = info.runpath;
        if (runpath == NULL && info.rpath != NULL &&
            (o->rpath = strdup(info.rpath)) == NULL)
            r = kl_err_oom(err);
        for (i = 0; r == 0 && i < info.n_needed; i++) {
            const char *needed = info.needed[i];
            char *found = NULL;
            int system;

            if (strchr(needed, '/') != NULL ||
                fz_strv_has(&libs->seen, needed))
                continue;
            if (kl_strv_push(&libs->seen, needed) < 0) {
                r = kl_err_oom(err);
                break;
            }
            fz_strv_sort_unique(&libs->seen);
            if (fz_libs_is_base(libs, needed))
                continue;
            r = fz_libs_find(objs, (long)at, runpath, info.machine, needed,
                             &found, &system, err);
            if (r == 0)
                r = fz_libs_add(libs, needed, found, system, objs[at].file,
                                err);
            if (r == 0 && found != NULL) {
                if (kl_room(&objs, &cap, n + 1, sizeof *objs) < 0)
                    r = kl_err_oom(err);
                else
                    objs[n++] = (fz_libs_obj){strdup(found), NULL, NULL,
                                              (long)at};
            }
            free(found);
        }
        elf_info_free(&info);
        kl_unmap(&m);
    }
    for (at = 0; at < n; at++) {
        free(objs[at].file);
        free(objs[at].origin);
        free(objs[at].rpath);
    }
    free(objs);
    return r;
}

void fz_libs_free(fz_libs *libs)
{
    kl_strv_free(&libs->names);
    kl_strv_free(&libs->files);
    free(libs->system);
    libs->system = NULL;
    libs->system_cap = 0;
    kl_strv_free(&libs->missing);
    kl_strv_free(&libs->missing_by);
    kl_strv_free(&libs->seen);
}
