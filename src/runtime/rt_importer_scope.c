/*
 * rt_importer_scope.c: whose imports an extension module's importers
 * serve. The first sits first on the host's sys.meta_path but answers only
 * for the extension module's own code and the modules it loaded for it,
 * told by the Python frame that asks: the host's own imports go on to the
 * host's finders as if the extension module were not there. The standard
 * library is the host's: the second importer, last on sys.meta_path,
 * serves the modules of it the extension module carries only when the
 * host's own finders have none.
 */
#include "rt_importer.h"

#include <string.h>

/* New reference: the globals of frame f. */
static PyObject *rt_scope_globals(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetGlobals(f);
#else
    Py_INCREF(f->f_globals);
    return f->f_globals;
#endif
}

/* New reference: the frame that called f, or NULL at the bottom. */
static PyFrameObject *rt_scope_back(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x03090000
    return PyFrame_GetBack(f);
#else
    Py_XINCREF(f->f_back);
    return f->f_back;
#endif
}

/* True when s, a module name, is `top` or starts with "top.". */
static int rt_scope_within(const char *s, const char *top, size_t n)
{
    return strncmp(s, top, n) == 0 && (s[n] == '\0' || s[n] == '.');
}

int rt_importer_in_stdlib(const char *s)
{
    PyObject *names = PySys_GetObject("stdlib_module_names"); /* borrowed */
    PyObject *top;
    int r;

    if (rt_scope_within(s, "importlib", 9) ||
        rt_scope_within(s, "_frozen_importlib", 17) ||
        rt_scope_within(s, "_frozen_importlib_external", 26))
        return 1;
    if (names == NULL || !PyAnySet_Check(names))
        return 0;
    top = PyUnicode_FromStringAndSize(s, (Py_ssize_t)strcspn(s, "."));
    r = top ? PySet_Contains(names, top) : -1;
    Py_XDECREF(top);
    if (r < 0)
        PyErr_Clear();
    return r > 0;
}

/* What frame globals g say of the import: 1 the extension module's own
 * code asks, 0 the host's, 2 the standard library's (look further back). */
static int rt_scope_of_globals(rt_importer *self, PyObject *g)
{
    PyObject *loader, *name;
    const char *s, *own;

    if (!PyDict_Check(g))
        return 0;
    loader = PyDict_GetItemString(g, "__loader__"); /* borrowed */
    if (loader == (PyObject *)self)
        return 1;
    name = PyDict_GetItemString(g, "__name__"); /* borrowed */
    if (name == NULL || !PyUnicode_Check(name) ||
        (s = PyUnicode_AsUTF8(name)) == NULL ||
        (own = PyUnicode_AsUTF8(self->own_name)) == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (rt_scope_within(s, own, strlen(own)))
        return 1;
    return rt_importer_in_stdlib(s) ? 2 : 0;
}

int rt_importer_serves_caller(rt_importer *self)
{
    PyFrameObject *f;
    int verdict = 0;

    if (self->role != RT_ROLE_OWN)
        return 1;
    f = PyEval_GetFrame();
    Py_XINCREF(f);
    while (f != NULL) {
        PyObject *g = rt_scope_globals(f);
        PyFrameObject *back;

        verdict = g ? rt_scope_of_globals(self, g) : 0;
        Py_XDECREF(g);
        if (verdict != 2)
            break;
        back = rt_scope_back(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
    return verdict == 1;
}

/* True when path (a package's __path__, or None) names a directory inside
 * self's file: the package is one self loaded. */
static int rt_scope_path_inside(rt_importer *self, PyObject *path)
{
    Py_ssize_t i, n = PyUnicode_GET_LENGTH(self->prefix);

    if (!PyList_Check(path))
        return 0;
    for (i = 0; i < PyList_GET_SIZE(path); i++) {
        PyObject *p = PyList_GET_ITEM(path, i);

        if (PyUnicode_Check(p) &&
            PyUnicode_Tailmatch(p, self->prefix, 0, n, -1) == 1)
            return 1;
    }
    return 0;
}

int rt_importer_serves(rt_importer *self, PyObject *name, PyObject *path,
                       int held)
{
    const char *s;

    switch (self->role) {
    case RT_ROLE_ALL:
        return 1;
    case RT_ROLE_INSIDE:
        return rt_scope_path_inside(self, path);
    case RT_ROLE_FALLBACK:
        break;
    default:
        if (rt_scope_path_inside(self, path))
            return 1;
        break;
    }
    if ((s = PyUnicode_AsUTF8(name)) == NULL)
        return -1;
    if (rt_importer_in_stdlib(s))
        return self->role == RT_ROLE_FALLBACK;
    /* The frames are walked only for a module self holds: the host's own
     * imports of its own modules pay one lookup. */
    return self->role == RT_ROLE_FALLBACK || !held
               ? 0
               : rt_importer_serves_caller(self);
}
