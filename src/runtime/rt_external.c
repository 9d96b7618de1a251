/*
 * rt_external.c: importlib's path-based importers (the frozen module
 * _frozen_importlib_external: PathFinder, FileFinder's path hook, the file
 * loaders) set up the first time a program asks for them, instead of while
 * the interpreter starts. A program that looks nothing up on disk removes
 * PathFinder again at once, and most of what is left (importlib.machinery,
 * the source loaders) serves only programs that ask for it; setting the
 * module up is about a fifth of a hello program's instructions.
 *
 * While deferred, importlib's own reference to the module
 * (_frozen_importlib._bootstrap_external) is a stand-in object. Asking it
 * for anything, or importing _frozen_importlib_external (importlib,
 * importlib.machinery, zipimport, pkgutil and runpy do), sets the importers
 * up exactly as CPython's main phase would have, through importlib's own
 * _install_external_importers, then takes PathFinder off sys.meta_path and
 * puts FileFinder's hook right after the bundle importer's on
 * sys.path_hooks, where python has it. docs/runtime.md, "Two phases".
 */
#include "rt.h"

#include <string.h>

#define RT_EXTERNAL "_frozen_importlib_external"

enum rt_external_state {
    RT_EXTERNAL_NOW = 0,    /* not deferred: CPython sets them up itself */
    RT_EXTERNAL_DEFERRED,   /* the stand-in is in place */
    RT_EXTERNAL_SETTING_UP, /* _install_external_importers is running */
    RT_EXTERNAL_SET_UP
};

static enum rt_external_state rt_external_state;
static PyObject *rt_external_bootstrap; /* _frozen_importlib */
static PyObject *rt_external_install;   /* its _install_external_importers */
static PyObject *rt_external_importer;  /* the bundle importer */

/* The stand-in for _bootstrap_external, and the loader of the spec
 * find_spec gives for _frozen_importlib_external while it is deferred:
 * any other attribute sets the importers up and comes from the real
 * module. */
typedef struct {
    PyObject_HEAD
} rt_external_standin;

static PyObject *rt_external_the_standin; /* while deferred */

/* Take PathFinder off sys.meta_path, and move FileFinder's path hook (the
 * last one, just appended by _install) to right after the bundle
 * importer's own. -1 with an exception set. */
static int rt_external_tidy(void)
{
    PyObject *meta_path = PySys_GetObject("meta_path");   /* borrowed */
    PyObject *hooks = PySys_GetObject("path_hooks");      /* borrowed */
    Py_ssize_t i, n;

    if (meta_path != NULL && PyList_Check(meta_path)) {
        for (i = PyList_GET_SIZE(meta_path) - 1; i >= 0; i--) {
            PyObject *item = PyList_GET_ITEM(meta_path, i);
            const char *tp = PyType_Check(item)
                                 ? ((PyTypeObject *)item)->tp_name
                                 : Py_TYPE(item)->tp_name;

            if (strcmp(tp, "PathFinder") == 0 &&
                PySequence_DelItem(meta_path, i) < 0)
                return -1;
        }
    }
    if (hooks == NULL || !PyList_Check(hooks) ||
        (n = PyList_GET_SIZE(hooks)) < 2)
        return 0;
    for (i = 0; i < n - 1; i++) {
        PyObject *h = PyList_GET_ITEM(hooks, i);

        if (PyCFunction_Check(h) &&
            PyCFunction_GET_SELF(h) == rt_external_importer)
            break;
    }
    if (i < n - 2) {
        PyObject *ff = Py_NewRef(PyList_GET_ITEM(hooks, n - 1));
        int r = PySequence_DelItem(hooks, n - 1) < 0 ||
                PyList_Insert(hooks, i + 1, ff) < 0 ? -1 : 0;

        Py_DECREF(ff);
        return r;
    }
    return 0;
}

/* Set the importers up now, as the main phase would have: importlib's
 * _install_external_importers imports the frozen module (find_spec leaves
 * it to FrozenImporter meanwhile) and installs it. Called by the loader
 * below, under the module's import lock. -1 with an exception set. */
