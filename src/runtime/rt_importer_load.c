/*
 * rt_importer_load.c: importlib's protocol for importing one module (take
 * the module's lock, import its parent, find its spec, make the module,
 * run it, bind it to its parent) done in C when the bundle importer is
 * first on sys.meta_path and serves the module, in place of the Python
 * functions of importlib._bootstrap that CPython's import calls
 * (_find_and_load and what it calls). For an empty module that Python
 * code was about half of what importing it from the bundle cost.
 *
 * The steps, their order and their errors are importlib's, for the
 * version compiled against; the module lock is importlib's own
 * (_get_module_lock), so threads importing through either path wait for
 * each other as they would in python. Whenever anything is not the plain
 * case (the module is already in sys.modules, another finder comes first,
 * the parent is not a package, the spec is not one this importer made,
 * python's -v), the step is left to importlib's own function from that
 * point on. docs/runtime.md, "The importer".
 */
#include "rt_importer.h"

static PyObject *rt_load_importer;      /* borrowed: outlives imports */
static PyObject *rt_load_python;        /* importlib's _find_and_load */
static PyObject *rt_load_unlocked;      /* _find_and_load_unlocked */
static PyObject *rt_load_spec_unlocked; /* _load_unlocked */
static PyObject *rt_load_get_lock;      /* _get_module_lock */

/* Interned attribute names, made once by rt_importer_load_install. */
enum rt_load_name {
    RT_LOAD_ACQUIRE = 0, RT_LOAD_RELEASE, RT_LOAD_INITIALIZING,
    RT_LOAD_UNINITIALIZED, RT_LOAD_PATH, RT_LOAD_SPEC, RT_LOAD_NAME,
    RT_LOAD_APPEND, RT_LOAD_POP, RT_LOAD_MODULES, RT_LOAD_META_PATH,
    RT_LOAD_NAMES
};
static const char *const rt_load_name_text[RT_LOAD_NAMES] = {
    "acquire", "release", "_initializing", "_uninitialized_submodules",
    "__path__", "__spec__", "name", "append", "pop", "modules", "meta_path"};
static PyObject *rt_load_names[RT_LOAD_NAMES];
static PyObject *rt_load_sys; /* the sys module, whose dict is read */

#define RT_LOAD_STR(i) rt_load_names[RT_LOAD_##i]

/* sys.modules as importlib reads it (borrowed), or NULL with an
 * exception set. */
static PyObject *rt_load_modules(void)
{
    PyObject *m = PyDict_GetItemWithError(PyModule_GetDict(rt_load_sys),
                                          RT_LOAD_STR(MODULES));

    if (m == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "lost sys.modules");
    return m;
}

/* Whether `name` is for the C path: a str naming a source or bytecode
 * module or package of the bundle (not looked up again when in_bundle is
 * true: the bundle does not change), the bundle importer first on
 * sys.meta_path and nothing of that name in sys.modules. 1, 0, or -1 with
 * an exception set. */
static int rt_load_ours(PyObject *name, int in_bundle)
{
    PyObject *meta_path = PyDict_GetItemWithError(
        PyModule_GetDict(rt_load_sys), RT_LOAD_STR(META_PATH)); /* borrowed */
    PyObject *modules;
    const bundle_entry *e;
    int in;

    if (meta_path == NULL && PyErr_Occurred())
        return -1;
    if (!PyUnicode_CheckExact(name) || meta_path == NULL ||
        !PyList_CheckExact(meta_path) || PyList_GET_SIZE(meta_path) == 0 ||
        PyList_GET_ITEM(meta_path, 0) != rt_load_importer)
        return 0;
    if (!in_bundle) {
        e = rt_importer_lookup((rt_importer *)rt_load_importer, name, 0);
        if (e == NULL)
            return PyErr_Occurred() ? -1 : 0;
        if (e->kind != BUNDLE_KIND_MODULE && e->kind != BUNDLE_KIND_PACKAGE)
            return 0;
    }
    modules = rt_load_modules();
    if (modules == NULL)
        return -1;
    in = PySequence_Contains(modules, name);
    return in < 0 ? -1 : !in;
}

