/*
 * rt_importer_spec.c: the ModuleSpec of a bundled module, and the module
 * object importlib makes from it, made in C with what importlib would put
 * in them. Through importlib's Python code the spec cost a call of
 * ModuleSpec.__init__ and two property setters, and the module three
 * failed attribute lookups in _init_module_attrs (__path__, __file__,
 * __cached__), each raising and formatting an AttributeError on 3.11:
 * together more than the rest of importing an empty module from the
 * bundle (docs/runtime.md, "The importer").
 */
#include "rt_importer.h"

#include <string.h>

/* What rt_importer_spec_init learnt each attribute of a new ModuleSpec
 * holds, in the order ModuleSpec.__init__ sets them. */
enum rt_spec_fill {
    RT_SPEC_NAME = 0,
    RT_SPEC_LOADER,
    RT_SPEC_ORIGIN,
    RT_SPEC_LOCATIONS, /* submodule_search_locations */
    RT_SPEC_FILEATTR,  /* _set_fileattr: has_location */
    RT_SPEC_CACHED,    /* _cached */
    RT_SPEC_KNOWN,     /* the six above must all be there */
    RT_SPEC_NONE = RT_SPEC_KNOWN,
    RT_SPEC_FALSE,
    RT_SPEC_EMPTY_LIST /* a new empty list each time */
};

static const char *const rt_spec_known[RT_SPEC_KNOWN] = {
    "name", "loader", "origin", "submodule_search_locations",
    "_set_fileattr", "_cached"};

int rt_importer_spec_init(rt_importer *self)
{
    PyObject *t, *d = NULL, *keys = NULL, *key, *value;
    Py_ssize_t pos = 0, n = 0;
    unsigned seen = 0;
    int ok = 1;

    self->spec_keys = NULL;
    t = PyObject_CallFunction(self->spec_type, "sO", "kiln", Py_None);
    if (t == NULL)
        return -1;
    d = PyObject_GenericGetDict(t, NULL);
    keys = d != NULL && PyDict_Check(d) ? PyTuple_New(PyDict_GET_SIZE(d))
                                        : NULL;
    if (keys == NULL || PyDict_GET_SIZE(d) > RT_SPEC_MAX) {
        Py_DECREF(t);
        Py_XDECREF(d);
        Py_XDECREF(keys);
        PyErr_Clear();
        return 0;
    }
    while (ok && PyDict_Next(d, &pos, &key, &value)) {
        int i;

        for (i = 0; i < RT_SPEC_KNOWN; i++)
            if (PyUnicode_CompareWithASCIIString(key, rt_spec_known[i]) == 0)
                break;
        if (i == RT_SPEC_KNOWN)
            i = value == Py_None    ? RT_SPEC_NONE
                : value == Py_False ? RT_SPEC_FALSE
                : PyList_CheckExact(value) && PyList_GET_SIZE(value) == 0
                    ? RT_SPEC_EMPTY_LIST
                    : -1;
        else
            seen |= 1u << i;
        ok = i >= 0;
        if (ok) {
            self->spec_fill[n] = (unsigned char)i;
            PyTuple_SET_ITEM(keys, n++, Py_NewRef(key));
        }
    }
    if (ok && seen == (1u << RT_SPEC_KNOWN) - 1)
        self->spec_keys = Py_NewRef(keys);
    Py_DECREF(t);
    Py_DECREF(d);
    Py_DECREF(keys);
    return 0;
}

/* The value attribute `fill` of a new spec gets. New reference, NULL when
 * out of memory. */
static PyObject *rt_spec_value(int fill, PyObject *name, PyObject *loader,
                               PyObject *origin, PyObject *locations,
                               PyObject *cached)
{
    switch (fill) {
    case RT_SPEC_NAME:
        return Py_NewRef(name);
    case RT_SPEC_LOADER:
        return Py_NewRef(loader);
    case RT_SPEC_ORIGIN:
        return Py_NewRef(origin);
    case RT_SPEC_LOCATIONS:
        return Py_NewRef(locations ? locations : Py_None);
    case RT_SPEC_FILEATTR:
        return Py_NewRef(origin != Py_None ? Py_True : Py_False);
    case RT_SPEC_CACHED:
        return Py_NewRef(cached ? cached : Py_None);
    case RT_SPEC_FALSE:
        return Py_NewRef(Py_False);
    case RT_SPEC_EMPTY_LIST:
        return PyList_New(0);
    default:
        return Py_NewRef(Py_None);
    }
}

/* The spec by ModuleSpec's own constructor and property setters, where
 * rt_importer_spec_init found a ModuleSpec it does not know. */
static PyObject *rt_spec_by_constructor(rt_importer *self, PyObject *name,
                                        PyObject *origin, PyObject *locations,
                                        PyObject *cached)
{
    PyObject *spec = PyObject_CallFunction(self->spec_type, "OO", name,
                                           (PyObject *)self);

    if (spec != NULL &&
        (PyObject_SetAttrString(spec, "origin", origin) < 0 ||
         (origin != Py_None &&
          PyObject_SetAttrString(spec, "has_location", Py_True) < 0) ||
         (cached && PyObject_SetAttrString(spec, "cached", cached) < 0) ||
         (locations && PyObject_SetAttrString(
                           spec, "submodule_search_locations", locations) < 0)))
        Py_CLEAR(spec);
    return spec;
}

