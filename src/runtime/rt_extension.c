/*
 * rt_extension.c: load extension modules from memory.
 *
 * The shared object is copied into an anonymous memory file (memfd) named
 * after it, sealed, and handed to CPython's own extension loader as
 * /proc/self/fd/N (or, where memory is refused, written to the per-user
 * cache and handed over as that file: rt_dlpath.c), which dlopen()s it
 * and runs its PyInit function with the usual single- and multi-phase
 * rules. glibc recognises an already loaded object by its path string, so
 * the string is made unique and the descriptor closed once the module is
 * loaded: a program holds no descriptor per extension module.
 */
#include "rt.h"

/* Create extension module e of a folder program from its own file, which
 * spec's origin names: checked against the bundle (the process ends when
 * it is missing or damaged), then loaded by CPython's loader as python
 * loads any extension module. */
static PyObject *rt_extension_from_file(const rt_program *prog, PyObject *imp,
                                        const bundle_entry *e, PyObject *spec)
{
    kl_map m;
    kl_err err;

    int r;

    if (rt_program_map_external(prog, e, &m, &err) < 0)
        rt_program_damaged(prog, &err);
    r = rt_natives_preload(prog, m.data, (size_t)m.size,
                           bundle_entry_name(&prog->bundle, e), &err);
    kl_unmap(&m);
    if (r < 0) {
        PyErr_Format(PyExc_ImportError, "%s", err.msg);
        return NULL;
    }
    return PyObject_CallMethod(imp, "create_dynamic", "O", spec);
}

PyObject *rt_extension_create(const rt_program *prog, PyObject *imp,
                              const bundle_entry *e, PyObject *spec)
{
    kl_err err;
    rt_dlpath placed = RT_DLPATH_INIT;
    PyObject *name = NULL, *fake = NULL, *module = NULL;
    PyObject *args = NULL, *kwargs = NULL, *file = NULL, *origin = NULL;

    if (e->flags & BUNDLE_FLAG_EXTERNAL)
        return rt_extension_from_file(prog, imp, e, spec);
    if (rt_natives_stage(prog, e, &placed, &err) < 0) {
        PyErr_Format(PyExc_ImportError, "cannot load extension module %s: %s",
                     bundle_entry_name(&prog->bundle, e), err.msg);
        return NULL;
    }

    name = PyObject_GetAttrString(spec, "name");
    if (name == NULL)
        goto done;
    args = Py_BuildValue("(OO)", name, Py_None);
    kwargs = Py_BuildValue("{ss}", "origin", placed.path.s);
    if (args == NULL || kwargs == NULL)
        goto done;
    fake = PyObject_Call((PyObject *)Py_TYPE(spec), args, kwargs);
    if (fake == NULL)
        goto done;
    module = PyObject_CallMethod(imp, "create_dynamic", "O", fake);
    if (module == NULL || !PyModule_Check(module))
        goto done;
    rt_natives_staged(prog, e, &placed);
    file = PyObject_GetAttrString(module, "__file__");
    if (file == NULL) {
        PyErr_Clear();
        goto done;
    }
    origin = PyObject_GetAttrString(spec, "origin");
    if (origin == NULL || PyObject_SetAttrString(module, "__file__", origin) < 0)
        Py_CLEAR(module);

done:
    /* Loaded (or not), the module needs no descriptor: its path string is
     * never handed to the loader for other bytes. */
    rt_dlpath_close(&placed);
    Py_XDECREF(name);
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_XDECREF(fake);
    Py_XDECREF(file);
    Py_XDECREF(origin);
    return module;
}

int rt_extension_exec(PyObject *imp, PyObject *module)
{
    PyObject *r = PyObject_CallMethod(imp, "exec_dynamic", "O", module);

    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}
