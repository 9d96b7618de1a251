/*
 * fz_libs.c: the shared libraries an extension module brings with it: the
 * DT_NEEDED libraries the dynamic loader finds through the object's own
 * DT_RUNPATH, or the DT_RPATHs of it and of what loads it ($ORIGIN
 * expanded), as auditwheel's <pkg>.libs directories are found, and what
 * those need in turn. A library found
 * only in the system's directories is left to the machine the program
 * runs on. No Python here (the C unit tests use it directly).
 */
#include "fz_libs.h"

#include "fz_dist.h"
#include "../elf/elf_reader.h"

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
        if (n - i >= 7 && memcmp(dir + i, "$ORIGIN", 7) == 0) {
            if (kl_buf_adds(b, origin) < 0)
                return -1;
            i += 7;
        } else if (n - i >= 9 && memcmp(dir + i, "${ORIGIN}", 9) == 0) {
            if (kl_buf_adds(b, origin) < 0)
                return -1;
            i += 9;
        } else {
            if (kl_buf_add(b, dir + i, 1) < 0)
                return -1;
            i++;
        }
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

/* Look for `needed`, asked for by object o of objs, where the dynamic
 * loader would: o's DT_RUNPATH when it has one; else o's DT_RPATH, then
 * that of the objects that loaded it, up to the extension module. */
static int fz_libs_find(const fz_libs_obj *objs, long o, const char *runpath,
                        const char *needed, char **found, kl_err *err)
{
    if (runpath != NULL)
        return fz_libs_search(runpath, objs[o].origin, needed, found, err);
    for (; o >= 0 && *found == NULL; o = objs[o].parent)
        if (objs[o].rpath != NULL &&
            fz_libs_search(objs[o].rpath, objs[o].origin, needed, found,
                           err) < 0)
            return -1;
    return 0;
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

            if (strchr(needed, '/') != NULL || fz_strv_has(&libs->seen, needed))
                continue;
            r = fz_libs_find(objs, (long)at, runpath, needed, &found, err);
            if (r == 0 && found != NULL) {
                if (kl_strv_push(&libs->names, needed) < 0 ||
                    kl_strv_push(&libs->files, found) < 0 ||
                    kl_strv_push(&libs->seen, needed) < 0 ||
                    kl_room(&objs, &cap, n + 1, sizeof *objs) < 0)
                    r = kl_err_oom(err);
                else
                    objs[n++] = (fz_libs_obj){strdup(found), NULL, NULL,
                                              (long)at};
                fz_strv_sort_unique(&libs->seen);
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
    kl_strv_free(&libs->seen);
}
