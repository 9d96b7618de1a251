/*
 * rt_importer_path.c: submodules found where their parent's __path__
 * says, as importlib's path finder finds them: when a package's __path__
 * names another bundled directory than the one of the same name (a module
 * installed under another name, as setuptools installs its _distutils as
 * distutils), the submodule is that directory's.
 */
#include "rt_importer.h"

#include <string.h>

/* The directory below the root that holds module entry e ("" at the top),
 * as its start and length inside the entry's path. */
static void rt_importer_home(const bundle_view *v, const bundle_entry *e,
                             const char **dir, size_t *len)
{
    const char *path = bundle_entry_path(v, e);
    const char *end = path + strlen(path);
    int up = e->kind == BUNDLE_KIND_PACKAGE ? 2 : 1;

    while (up-- > 0) {
        while (end > path && end[-1] != '/')
            end--;
        if (end > path)
            end--;
    }
    *dir = path;
    *len = (size_t)(end - path);
}

/* The part of path entry item below the program's root (prefix "<root>/"
 * of n bytes), or NULL when it lies elsewhere or is no str. */
static const char *rt_importer_below_root(PyObject *item, const char *prefix,
                                          Py_ssize_t n, Py_ssize_t *len)
{
    const char *s;

    if (!PyUnicode_Check(item) ||
        (s = PyUnicode_AsUTF8AndSize(item, len)) == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (*len < n || memcmp(s, prefix, (size_t)n) != 0)
        return NULL;
    *len -= n;
    return s + n;
}

/* Drop what self->aliases says of `name`: RT_PATH_ITSELF, or -1 with an
 * exception set. */
static int rt_importer_forget(rt_importer *self, PyObject *name)
{
    if (self->aliases != NULL &&
        PyDict_GetItemWithError(self->aliases, name) != NULL &&
        PyDict_DelItem(self->aliases, name) < 0)
        return -1;
    return PyErr_Occurred() ? -1 : RT_PATH_ITSELF;
}

/* The entry of the module `tail` of the bundled directory rel[0, len), a
 * package's: named after the directory ("a/b" + "c" is "a.b.c"). *found
 * gets its name (a new reference) when there is one. -1 with an
 * exception set. */
static int rt_importer_in_dir(rt_importer *self, const char *rel,
                              Py_ssize_t len, const char *tail,
                              PyObject **found)
{
    kl_buf name = KL_BUF_INIT;
    const bundle_entry *e;
    const char *dir;
    size_t dlen;
    size_t i;

    *found = NULL;
    if (len == 0)
        return 0;
    if (kl_buf_add(&name, rel, (size_t)len) < 0 ||
        kl_buf_addf(&name, ".%s", tail) < 0) {
        kl_buf_free(&name);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < (size_t)len; i++)
        if (name.s[i] == '/')
            name.s[i] = '.';
    e = rt_program_find(&self->prog->bundle, BUNDLE_NS_MODULE, name.s,
                        name.len);
    if (e != NULL) {
        rt_importer_home(&self->prog->bundle, e, &dir, &dlen);
        if (dlen == (size_t)len && memcmp(dir, rel, dlen) == 0 &&
            (*found = PyUnicode_FromStringAndSize(name.s,
                                                  (Py_ssize_t)name.len)) ==
                NULL) {
            kl_buf_free(&name);
            return -1;
        }
    }
    kl_buf_free(&name);
    return 0;
}

int rt_importer_follow_path(rt_importer *self, PyObject *name, PyObject *path)
{
    const char *full, *tail, *prefix, *dir, *rel;
    Py_ssize_t n, plen, len, i;
    const bundle_entry *e;
    PyObject *found = NULL;
    int inside = 0, r;
    size_t dlen;

    if (!PyList_Check(path) || (full = PyUnicode_AsUTF8AndSize(name, &n)) ==
                                   NULL ||
        (tail = strrchr(full, '.')) == NULL ||
        (prefix = PyUnicode_AsUTF8AndSize(self->prefix, &plen)) == NULL)
        return PyErr_Occurred() ? -1 : RT_PATH_ITSELF;
    tail++;
    e = rt_program_find(&self->prog->bundle, BUNDLE_NS_MODULE, full,
                        (size_t)n);
    if (e != NULL)
        rt_importer_home(&self->prog->bundle, e, &dir, &dlen);
    for (i = 0; i < PyList_GET_SIZE(path); i++) {
        rel = rt_importer_below_root(PyList_GET_ITEM(path, i), prefix, plen,
                                     &len);
        inside |= rel != NULL;
        if (rel != NULL && e != NULL && (size_t)len == dlen &&
            memcmp(rel, dir, dlen) == 0)
            return rt_importer_forget(self, name);
    }
    for (i = 0; found == NULL && i < PyList_GET_SIZE(path); i++) {
        rel = rt_importer_below_root(PyList_GET_ITEM(path, i), prefix, plen,
                                     &len);
        if (rel != NULL && rt_importer_in_dir(self, rel, len, tail, &found) < 0)
            return -1;
    }
    if (found == NULL) {
        /* A path outside the program (a package given real files) says
         * nothing the bundle could contradict. */
        r = rt_importer_forget(self, name);
        return r < 0 ? -1 : e != NULL && inside ? RT_PATH_NONE : r;
    }
    if (self->aliases == NULL && (self->aliases = PyDict_New()) == NULL) {
        Py_DECREF(found);
        return -1;
    }
    r = PyDict_SetItem(self->aliases, name, found);
    Py_DECREF(found);
    return r < 0 ? -1 : RT_PATH_ALIAS;
}