/* Call obj.method() as a finally clause would: with an exception already
 * set, that one stays unless the call raises another, which replaces it.
 * 0, or -1 with an exception set. */
static int rt_load_finally(PyObject *obj, PyObject *method)
{
    PyObject *type, *value, *tb, *r;

    PyErr_Fetch(&type, &value, &tb);
    r = PyObject_CallMethodNoArgs(obj, method);
    if (r == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    Py_DECREF(r);
    PyErr_Restore(type, value, tb);
    return type ? -1 : 0;
}

/* spec._initializing = value, as a finally clause would (see
 * rt_load_finally). */
static int rt_load_initializing(PyObject *spec, PyObject *value)
{
    PyObject *type, *value_, *tb;

    PyErr_Fetch(&type, &value_, &tb);
    if (PyObject_SetAttr(spec, RT_LOAD_STR(INITIALIZING), value) < 0) {
        Py_XDECREF(type);
        Py_XDECREF(value_);
        Py_XDECREF(tb);
        return -1;
    }
    PyErr_Restore(type, value_, tb);
    return type ? -1 : 0;
}

/* importlib's _load_unlocked(spec) for a spec the bundle importer made:
 * the module with every attribute set (rt_importer_new_module), put in
 * sys.modules while it runs, taken out again if it fails, moved to the
 * end of sys.modules (whatever sys.modules then holds under the name is
 * the result), spec._initializing true meanwhile. New reference, or NULL
 * with an exception set. */
static PyObject *rt_load_spec(PyObject *spec)
{
    PyObject *module, *modules, *name, *r;

    module = rt_importer_new_module((rt_importer *)rt_load_importer, spec);
    if (module == Py_None) {
        Py_DECREF(module);
        return PyObject_CallOneArg(rt_load_spec_unlocked, spec);
    }
    if (module == NULL || rt_load_initializing(spec, Py_True) < 0) {
        Py_XDECREF(module);
        return NULL;
    }
    name = PyObject_GetAttr(spec, RT_LOAD_STR(NAME));
    modules = name ? rt_load_modules() : NULL;
    r = modules && PyObject_SetItem(modules, name, module) == 0
            ? rt_importer_exec_module(rt_load_importer, module)
            : NULL;
    Py_CLEAR(module);
    if (r == NULL && modules != NULL) {
        PyObject *type, *value, *tb;

        PyErr_Fetch(&type, &value, &tb);
        if (PyObject_DelItem(modules, name) < 0)
            PyErr_Clear();
        PyErr_Restore(type, value, tb);
    } else if (r != NULL) {
        /* moved to the end; whatever the module put there is the result */
        Py_DECREF(r);
        module = PyObject_GetItem(modules, name);
        if (module != NULL && (PyObject_DelItem(modules, name) < 0 ||
                               PyObject_SetItem(modules, name, module) < 0))
            Py_CLEAR(module);
    }
    Py_XDECREF(name);
    if (rt_load_initializing(spec, Py_False) < 0)
        Py_CLEAR(module);
    return module;
}

/* Import `parent` with import_, as importlib does before a submodule. 0,
 * or -1 with an exception set. */
static int rt_load_parent(PyObject *import_, PyObject *parent)
{
    PyObject *r = PyObject_CallOneArg(import_, parent);

    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* What sys.modules now holds under name when the parent's import brought
 * it ("crazy side-effects" in importlib): a new reference, NULL with no
 * exception when it holds nothing (3.14 on: nothing or None), NULL with
 * an exception set on failure. */
static PyObject *rt_load_already(PyObject *name)
{
    PyObject *modules = rt_load_modules(), *m;

    m = modules ? PyObject_GetItem(modules, name) : NULL;
    if (m == NULL && PyErr_ExceptionMatches(PyExc_KeyError))
        PyErr_Clear();
#if PY_VERSION_HEX >= 0x030E0000
    if (m == Py_None)
        Py_CLEAR(m);
#endif
    return m;
}

/* importlib's _find_and_load_unlocked(name, import_), its module lock
 * held, for a module rt_load_ours accepted. New reference, or NULL with
 * an exception set. */
static PyObject *rt_load_unlocked_fast(PyObject *name, PyObject *import_)
{
    PyObject *parent = NULL, *child = NULL, *path = NULL;
    PyObject *parent_module = NULL, *parent_spec = NULL, *pending = NULL;
    PyObject *spec = NULL, *module = NULL, *modules = NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(name);
    Py_ssize_t dot = PyUnicode_FindChar(name, '.', 0, n, -1);
    int in;

    if (dot == -2)
        return NULL;
    if (dot >= 0) {
        parent = PyUnicode_Substring(name, 0, dot);
        child = parent ? PyUnicode_Substring(name, dot + 1, n) : NULL;
        modules = child ? rt_load_modules() : NULL;
        in = modules ? PySequence_Contains(modules, parent) : -1;
        if (in < 0 || (in == 0 && rt_load_parent(import_, parent) < 0))
            goto done;
        module = rt_load_already(name);
        if (module != NULL || PyErr_Occurred())
            goto done;
        parent_module = PyObject_GetItem(modules, parent);
        if (parent_module == NULL)
            goto done;
        path = PyObject_GetAttr(parent_module, RT_LOAD_STR(PATH));
        if (path == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                /* importlib says the parent is no package */
                PyErr_Clear();
                module = PyObject_CallFunctionObjArgs(rt_load_unlocked, name,
                                                      import_, NULL);
            }
            goto done;
        }
        parent_spec = PyObject_GetAttr(parent_module, RT_LOAD_STR(SPEC));
        if (parent_spec == NULL)
            goto done;
#if PY_VERSION_HEX >= 0x030E0000
        {
            PyObject *init;

            if (PyObject_GetOptionalAttr(parent_spec,
                                         RT_LOAD_STR(INITIALIZING),
                                         &init) < 0)
                goto done;
            in = init ? PyObject_IsTrue(init) : 0;
            Py_XDECREF(init);
            if (in < 0 || (in > 0 && rt_load_parent(import_, parent) < 0))
                goto done;
            module = in > 0 ? rt_load_already(name) : NULL;
            if (module != NULL || PyErr_Occurred())
                goto done;
        }
#endif
    }
    spec = rt_importer_find_spec_in(rt_load_importer, name,
                                    path ? path : Py_None);
    if (spec == NULL)
        goto done;
    if (spec == Py_None) {
        /* elsewhere than path says: the other finders may have it */
        module = PyObject_CallFunctionObjArgs(rt_load_unlocked, name, import_,
                                              NULL);
        goto done;
    }
    if (parent_spec != NULL) {
        int truth = PyObject_IsTrue(parent_spec);

        if (truth < 0)
            goto done;
        if (truth) {
            PyObject *r;

            pending = PyObject_GetAttr(parent_spec,
                                       RT_LOAD_STR(UNINITIALIZED));
            r = pending ? PyObject_CallMethodOneArg(
                              pending, RT_LOAD_STR(APPEND), child)
                        : NULL;
            if (r == NULL)
                goto done;
            Py_DECREF(r);
        }
    }
    module = rt_load_spec(spec);
    if (pending != NULL && rt_load_finally(pending, RT_LOAD_STR(POP)) < 0)
        Py_CLEAR(module);
    if (module != NULL && parent != NULL) {
        PyObject *pm = PyObject_GetItem(modules, parent);

        if (pm == NULL) {
            Py_CLEAR(module);
        } else if (PyObject_SetAttr(pm, child, module) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError) ||
                (PyErr_Clear(),
                 PyErr_WarnFormat(PyExc_ImportWarning, 1,
                                  "Cannot set an attribute on %R for child "
                                  "module %R",
                                  parent, child) < 0))
                Py_CLEAR(module);
        }
        Py_XDECREF(pm);
    }
