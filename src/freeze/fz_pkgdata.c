/*
 * fz_pkgdata.c: which files of a package directory are package data, and
 * which files of a .dist-info directory a program carries; both listed as
 * (location, file) pairs for the plan.
 */
#include "fz_pkgdata.h"

#include "../elf/elf_reader.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Files that are code, or that only building an extension needs. */
static const char *const fz_not_data[] = {
    ".py", ".pyc", ".pyo", ".pyi", ".c", ".h", ".cpp", ".hpp", ".pyx",
    ".pxd", ".pxi", ".a", ".o",
};

/* What a .dist-info directory holds for the installer alone. */
static const char *const fz_installer_only[] = {
    "INSTALLER", "REQUESTED", "direct_url.json",
};

const char *fz_pkgdata_src(const char *item)
{
    return item + strlen(item) + 1;
}

/* True when name ends with suffix. */
static int fz_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);

    return n >= s && strcmp(name + n - s, suffix) == 0;
}

/* Whether the file at path, named name, is an extension module: its
 * dynamic symbols name PyInit_<the name up to its first dot>. */
static int fz_pkgdata_is_extension(const char *path, const char *name)
{
    kl_buf init = KL_BUF_INIT;
    kl_map m;
    kl_err err;
    int r;

    if (kl_map_file(path, &m, &err) < 0)
        return 1;
    if (kl_buf_setf(&init, "PyInit_%.*s", (int)strcspn(name, "."), name) < 0)
        r = 1;
    else
        r = elf_dynstr_has(m.data, m.size, init.s);
    kl_buf_free(&init);
    kl_unmap(&m);
    return r;
}

int fz_pkgdata_is_data(const char *path, const char *name,
                       const kl_strv *suffixes)
{
    size_t i;

    for (i = 0; i < sizeof fz_not_data / sizeof fz_not_data[0]; i++)
        if (fz_ends_with(name, fz_not_data[i]))
            return 0;
    for (i = 0; i < suffixes->n; i++)
        if (fz_ends_with(name, suffixes->v[i]))
            return path != NULL && !fz_pkgdata_is_extension(path, name);
    return 1;
}

/* Append the pair (loc, src) to out. */
static int fz_pkgdata_push(kl_strv *out, const char *loc, const char *src,
                           kl_err *err)
{
    size_t a = strlen(loc) + 1, b = strlen(src) + 1;
    char *item = malloc(a + b);

    if (item == NULL)
        return kl_err_oom(err);
    memcpy(item, loc, a);
    memcpy(item + a, src, b);
    return kl_strv_take(out, item) < 0 ? kl_err_oom(err) : 0;
}

/* How a directory is walked. */
typedef struct fz_walk {
    int whole_tree;              /* into packages too */
    const kl_strv *suffixes;     /* package data: module suffixes; NULL
                                    for a .dist-info directory */
    kl_strv *out;
} fz_walk;

/* True when directory entry name (the file at path) of a walk is left
 * out. */
static int fz_walk_skips(const fz_walk *w, const char *path, const char *name,
                         int is_dir)
{
    size_t i;

    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strcmp(name, "__pycache__") == 0)
        return 1;
    if (is_dir)
        return 0;
    if (w->suffixes != NULL)
        return !fz_pkgdata_is_data(path, name, w->suffixes);
    for (i = 0; i < sizeof fz_installer_only / sizeof fz_installer_only[0];
         i++)
        if (strcmp(name, fz_installer_only[i]) == 0)
            return 1;
    return 0;
}

/* Add the files of directory dir at location loc, by w's rules; depth > 0
 * for subdirectories, where a package of its own stops the walk. */
static int fz_walk_dir(const fz_walk *w, const char *dir, const char *loc,
                       int depth, kl_err *err)
{
    struct dirent **list = NULL;
    kl_buf src = KL_BUF_INIT, dst = KL_BUF_INIT;
    int n, i, r = 0;

    if (depth > 0 && !w->whole_tree && w->suffixes != NULL) {
        if (kl_path_join(&src, dir, "__init__.py") < 0)
            return kl_err_oom(err);
        i = kl_is_file(src.s);
        kl_buf_free(&src);
        if (i)
            return 0; /* a package: its data goes with it */
    }
    n = scandir(dir, &list, NULL, alphasort);
    for (i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        struct stat st;

        if (r == 0 && (kl_path_join(&src, dir, name) < 0 ||
                       kl_path_join(&dst, loc, name) < 0))
            r = kl_err_oom(err);
        if (r == 0 && stat(src.s, &st) == 0 &&
            !fz_walk_skips(w, src.s, name, S_ISDIR(st.st_mode))) {
            if (S_ISDIR(st.st_mode) && depth < 64)
                r = fz_walk_dir(w, src.s, dst.s, depth + 1, err);
            else if (S_ISREG(st.st_mode))
                r = fz_pkgdata_push(w->out, dst.s, src.s, err);
        }
        free(list[i]);
    }
    free(list);
    kl_buf_free(&src);
    kl_buf_free(&dst);
    return r;
}

int fz_pkgdata_list(const char *dir, const char *loc, int whole_tree,
                    const kl_strv *suffixes, kl_strv *out, kl_err *err)
{
    fz_walk w = {whole_tree, suffixes, out};

    return fz_walk_dir(&w, dir, loc, 0, err);
}

int fz_pkgdata_dist_info(const char *info, const char *base, kl_strv *out,
                         kl_err *err)
{
    fz_walk w = {1, NULL, out};

    return fz_walk_dir(&w, info, base, 0, err);
}
