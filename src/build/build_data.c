/*
 * build_data.c: data files given with --add-data, stored as DATA entries
 * named by their path inside the program.
 */
#include "build.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Add file `src` to w as `dest`. */
static int data_add_file(bundle_writer *w, const char *src, const char *dest,
                         int level, kl_err *err)
{
    uint8_t *bytes;
    size_t n;
    int r;

    if (kl_read_file(src, &bytes, &n, err) < 0)
        return kl_err_prefix(err, "--add-data");
    r = bundle_writer_add(w, BUNDLE_KIND_DATA, dest, dest, bytes, n, NULL, 0,
                          level, err);
    free(bytes);
    return r;
}

/* Add every file below directory `src` as `dest`/relative path, in sorted
 * order so that builds are reproducible. */
static int data_add_tree(bundle_writer *w, const char *src, const char *dest,
                         int level, kl_err *err)
{
    struct dirent **list = NULL;
    int n = scandir(src, &list, NULL, alphasort), i, r = 0;

    if (n < 0)
        return kl_err_set(err, "--add-data: cannot read directory %s", src);
    for (i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        char s[4096], d[4096];
        struct stat st;

        if (r == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
            strcmp(name, "__pycache__") != 0) {
            if (snprintf(s, sizeof s, "%s/%s", src, name) >= (int)sizeof s ||
                snprintf(d, sizeof d, "%s%s%s", dest, dest[0] ? "/" : "",
                         name) >= (int)sizeof d)
                r = kl_err_set(err, "--add-data: path too long: %s/%s", src,
                               name);
            else if (stat(s, &st) < 0)
                r = kl_err_set(err, "--add-data: cannot read %s", s);
            else if (S_ISDIR(st.st_mode))
                r = data_add_tree(w, s, d, level, err);
            else if (S_ISREG(st.st_mode))
                r = data_add_file(w, s, d, level, err);
        }
        free(list[i]);
    }
    free(list);
    return r;
}

/* As PyInstaller's --add-data: DEST is a directory inside the program
 * ("." for its top); a file SRC lands in it under its own name, a
 * directory SRC's contents land below it. */
int build_data_add(bundle_writer *w, const char *spec, int compress_level,
                   kl_err *err)
{
    const char *colon = strrchr(spec, ':');
    char src[4096];
    char dest[4096];
    struct stat st;
    size_t n;

    if (colon == NULL || (size_t)(colon - spec) >= sizeof src)
        return kl_err_set(err, "--add-data %s: expected SRC:DEST", spec);
    snprintf(src, sizeof src, "%.*s", (int)(colon - spec), spec);
    snprintf(dest, sizeof dest, "%s", colon + 1);
    while (dest[0] == '/' || (dest[0] == '.' && dest[1] == '/'))
        memmove(dest, dest + (dest[0] == '/' ? 1 : 2), strlen(dest));
    n = strlen(dest);
    while (n > 0 && dest[n - 1] == '/')
        dest[--n] = '\0';
    if (strcmp(dest, ".") == 0)
        dest[0] = '\0';
    if (strstr(dest, "..") != NULL)
        return kl_err_set(err, "--add-data %s: DEST must stay inside the "
                               "program", spec);
    if (stat(src, &st) < 0)
        return kl_err_set(err, "--add-data %s: no such file or directory",
                          src);
    if (S_ISDIR(st.st_mode))
        return data_add_tree(w, src, dest, compress_level, err);
    {
        const char *base = strrchr(src, '/');
        char file[8200];

        snprintf(file, sizeof file, "%s%s%s", dest, dest[0] ? "/" : "",
                 base ? base + 1 : src);
        return data_add_file(w, src, file, compress_level, err);
    }
}