done:
    Py_XDECREF(parent);
    Py_XDECREF(child);
    Py_XDECREF(path);
    Py_XDECREF(parent_module);
    Py_XDECREF(parent_spec);
    Py_XDECREF(pending);
    Py_XDECREF(spec);
    return module;
}

/* _find_and_load(name, import_), what CPython's import calls for a
 * module not yet in sys.modules: in C under the module's lock for a
 * module rt_load_ours accepts; importlib's own function for any other. */
static PyObject *rt_load_find_and_load(PyObject *self, PyObject *const *args,
                                       Py_ssize_t nargs)
{
    PyObject *lock, *module = NULL;
    int ours;

    (void)self;
    ours = nargs == 2 ? rt_load_ours(args[0], 0) : 0;
    if (ours <= 0)
        return ours < 0 ? NULL
                        : PyObject_Vectorcall(rt_load_python, args,
                                              (size_t)nargs, NULL);
    lock = PyObject_CallOneArg(rt_load_get_lock, args[0]);
    if (lock == NULL)
        return NULL;
    if (rt_load_finally(lock, RT_LOAD_STR(ACQUIRE)) < 0) {
        Py_DECREF(lock);
        return NULL;
    }
    ours = rt_load_ours(args[0], 1);
    if (ours > 0)
        module = rt_load_unlocked_fast(args[0], args[1]);
    if (rt_load_finally(lock, RT_LOAD_STR(RELEASE)) < 0) {
        Py_DECREF(lock);
        Py_XDECREF(module);
        return NULL;
    }
    Py_DECREF(lock);
    if (ours == 0)
        /* loaded meanwhile, or no longer ours: importlib waits for it */
        return PyObject_Vectorcall(rt_load_python, args,
                                   (size_t)nargs, NULL);
    return module;
}

