/*
 * fz_locate.c: find modules on disk the way CPython's path finder does:
 * in each directory, a package directory with __init__.py, then an
 * extension module, then a source file; directories without __init__.py
 * are namespace portions, used when nothing else is found.
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

int fz_locate_in_stdlib(const fz_env *env, const char *file)
{
    int i;

    if (strstr(file, "/site-packages/") || strstr(file, "/dist-packages/"))
        return 0;
    for (i = 0; i < 2; i++) {
        size_t n = env->stdlib_dirs[i] ? strlen(env->stdlib_dirs[i]) : 0;

        if (n && strncmp(file, env->stdlib_dirs[i], n) == 0 && file[n] == '/')
            return 1;
    }
    return 0;
}

/* True when file lies in the application's own directory (and not in the
 * standard library or an environment inside it). */
static int fz_locate_in_app(const fz_env *env, const char *file)
{
    size_t n;

    if (env->app_dir == NULL)
        return 0;
    n = strlen(env->app_dir);
    return strncmp(file, env->app_dir, n) == 0 && file[n] == '/' &&
           !fz_locate_in_stdlib(env, file) &&
           strstr(file + n, "-packages/") == NULL;
}

/* Fill m's location fields: found as `kind` at `file` (NULL for a
 * namespace package); its path inside the program is its dotted name as a
 * path, followed by rel_tail. */
static int fz_locate_set(const fz_env *env, fz_module *m, unsigned kind,
                         const char *file, const char *rel_tail, kl_err *err)
{
    kl_buf rel = KL_BUF_INIT;
    char *p;

    if (kl_buf_sets(&rel, m->name) < 0 || kl_buf_adds(&rel, rel_tail) < 0) {
        kl_buf_free(&rel);
        return kl_err_oom(err);
    }
    for (p = rel.s; *p && p < rel.s + strlen(m->name); p++)
        if (*p == '.')
            *p = '/';
    m->state = FZ_FOUND;
    m->kind = kind;
    m->is_package = kind == BUNDLE_KIND_PACKAGE ||
                    kind == BUNDLE_KIND_NAMESPACE;
    m->rel = kl_buf_detach(&rel);
    if (m->rel == NULL)
        return kl_err_oom(err);
    if (file != NULL) {
        m->file = strdup(file);
        if (m->file == NULL)
            return kl_err_oom(err);
        m->stdlib = fz_locate_in_stdlib(env, file);
        m->app = fz_locate_in_app(env, file);
    }
    return 0;
}

/* Look for m in one directory dir; *found says whether it is there. A
 * plain directory named tail is appended to portions. */
static int fz_locate_in(const fz_env *env, fz_module *m, const char *dir,
                        const char *tail, kl_strv *portions, int *found,
                        kl_err *err)
{
    kl_buf path = KL_BUF_INIT, init = KL_BUF_INIT;
    size_t k;
    int r = 0;

    *found = 0;
    if (kl_path_join(&path, dir, tail) < 0)
        goto oom;
    if (kl_is_dir(path.s)) {
        if (kl_path_join(&init, path.s, "__init__.py") < 0)
            goto oom;
        if (kl_is_file(init.s)) {
            *found = 1;
            r = fz_locate_set(env, m, BUNDLE_KIND_PACKAGE, init.s,
                              "/__init__.py", err);
            if (r == 0 && kl_strv_push(&m->dirs, path.s) < 0)
                goto oom;
            goto done;
        }
        if (kl_strv_push(portions, path.s) < 0)
            goto oom;
    }
    for (k = 0; k < env->suffixes.n; k++) {
        if (kl_buf_setf(&path, "%s/%s%s", dir, tail, env->suffixes.v[k]) < 0)
            goto oom;
        if (kl_is_file(path.s)) {
            *found = 1;
            r = fz_locate_set(env, m, BUNDLE_KIND_EXTENSION, path.s,
                              env->suffixes.v[k], err);
            goto done;
        }
    }
    if (kl_buf_setf(&path, "%s/%s.py", dir, tail) < 0)
        goto oom;
    if (kl_is_file(path.s)) {
        *found = 1;
        r = fz_locate_set(env, m, BUNDLE_KIND_MODULE, path.s, ".py", err);
    }
    goto done;
oom:
    r = kl_err_oom(err);
done:
    kl_buf_free(&path);
    kl_buf_free(&init);
    return r;
}

int fz_locate(const fz_env *env, fz_module *m, const char *tail,
              const kl_strv *dirs, int *found, kl_err *err)
{
    kl_strv portions = KL_STRV_INIT;
    size_t i;

    *found = 0;
    for (i = 0; i < dirs->n; i++) {
        if (fz_locate_in(env, m, dirs->v[i], tail, &portions, found,
                         err) < 0) {
            kl_strv_free(&portions);
            return -1;
        }
        if (*found) {
            kl_strv_free(&portions);
            return 0;
        }
    }
    if (portions.n == 0)
        return 0;
    if (fz_locate_set(env, m, BUNDLE_KIND_NAMESPACE, NULL, "", err) < 0) {
        kl_strv_free(&portions);
        return -1;
    }
    m->dirs = portions;
    m->stdlib = fz_locate_in_stdlib(env, portions.v[0]);
    *found = 1;
    return 0;
}

int fz_locate_child(const fz_env *env, const char *dir, const char *entry,
                    char **child, kl_err *err)
{
    kl_buf full = KL_BUF_INIT;
    size_t len = strlen(entry), k, keep = 0;
    int is_dir;

    *child = NULL;
    if (entry[0] == '.' || strcmp(entry, "__pycache__") == 0 ||
        strcmp(entry, "__init__.py") == 0)
        return 0;
    if (kl_path_join(&full, dir, entry) < 0)
        return kl_err_oom(err);
    is_dir = kl_is_dir(full.s);
    kl_buf_free(&full);
    if (is_dir) {
        if (strchr(entry, '.') || strchr(entry, '-'))
            return 0;
        keep = len;
    } else if (len > 3 && strcmp(entry + len - 3, ".py") == 0) {
        keep = len - 3;
    } else {
        for (k = 0; k < env->suffixes.n && keep == 0; k++) {
            size_t sl = strlen(env->suffixes.v[k]);

            if (len > sl && strcmp(entry + len - sl, env->suffixes.v[k]) == 0)
                keep = len - sl;
        }
    }
    if (keep == 0 || memchr(entry, '.', keep) != NULL)
        return 0;
    *child = strndup(entry, keep);
    return *child ? 0 : kl_err_oom(err);
}
