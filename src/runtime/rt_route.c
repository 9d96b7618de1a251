/*
 * rt_route.c: the packages of a one-file program that get real files
 * (BUNDLE_FLAG_FILES, `kiln build --files`, or data holding native code).
 * When such a package is run, its directory of the program's tree is
 * written to the per-user cache (rt_cache.c), and from then on the
 * package and every module inside it are located there: __file__,
 * __path__, the spec's origin and search locations name real files.
 */
#include "rt.h"

#include <string.h>

/* One package given real files: its directory in the program ("pkg/sub")
 * and where its files are. */
typedef struct rt_route {
    char *rel;
    size_t rel_len;
    char *dir;
} rt_route;

static rt_route *rt_routes;
static size_t rt_n_routes, rt_cap_routes;

/* The route of tree directory rel[0, len), or NULL. */
static const rt_route *rt_route_of(const char *rel, size_t len)
{
    size_t i;

    for (i = 0; i < rt_n_routes; i++)
        if (rt_routes[i].rel_len == len && memcmp(rt_routes[i].rel, rel, len) == 0)
            return &rt_routes[i];
    return NULL;
}

int rt_route_location(const char *rel, PyObject **out)
{
    size_t i, len = strlen(rel);

    *out = NULL;
    for (i = 0; i < rt_n_routes; i++) {
        const rt_route *r = &rt_routes[i];

        if (len > r->rel_len && rel[r->rel_len] == '/' &&
            memcmp(rel, r->rel, r->rel_len) == 0) {
            *out = PyUnicode_FromFormat("%s%s", r->dir, rel + r->rel_len);
            return *out ? 1 : -1;
        }
    }
    return 0;
}

/* Set the attributes of package module and of its spec that say where it
 * lies to real directory dir. */
static int rt_route_locate(PyObject *module, const char *dir)
{
    PyObject *file = PyUnicode_FromFormat("%s/__init__.py", dir);
    PyObject *path = PyUnicode_DecodeFSDefault(dir);
    PyObject *spec = PyObject_GetAttrString(module, "__spec__");
    PyObject *list = path ? PyList_New(1) : NULL;
    int r = -1;

    if (list != NULL)
        PyList_SET_ITEM(list, 0, Py_NewRef(path));
    if (file && list && spec &&
        PyObject_SetAttrString(module, "__file__", file) == 0 &&
        PyObject_SetAttrString(module, "__path__", list) == 0 &&
        PyObject_SetAttrString(spec, "origin", file) == 0 &&
        PyObject_SetAttrString(spec, "submodule_search_locations",
                               list) == 0)
        r = 0;
    Py_XDECREF(file);
    Py_XDECREF(path);
    Py_XDECREF(spec);
    Py_XDECREF(list);
    return r;
}

int rt_route_package(const rt_program *prog, const char *rel,
                     PyObject *module)
{
    const rt_route *known = rt_route_of(rel, strlen(rel));
    kl_buf dir = KL_BUF_INIT;
    rt_route *r;
    kl_err err;

    if (known != NULL)
        return rt_route_locate(module, known->dir);
    if (rt_cache_tree(prog->root, rel, &dir, &err) < 0) {
        PyErr_Format(PyExc_ImportError,
                     "%s: cannot give package directory %s real files: %s "
                     "(set XDG_CACHE_HOME to a directory of yours)",
                     prog->path, rel, err.msg);
        kl_buf_free(&dir);
        return -1;
    }
    if (kl_room(&rt_routes, &rt_cap_routes, rt_n_routes + 1,
                sizeof(*rt_routes)) < 0) {
        kl_buf_free(&dir);
        PyErr_NoMemory();
        return -1;
    }
    r = &rt_routes[rt_n_routes];
    r->rel = strdup(rel);
    r->rel_len = strlen(rel);
    r->dir = kl_buf_detach(&dir);
    if (r->rel == NULL || r->dir == NULL) {
        free(r->rel);
        free(r->dir);
        PyErr_NoMemory();
        return -1;
    }
    rt_n_routes++;
    return rt_route_locate(module, r->dir);
}