static int rt_external_set_up(void)
{
    PyObject *r;

    assert(rt_external_state == RT_EXTERNAL_DEFERRED);
    rt_external_state = RT_EXTERNAL_SETTING_UP;
    r = PyObject_CallNoArgs(rt_external_install);
    if (r == NULL) {
        rt_external_state = RT_EXTERNAL_DEFERRED;
        return -1;
    }
    Py_DECREF(r);
    rt_external_state = RT_EXTERNAL_SET_UP;
    Py_CLEAR(rt_external_install);
    Py_CLEAR(rt_external_the_standin);
    return rt_external_tidy();
}

/* The real _frozen_importlib_external (new reference), set up if it was
 * not. NULL with an exception set. */
static PyObject *rt_external_module(void)
{
    PyObject *m;

    if (rt_external_state == RT_EXTERNAL_SET_UP) {
        m = PyObject_GetAttrString(rt_external_bootstrap,
                                   "_bootstrap_external");
        if (m != NULL && !PyModule_Check(m)) {
            Py_DECREF(m);
            PyErr_SetString(PyExc_ImportError,
                            "importlib._bootstrap._bootstrap_external is "
                            "not a module");
            return NULL;
        }
        return m;
    }
    m = PyImport_ImportModule(RT_EXTERNAL);
    if (m != NULL && rt_external_state != RT_EXTERNAL_SET_UP) {
        Py_DECREF(m);
        PyErr_SetString(PyExc_ImportError, "importlib's path-based "
                        "importers are being set up (circular import)");
        return NULL;
    }
    return m;
}

/* _get_cached(filename) without setting anything up for what needs no
 * source loader: ModuleSpec.cached asks for it for a bundled extension
 * module. The bytecode path of a source file comes from the real one. */
static PyObject *rt_external_get_cached(PyObject *self, PyObject *filename)
{
    PyObject *m, *r;
    Py_ssize_t n;

    (void)self;
    if (PyUnicode_Check(filename) &&
        (n = PyUnicode_GET_LENGTH(filename)) >= 4 &&
        PyUnicode_READ_CHAR(filename, n - 4) == '.' &&
        PyUnicode_READ_CHAR(filename, n - 3) == 'p' &&
        PyUnicode_READ_CHAR(filename, n - 2) == 'y' &&
        PyUnicode_READ_CHAR(filename, n - 1) == 'c')
        return Py_NewRef(filename);
    if (PyUnicode_Check(filename) &&
        (n = PyUnicode_GET_LENGTH(filename)) >= 3 &&
        PyUnicode_READ_CHAR(filename, n - 3) == '.' &&
        PyUnicode_READ_CHAR(filename, n - 2) == 'p' &&
        PyUnicode_READ_CHAR(filename, n - 1) == 'y') {
        m = rt_external_module();
        r = m ? PyObject_CallMethod(m, "_get_cached", "O", filename) : NULL;
        Py_XDECREF(m);
        return r;
    }
    if (!PyUnicode_Check(filename))
        return PyErr_Format(PyExc_TypeError, "expected str, not %.100s",
                            Py_TYPE(filename)->tp_name);
    Py_RETURN_NONE;
}

static PyMethodDef rt_external_get_cached_def = {
    "_get_cached", rt_external_get_cached, METH_O, NULL};

/* Any attribute of the stand-in: the real module's, set up first
 * (_get_cached answered without, when it can be). */
static PyObject *rt_external_standin_getattro(PyObject *self, PyObject *attr)
{
    PyObject *m, *r;

    if (PyUnicode_Check(attr) &&
        PyUnicode_CompareWithASCIIString(attr, "_get_cached") == 0)
        return PyCFunction_New(&rt_external_get_cached_def, self);
    if (PyUnicode_Check(attr) &&
        (PyUnicode_CompareWithASCIIString(attr, "create_module") == 0 ||
         PyUnicode_CompareWithASCIIString(attr, "exec_module") == 0))
        return PyObject_GenericGetAttr(self, attr);
    m = rt_external_module();
    if (m == NULL)
        return NULL;
    r = PyObject_GetAttr(m, attr);
    Py_DECREF(m);
    return r;
}

