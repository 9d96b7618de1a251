/*
 * build_locate.c: find modules on disk the way CPython's path finder does:
 * in each directory, a package directory with __init__.py, then an
 * extension module, then a source file; directories without __init__.py
 * are namespace portions, used when nothing else is found.
 */
#include "build_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int build_path_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int build_path_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* New malloc'd string a + b + c. NULL when out of memory. */
char *build_str_join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* Append a copy of s to the string array *arr of *n items. */
int build_strv_push(char ***arr, size_t *n, const char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof **arr);

    if (grown == NULL)
        return -1;
    *arr = grown;
    grown[*n] = strdup(s);
    if (grown[*n] == NULL)
        return -1;
    (*n)++;
    return 0;
}

void build_strv_free(char **arr, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(arr[i]);
    free(arr);
}

/* Copy of a Python list of str into a C string array. */
int build_strv_from_list(PyObject *list, char ***arr, size_t *n, int dirs_only)
{
    Py_ssize_t i;

    for (i = 0; i < PyList_Size(list); i++) {
        PyObject *item = PyList_GetItem(list, i);
        PyObject *enc;
        int r;

        if (!PyUnicode_Check(item))
            continue;
        enc = PyUnicode_EncodeFSDefault(item);
        if (enc == NULL)
            return -1;
        r = 0;
        if (!dirs_only || build_path_is_dir(PyBytes_AS_STRING(enc)))
            r = build_strv_push(arr, n, PyBytes_AS_STRING(enc));
        Py_DECREF(enc);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* True when file lies in the standard library (not in site-packages). */
int build_locate_in_stdlib(build_graph *g, const char *file)
{
    int i;

    if (strstr(file, "/site-packages/") || strstr(file, "/dist-packages/"))
        return 0;
    for (i = 0; i < 2; i++) {
        size_t n = g->stdlib_dirs[i] ? strlen(g->stdlib_dirs[i]) : 0;

        if (n && strncmp(file, g->stdlib_dirs[i], n) == 0 && file[n] == '/')
            return 1;
    }
    return 0;
}

/* Fill m's location fields from a file found on disk. */
static int module_set_file(build_graph *g, build_module *m, unsigned kind,
                           const char *file, const char *rel_tail)
{
    char *rel_base = strdup(m->name);
    char *p;

    if (rel_base == NULL)
        return -1;
    for (p = rel_base; *p; p++)
        if (*p == '.')
            *p = '/';
    m->state = MOD_FOUND;
    m->kind = kind;
    m->is_package = kind == BUNDLE_KIND_PACKAGE || kind == BUNDLE_KIND_NAMESPACE;
    m->rel = build_str_join3(rel_base, rel_tail, "");
    free(rel_base);
    if (m->rel == NULL)
        return -1;
    if (file != NULL) {
        m->file = strdup(file);
        if (m->file == NULL)
            return -1;
        m->stdlib = build_locate_in_stdlib(g, file);
        m->app = g->app_dir != NULL &&
                 strncmp(file, g->app_dir, strlen(g->app_dir)) == 0 &&
                 file[strlen(g->app_dir)] == '/' && !m->stdlib &&
                 strstr(file + strlen(g->app_dir), "-packages/") == NULL;
    }
    return 0;
}

/* Locate module m (last component `tail`) in directories dirs, as
 * importlib's FileFinder would. Returns 1 found, 0 not found, -1 error. */
int build_locate(build_graph *g, build_module *m, const char *tail,
                        char **dirs, size_t ndirs)
{
    char **portions = NULL;
    size_t nportions = 0, i, k;
    char path[4096];

    for (i = 0; i < ndirs; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], tail);
        if (build_path_is_dir(path)) {
            char init[4200];

            snprintf(init, sizeof init, "%s/__init__.py", path);
            if (build_path_is_file(init)) {
                build_strv_free(portions, nportions);
                if (module_set_file(g, m, BUNDLE_KIND_PACKAGE, init,
                                    "/__init__.py") < 0)
                    return -1;
                return build_strv_push(&m->dirs, &m->ndirs, path) < 0 ? -1 : 1;
            }
        }
        for (k = 0; k < g->nsuffixes; k++) {
            snprintf(path, sizeof path, "%s/%s%s", dirs[i], tail,
                     g->suffixes[k]);
            if (build_path_is_file(path)) {
                build_strv_free(portions, nportions);
                return module_set_file(g, m, BUNDLE_KIND_EXTENSION, path,
                                       g->suffixes[k]) < 0 ? -1 : 1;
            }
        }
        snprintf(path, sizeof path, "%s/%s.py", dirs[i], tail);
        if (build_path_is_file(path)) {
            build_strv_free(portions, nportions);
            return module_set_file(g, m, BUNDLE_KIND_MODULE, path, ".py") < 0
                       ? -1 : 1;
        }
        snprintf(path, sizeof path, "%s/%s", dirs[i], tail);
        if (build_path_is_dir(path) && build_strv_push(&portions, &nportions, path) < 0)
            return -1;
    }
    if (nportions == 0)
        return 0;
    if (module_set_file(g, m, BUNDLE_KIND_NAMESPACE, NULL, "") < 0) {
        build_strv_free(portions, nportions);
        return -1;
    }
    m->dirs = portions;
    m->ndirs = nportions;
    m->stdlib = build_locate_in_stdlib(g, portions[0]);
    return 1;
}

/* The module name a directory entry of a package stands for, written to
 * child (size n), or 0 when the entry is not a module. */
int build_locate_child_name(build_graph *g, const char *dir, const char *entry,
                            char *child, size_t n)
{
    char full[4200];
    size_t len = strlen(entry), k;

    if (entry[0] == '.' || strcmp(entry, "__pycache__") == 0 ||
        strcmp(entry, "__init__.py") == 0 || len >= n)
        return 0;
    snprintf(full, sizeof full, "%s/%s", dir, entry);
    if (build_path_is_dir(full)) {
        if (strchr(entry, '.') || strchr(entry, '-'))
            return 0;
        snprintf(child, n, "%s", entry);
        return 1;
    }
    if (len > 3 && strcmp(entry + len - 3, ".py") == 0) {
        snprintf(child, n, "%.*s", (int)(len - 3), entry);
        return strchr(child, '.') == NULL;
    }
    for (k = 0; k < g->nsuffixes; k++) {
        size_t sl = strlen(g->suffixes[k]);

        if (len > sl && strcmp(entry + len - sl, g->suffixes[k]) == 0) {
            snprintf(child, n, "%.*s", (int)(len - sl), entry);
            return strchr(child, '.') == NULL;
        }
    }
    return 0;
}