PyObject *rt_importer_new_spec(rt_importer *self, PyObject *name,
                               PyObject *origin, PyObject *locations,
                               PyObject *cached)
{
    PyTypeObject *tp = (PyTypeObject *)self->spec_type;
    PyObject *spec, *none;
    Py_ssize_t i;

    if (self->spec_keys == NULL)
        return rt_spec_by_constructor(self, name, origin, locations, cached);
    none = PyTuple_New(0);
    spec = none ? tp->tp_new(tp, none, NULL) : NULL;
    Py_XDECREF(none);
    for (i = 0; spec != NULL && i < PyTuple_GET_SIZE(self->spec_keys); i++) {
        PyObject *v = rt_spec_value(self->spec_fill[i], name,
                                    (PyObject *)self, origin, locations,
                                    cached);

        if (v == NULL ||
            PyObject_SetAttr(spec, PyTuple_GET_ITEM(self->spec_keys, i), v) <
                0)
            Py_CLEAR(spec);
        Py_XDECREF(v);
    }
    return spec;
}

PyObject *rt_importer_spec_cached(rt_importer *self, PyObject *origin)
{
    PyObject *dir, *stem, *cached;
    Py_ssize_t n, slash;

    if (self->cache_tail == NULL || !PyUnicode_Check(origin) ||
        (n = PyUnicode_GET_LENGTH(origin)) < 4 ||
        PyUnicode_READ_CHAR(origin, n - 3) != '.' ||
        PyUnicode_READ_CHAR(origin, n - 2) != 'p' ||
        PyUnicode_READ_CHAR(origin, n - 1) != 'y' ||
        (slash = PyUnicode_FindChar(origin, '/', 0, n, -1)) < 0)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    dir = PyUnicode_Substring(origin, 0, slash);
    stem = dir ? PyUnicode_Substring(origin, slash + 1, n - 3) : NULL;
    cached = stem ? PyUnicode_FromFormat("%U/__pycache__/%U%U", dir, stem,
                                         self->cache_tail)
                  : NULL;
    Py_XDECREF(dir);
    Py_XDECREF(stem);
    return cached;
}

/* The module attributes _init_module_attrs sets, in its order. */
enum rt_module_key {
    RT_MOD_LOADER = 0, RT_MOD_PACKAGE, RT_MOD_SPEC, RT_MOD_PATH, RT_MOD_FILE,
    RT_MOD_CACHED, RT_MOD_KEYS
};

static const char *const rt_module_key_names[RT_MOD_KEYS] = {
    "__loader__", "__package__", "__spec__", "__path__", "__file__",
    "__cached__"};

static PyObject *rt_module_keys[RT_MOD_KEYS]; /* interned, never freed */

PyObject *rt_importer_new_module(rt_importer *self, PyObject *spec)
{
    PyObject *v[RT_MOD_KEYS] = {NULL};
    PyObject *at[RT_SPEC_KNOWN] = {NULL};
    PyObject *m = NULL, *d, *name;
    Py_ssize_t i;
    int ok = 1;

    if (self->spec_keys == NULL ||
        !Py_IS_TYPE(spec, (PyTypeObject *)self->spec_type))
        Py_RETURN_NONE;
    for (i = 0; i < RT_MOD_KEYS && rt_module_keys[i] == NULL; i++)
        if ((rt_module_keys[i] =
                 PyUnicode_InternFromString(rt_module_key_names[i])) == NULL)
            return NULL;
    for (i = 0; ok && i < PyTuple_GET_SIZE(self->spec_keys); i++)
        if (self->spec_fill[i] < RT_SPEC_KNOWN)
            ok = (at[self->spec_fill[i]] = PyObject_GetAttr(
                      spec, PyTuple_GET_ITEM(self->spec_keys, i))) != NULL;
    name = at[RT_SPEC_NAME];
    if (!ok && !PyErr_ExceptionMatches(PyExc_AttributeError))
        goto done;
    if (!ok || !PyUnicode_Check(name) || at[RT_SPEC_LOADER] == Py_None) {
        /* importlib makes it, and says what is wrong */
        PyErr_Clear();
        m = Py_NewRef(Py_None);
        goto done;
    }
    v[RT_MOD_LOADER] = Py_NewRef(at[RT_SPEC_LOADER]);
    if (at[RT_SPEC_LOCATIONS] != Py_None) {
        v[RT_MOD_PACKAGE] = Py_NewRef(name);
        v[RT_MOD_PATH] = Py_NewRef(at[RT_SPEC_LOCATIONS]);
    } else {
        Py_ssize_t dot = PyUnicode_FindChar(name, '.', 0,
                                            PyUnicode_GET_LENGTH(name), -1);

        v[RT_MOD_PACKAGE] = dot == -2 ? NULL
                            : PyUnicode_Substring(name, 0, dot < 0 ? 0 : dot);
    }
    v[RT_MOD_SPEC] = Py_NewRef(spec);
    if (at[RT_SPEC_FILEATTR] == Py_True) {
        v[RT_MOD_FILE] = Py_NewRef(at[RT_SPEC_ORIGIN]);
        if (at[RT_SPEC_CACHED] != Py_None)
            v[RT_MOD_CACHED] = Py_NewRef(at[RT_SPEC_CACHED]);
    }
    m = v[RT_MOD_PACKAGE] ? PyModule_NewObject(name) : NULL;
    d = m ? PyModule_GetDict(m) : NULL;
    for (i = 0; d != NULL && i < RT_MOD_KEYS; i++)
        if (v[i] != NULL && PyDict_SetItem(d, rt_module_keys[i], v[i]) < 0)
            d = NULL;
    if (d == NULL)
        Py_CLEAR(m);
done:
    for (i = 0; i < RT_SPEC_KNOWN; i++)
        Py_XDECREF(at[i]);
    for (i = 0; i < RT_MOD_KEYS; i++)
        Py_XDECREF(v[i]);
    return m;
}