/* create_module(spec): None, a plain module that exec_module throws
 * away. */
static PyObject *rt_external_loader_create(PyObject *self, PyObject *spec)
{
    (void)self;
    (void)spec;
    Py_RETURN_NONE;
}

/* exec_module(module): set the importers up. importlib put `module` in
 * sys.modules under the name; it is taken out first, so that the real
 * module imported meanwhile takes its place, and that is what importlib
 * then returns (it hands back whatever sys.modules holds after
 * exec_module). */
static PyObject *rt_external_loader_exec(PyObject *self, PyObject *module)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */

    (void)self;
    (void)module;
    if (rt_external_state != RT_EXTERNAL_DEFERRED) {
        PyErr_SetString(PyExc_ImportError, "importlib's path-based "
                        "importers are being set up (circular import)");
        return NULL;
    }
    if (PyDict_GetItemString(modules, RT_EXTERNAL) != NULL &&
        PyDict_DelItemString(modules, RT_EXTERNAL) < 0)
        return NULL;
    if (rt_external_set_up() < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef rt_external_loader_methods[] = {
    {"create_module", rt_external_loader_create, METH_O, NULL},
    {"exec_module", rt_external_loader_exec, METH_O, NULL},
    {NULL, NULL, 0, NULL}};

static PyTypeObject rt_external_standin_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kiln.DeferredExternalImporters",
    .tp_basicsize = sizeof(rt_external_standin),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_getattro = rt_external_standin_getattro,
    .tp_methods = rt_external_loader_methods,
};

/* What the main phase calls in place of _install_external_importers:
 * puts the stand-in where importlib keeps the module, and the real
 * function back in its place. */
static PyObject *rt_external_defer_now(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (PyObject_SetAttrString(rt_external_bootstrap, "_bootstrap_external",
                               rt_external_the_standin) < 0 ||
        PyObject_SetAttrString(rt_external_bootstrap,
                               "_install_external_importers",
                               rt_external_install) < 0)
        return NULL;
    rt_external_state = RT_EXTERNAL_DEFERRED;
    Py_RETURN_NONE;
}

static PyMethodDef rt_external_defer_def = {
    "_install_external_importers", rt_external_defer_now, METH_NOARGS, NULL};

int rt_external_defer(PyObject *importer)
{
    PyObject *fn = NULL;

    assert(rt_external_state == RT_EXTERNAL_NOW);
    if (PyType_Ready(&rt_external_standin_type) < 0 ||
        (rt_external_the_standin =
             PyType_GenericAlloc(&rt_external_standin_type, 0)) == NULL ||
        (rt_external_bootstrap = PyImport_ImportModule("_frozen_importlib")) ==
            NULL ||
        (rt_external_install = PyObject_GetAttrString(
             rt_external_bootstrap, "_install_external_importers")) == NULL ||
        (fn = PyCFunction_New(&rt_external_defer_def, NULL)) == NULL ||
        PyObject_SetAttrString(rt_external_bootstrap,
                               "_install_external_importers", fn) < 0) {
        Py_XDECREF(fn);
        Py_CLEAR(rt_external_install);
        Py_CLEAR(rt_external_bootstrap);
        Py_CLEAR(rt_external_the_standin);
        return -1;
    }
    Py_DECREF(fn);
    rt_external_importer = importer;
    return 0;
}

int rt_external_find_spec(PyObject *name, PyObject *spec_type,
                          PyObject **spec)
{
    *spec = NULL;
    if (rt_external_state != RT_EXTERNAL_DEFERRED ||
        PyUnicode_CompareWithASCIIString(name, RT_EXTERNAL) != 0)
        return 0;
    *spec = PyObject_CallFunctionObjArgs(spec_type, name,
                                         rt_external_the_standin, NULL);
    return *spec ? 1 : -1;
}
