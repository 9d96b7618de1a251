/*
 * fz_data.c: files given with --add-data SRC:DEST, added to the plan as
 * data entries named by their path inside the program.
 */
#include "fz_data.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fz_data_split(const char *spec, char **src, char **dest, kl_err *err)
{
    const char *colon = strrchr(spec, ':');
    char *d;
    size_t n;

    *src = *dest = NULL;
    if (colon == NULL)
        return kl_err_set(err, "--add-data %s: expected SRC:DEST", spec);
    if (colon == spec)
        return kl_err_set(err, "--add-data %s: SRC is empty", spec);
    *src = strndup(spec, (size_t)(colon - spec));
    *dest = d = strdup(colon + 1);
    if (*src == NULL || d == NULL)
        goto oom;
    while (d[0] == '/' || (d[0] == '.' && d[1] == '/'))
        memmove(d, d + (d[0] == '/' ? 1 : 2), strlen(d) - (d[0] == '/' ? 0 : 1));
    n = strlen(d);
    while (n > 0 && d[n - 1] == '/')
        d[--n] = '\0';
    if (strcmp(d, ".") == 0)
        d[0] = '\0';
    if (strstr(d, "..") != NULL) {
        kl_err_set(err, "--add-data %s: DEST must stay inside the program",
                   spec);
        goto fail;
    }
    return 0;

oom:
    kl_err_oom(err);
fail:
    free(*src);
    free(*dest);
    *src = *dest = NULL;
    return -1;
}

/* Add file src to p as dest. */
static int fz_data_file(const char *src, const char *dest, int level,
                        const char *spec, plan *p, kl_err *err)
{
    kl_buf reason = KL_BUF_INIT;
    plan_entry *e;
    int r;

    if (!kl_is_file(src))
        return kl_err_set(err, "--add-data %s: not a regular file", src);
    if (kl_buf_setf(&reason, "--add-data %s", spec) < 0)
        return kl_err_oom(err);
    r = plan_add(p, BUNDLE_KIND_DATA, dest, dest, reason.s, &e, err);
    kl_buf_free(&reason);
    if (r < 0 || plan_entry_origin(e, PLAN_WHY_DATA, NULL, NULL, err) < 0)
        return -1;
    return plan_part_file(&e->data, src, level, err);
}

/* Add every file below directory src to p as dest/<relative path>, in
 * sorted order so that plans are reproducible. */
static int fz_data_tree(const char *src, const char *dest, int level,
                        const char *spec, plan *p, kl_err *err)
{
    struct dirent **list = NULL;
    kl_buf s = KL_BUF_INIT, d = KL_BUF_INIT;
    int n = scandir(src, &list, NULL, alphasort), i, r = 0;

    if (n < 0)
        return kl_err_set(err, "--add-data: cannot read directory %s: %s",
                          src, strerror(errno));
    for (i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        struct stat st;

        if (r == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
            strcmp(name, "__pycache__") != 0) {
            if (kl_path_join(&s, src, name) < 0 ||
                kl_path_join(&d, dest, name) < 0)
                r = kl_err_oom(err);
            else if (stat(s.s, &st) < 0)
                r = kl_err_set(err, "--add-data: cannot read %s: %s", s.s,
                               strerror(errno));
            else if (S_ISDIR(st.st_mode))
                r = fz_data_tree(s.s, d.s, level, spec, p, err);
            else if (S_ISREG(st.st_mode))
                r = fz_data_file(s.s, d.s, level, spec, p, err);
        }
        free(list[i]);
    }
    free(list);
    kl_buf_free(&s);
    kl_buf_free(&d);
    return r;
}

int fz_data_collect(const char *spec, int level, plan *p, kl_err *err)
{
    char *src, *dest;
    const char *base;
    kl_buf file = KL_BUF_INIT;
    struct stat st;
    int r;

    if (fz_data_split(spec, &src, &dest, err) < 0)
        return -1;
    if (stat(src, &st) < 0) {
        r = kl_err_set(err, "--add-data %s: %s", src, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        r = fz_data_tree(src, dest, level, spec, p, err);
    } else {
        base = strrchr(src, '/');
        if (kl_path_join(&file, dest, base ? base + 1 : src) < 0)
            r = kl_err_oom(err);
        else
            r = fz_data_file(src, file.s, level, spec, p, err);
    }
    kl_buf_free(&file);
    free(src);
    free(dest);
    return r;
}