static PyMethodDef rt_load_def = {
    "_find_and_load", (PyCFunction)(void (*)(void))rt_load_find_and_load,
    METH_FASTCALL, NULL};

int rt_importer_load_install(PyObject *importer)
{
    PyObject *bootstrap, *flags, *verbose, *fn = NULL;
    long v;
    int i, r = -1;

    flags = PySys_GetObject("flags"); /* borrowed */
    verbose = flags ? PyObject_GetAttrString(flags, "verbose") : NULL;
    if (verbose == NULL)
        return -1;
    v = PyLong_AsLong(verbose);
    Py_DECREF(verbose);
    if (v != 0)
        return v == -1 && PyErr_Occurred() ? -1 : 0;
    for (i = 0; i < RT_LOAD_NAMES; i++)
        if (rt_load_names[i] == NULL &&
            (rt_load_names[i] = PyUnicode_InternFromString(
                 rt_load_name_text[i])) == NULL)
            return -1;
    if (rt_load_sys == NULL &&
        (rt_load_sys = PyImport_ImportModule("sys")) == NULL)
        return -1;
    bootstrap = PyImport_ImportModule("_frozen_importlib");
    if (bootstrap == NULL)
        return -1;
    rt_load_python = PyObject_GetAttrString(bootstrap, "_find_and_load");
    rt_load_unlocked = PyObject_GetAttrString(bootstrap,
                                              "_find_and_load_unlocked");
    rt_load_spec_unlocked = PyObject_GetAttrString(bootstrap,
                                                   "_load_unlocked");
    rt_load_get_lock = PyObject_GetAttrString(bootstrap, "_get_module_lock");
    if (rt_load_python && rt_load_unlocked && rt_load_spec_unlocked &&
        rt_load_get_lock &&
        (fn = PyCFunction_New(&rt_load_def, NULL)) != NULL &&
        PyObject_SetAttrString(bootstrap, "_find_and_load", fn) == 0) {
        rt_load_importer = importer;
        r = 0;
    } else {
        Py_CLEAR(rt_load_python);
        Py_CLEAR(rt_load_unlocked);
        Py_CLEAR(rt_load_spec_unlocked);
        Py_CLEAR(rt_load_get_lock);
    }
    Py_XDECREF(fn);
    Py_DECREF(bootstrap);
    return r;
}
