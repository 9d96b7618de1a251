/*
 * rt_linecache.c: linecache entries for bundled modules. python's
 * linecache reads a module's source from its file; a bundled module has
 * none on disk, and callers that give no module globals (warnings,
 * linecache.getline(path, n)) would find nothing. Once linecache is
 * loaded, every bundled module with a source gets a lazy entry, the kind
 * linecache itself makes from a module's loader: cache[path] = (a
 * callable that returns loader.get_source(name),). Nothing is read until a line is
 * asked for; before linecache is loaded, nothing is done at all.
 */
#include "rt.h"

/* linecache's cache dict (new reference), or NULL (no error) when
 * linecache is not loaded. */
static PyObject *rt_linecache_cache(void)
{
    static PyObject *linecache_name;
    PyObject *mod, *cache;

    if (linecache_name == NULL &&
        (linecache_name = PyUnicode_InternFromString("linecache")) == NULL) {
        PyErr_Clear();
        return NULL;
    }
    mod = PyImport_GetModule(linecache_name);
    if (mod == NULL) {
        PyErr_Clear();
        return NULL;
    }
    cache = PyObject_GetAttrString(mod, "cache");
    Py_DECREF(mod);
    if (cache != NULL && !PyDict_Check(cache))
        Py_CLEAR(cache);
    PyErr_Clear();
    return cache;
}

/* Put a lazy entry for module `name` at `file` into cache unless there is
 * one. -1 with an exception set. */
static int rt_linecache_put(PyObject *cache, PyObject *loader,
                            PyObject *name, PyObject *file)
{
    PyObject *get_source, *fn = NULL, *entry = NULL;
    int r = -1, has = PyDict_Contains(cache, file);

    if (has != 0)
        return has < 0 ? -1 : 0;
    /* A method object binding name as the argument: calling it calls
     * loader.get_source(name), what linecache's own lazy entries do with
     * functools.partial (which may not be loaded yet). */
    get_source = PyObject_GetAttrString(loader, "get_source");
    if (get_source != NULL)
        fn = PyMethod_New(get_source, name);
    if (fn != NULL)
        entry = PyTuple_Pack(1, fn);
    if (entry != NULL)
        r = PyDict_SetItem(cache, file, entry);
    Py_XDECREF(get_source);
    Py_XDECREF(fn);
    Py_XDECREF(entry);
    return r;
}

int rt_linecache_note(PyObject *loader, PyObject *name, PyObject *file)
{
    PyObject *cache = rt_linecache_cache();
    int r;

    if (cache == NULL)
        return 0;
    r = rt_linecache_put(cache, loader, name, file);
    Py_DECREF(cache);
    return r;
}

/* The name module `mod` (key in sys.modules) was loaded under by loader
 * (new reference), or NULL when loader did not load it. The script of a
 * script-mode program runs with no spec: it is the bundle's "__main__"
 * when main_bundled. */
static PyObject *rt_linecache_loaded_by(PyObject *loader, PyObject *key,
                                        PyObject *mod, int main_bundled)
{
    PyObject *spec = PyObject_GetAttrString(mod, "__spec__");
    PyObject *owner = NULL, *name = NULL;

    if (spec != NULL && spec != Py_None) {
        owner = PyObject_GetAttrString(spec, "loader");
        if (owner == loader)
            name = PyObject_GetAttrString(spec, "name");
    } else if (spec != NULL && main_bundled &&
               PyUnicode_CompareWithASCIIString(key, "__main__") == 0) {
        name = Py_NewRef(key);
    }
    PyErr_Clear();
    Py_XDECREF(spec);
    Py_XDECREF(owner);
    return name;
}

int rt_linecache_note_all(PyObject *loader, int main_bundled)
{
    PyObject *cache = rt_linecache_cache(), *modules, *items;
    Py_ssize_t i;
    int r = 0;

    if (cache == NULL)
        return 0;
    modules = PySys_GetObject("modules");
    items = modules != NULL ? PyDict_Items(modules) : NULL;
    for (i = 0; items != NULL && r == 0 && i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        PyObject *name = rt_linecache_loaded_by(loader,
                                                PyTuple_GET_ITEM(item, 0),
                                                PyTuple_GET_ITEM(item, 1),
                                                main_bundled);
        PyObject *file = name ? PyObject_GetAttrString(
                                    PyTuple_GET_ITEM(item, 1), "__file__")
                              : NULL;

        PyErr_Clear();
        if (file != NULL && PyUnicode_Check(file))
            r = rt_linecache_put(cache, loader, name, file);
        Py_XDECREF(name);
        Py_XDECREF(file);
    }
    if (items == NULL)
        r = -1;
    Py_XDECREF(items);
    Py_DECREF(cache);
    return r;
}
