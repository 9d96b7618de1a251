/*
 * stub_run.c: run the program's main code and leave the process the way
 * python would: SystemExit codes honoured, an uncaught exception printed
 * with its traceback and exit status 1, an uncaught KeyboardInterrupt ending
 * the process by SIGINT.
 */
#include "stub.h"

#include <string.h>

/* sys.excepthook for 3.11 and 3.12, whose built-in hook reads source lines
 * only from disk: print through the traceback module, which asks the
 * module's loader (the bundle importer) for the source. Falls back to the
 * built-in hook if traceback cannot be used. */
static PyObject *stub_excepthook(PyObject *self, PyObject *args)
{
    PyObject *type, *value, *tb, *mod, *r;

    (void)self;
    if (!PyArg_UnpackTuple(args, "excepthook", 3, 3, &type, &value, &tb))
        return NULL;
    mod = PyImport_ImportModule("traceback");
    if (mod != NULL) {
        r = PyObject_CallMethod(mod, "print_exception", "OOO", type, value, tb);
        Py_DECREF(mod);
        if (r != NULL)
            return r;
    }
    PyErr_Clear();
    PyErr_Display(type, value, tb);
    Py_RETURN_NONE;
}

static PyMethodDef stub_excepthook_def = {
    "excepthook", stub_excepthook, METH_VARARGS,
    "Print an exception and its traceback with bundled source lines."};

int stub_install_excepthook(void)
{
#if PY_VERSION_HEX < 0x030D0000
    PyObject *hook = PyCFunction_New(&stub_excepthook_def, NULL);
    int r;

    if (hook == NULL)
        return -1;
    r = PySys_SetObject("excepthook", hook);
    Py_DECREF(hook);
    return r;
#else
    (void)stub_excepthook_def;
    return 0;
#endif
}

/* Execute code in the __main__ module's namespace after setting its dunder
 * attributes. spec may be None (script mode). Returns 0, or -1 with an
 * exception set. */
static int stub_exec_main(PyObject *code, PyObject *file, PyObject *spec,
                        PyObject *package)
{
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    PyObject *dict, *r;

    if (main == NULL)
        return -1;
    dict = PyModule_GetDict(main);
    if (PyDict_SetItemString(dict, "__file__", file) < 0 ||
        PyDict_SetItemString(dict, "__cached__", Py_None) < 0 ||
        PyDict_SetItemString(dict, "__loader__", rt_importer_get()) < 0 ||
        PyDict_SetItemString(dict, "__spec__", spec) < 0 ||
        PyDict_SetItemString(dict, "__package__", package) < 0)
        return -1;
    r = PyEval_EvalCode(code, dict, dict);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Script mode: the "__main__" entry runs with __spec__ None, as `python
 * app.py` does. */
static int stub_run_script(void)
{
    PyObject *name = PyUnicode_FromString("__main__");
    PyObject *code = NULL, *file = NULL;
    int r = -1;

    if (name == NULL)
        return -1;
    code = rt_importer_get_code(rt_importer_get(), name);
    if (code == NULL)
        goto done;
    file = PyObject_GetAttrString(code, "co_filename");
    if (file == NULL)
        goto done;
    r = stub_exec_main(code, file, Py_None, Py_None);
done:
    Py_DECREF(name);
    Py_XDECREF(code);
    Py_XDECREF(file);
    return r;
}

/* Module mode, as `python -m target`: import the parent package, then run
 * target (or target.__main__ when target is a package) as __main__. */
static int stub_run_module(const char *target)
{
    PyObject *name = PyUnicode_FromString(target);
    PyObject *spec = NULL, *code = NULL, *file = NULL, *parent = NULL;
    PyObject *pkgmod = NULL, *locs = NULL;
    int r = -1;

    if (name == NULL)
        return -1;
    spec = rt_importer_find_spec(rt_importer_get(), name);
    if (spec == NULL)
        goto done;
    if (spec == Py_None) {
        PyErr_Format(PyExc_ImportError, "No module named %U", name);
        goto done;
    }
    locs = PyObject_GetAttrString(spec, "submodule_search_locations");
    if (locs == NULL)
        goto done;
    if (locs != Py_None) {
        PyObject *sub = PyUnicode_FromFormat("%U.__main__", name);

        if (sub == NULL)
            goto done;
        Py_SETREF(name, sub);
        Py_SETREF(spec, rt_importer_find_spec(rt_importer_get(), name));
        if (spec == NULL)
            goto done;
        if (spec == Py_None) {
            PyErr_Format(PyExc_ImportError,
                         "No module named %U; '%s' is a package and cannot be "
                         "directly executed", name, target);
            goto done;
        }
    }
    parent = PyObject_GetAttrString(spec, "parent");
    if (parent == NULL)
        goto done;
    if (PyUnicode_GET_LENGTH(parent) > 0) {
        pkgmod = PyImport_Import(parent);
        if (pkgmod == NULL)
            goto done;
    }
    code = rt_importer_get_code(rt_importer_get(), name);
    if (code == NULL)
        goto done;
    file = PyObject_GetAttrString(spec, "origin");
    if (file == NULL)
        goto done;
    r = stub_exec_main(code, file, spec, parent);
done:
    Py_XDECREF(name);
    Py_XDECREF(spec);
    Py_XDECREF(locs);
    Py_XDECREF(parent);
    Py_XDECREF(pkgmod);
    Py_XDECREF(code);
    Py_XDECREF(file);
    return r;
}

/* Entry mode, as a console script: import "pkg.mod", call attribute path
 * "func" (dotted allowed) with no arguments, and raise SystemExit with its
 * result so that None exits 0, an int exits with it, anything else is
 * printed and exits 1. */
static int stub_run_entry(const char *target)
{
    const char *colon = strchr(target, ':');
    PyObject *mod = NULL, *obj = NULL, *result = NULL, *exc = NULL;
    char *modname = NULL, *attrs = NULL, *part, *save = NULL;
    int r = -1;

    if (colon == NULL) {
        PyErr_Format(PyExc_RuntimeError, "bad entry point '%s'", target);
        return -1;
    }
    modname = strndup(target, (size_t)(colon - target));
    attrs = strdup(colon + 1);
    if (modname == NULL || attrs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    mod = PyImport_ImportModule(modname);
    if (mod == NULL)
        goto done;
    obj = Py_NewRef(mod);
    for (part = strtok_r(attrs, ".", &save); part != NULL;
         part = strtok_r(NULL, ".", &save)) {
        Py_SETREF(obj, PyObject_GetAttrString(obj, part));
        if (obj == NULL)
            goto done;
    }
    result = PyObject_CallNoArgs(obj);
    if (result == NULL)
        goto done;
    exc = PyObject_CallOneArg(PyExc_SystemExit, result);
    if (exc != NULL)
        PyErr_SetObject(PyExc_SystemExit, exc);
done:
    free(modname);
    free(attrs);
    Py_XDECREF(mod);
    Py_XDECREF(obj);
    Py_XDECREF(result);
    Py_XDECREF(exc);
    return r;
}

/* Run the program's own code as the bundle's run mode says (target: its
 * run target). 1 when it failed (an exception is set), else 0. */
static int stub_run_main(uint32_t mode, const char *target)
{
    switch (mode) {
    case BUNDLE_RUN_SCRIPT:
        return stub_run_script() < 0;
    case BUNDLE_RUN_MODULE:
        return stub_run_module(target) < 0;
    case BUNDLE_RUN_ENTRY:
        return stub_run_entry(target) < 0;
    default:
        PyErr_Format(PyExc_RuntimeError,
                     "the bundle names no code to run (run mode %u)", mode);
        return 1;
    }
}

/* True when the program is to end through Py_FinalizeEx: built with
 * --full-finalize, or in development mode, whose warnings about what is
 * left open at exit come from there. A pending exception stays. */
static int stub_run_full_finalize(const rt_program *prog)
{
    PyObject *flags = PySys_GetObject("flags"); /* borrowed */
    PyObject *type, *value, *tb, *dev;
    int full;

    if (prog->options.full_finalize)
        return 1;
    PyErr_Fetch(&type, &value, &tb);
    dev = flags ? PyObject_GetAttrString(flags, "dev_mode") : NULL;
    full = dev != NULL && PyObject_IsTrue(dev) == 1;
    Py_XDECREF(dev);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    return full;
}

int stub_run_end(const rt_program *prog, int failed)
{
    int status = 0, sigint = 0, full = stub_run_full_finalize(prog);

    if (failed && !full && PyErr_ExceptionMatches(PyExc_SystemExit)) {
        status = stub_exit_code();
    } else if (failed) {
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            sigint = 1;
        /* Exits the process itself on SystemExit, as python does. */
        PyErr_Print();
        status = 1;
    }
    if (!full)
        status = stub_exit_python(status);
    else if (Py_FinalizeEx() < 0)
        status = 120;
    if (sigint)
        status = stub_exit_sigint();
    return status;
}

int stub_run(rt_program *prog)
{
    const bundle_header *h = prog->bundle.header;
    const char *target = bundle_run_target(&prog->bundle);
    int failed;

    if (stub_install_excepthook() < 0)
        PyErr_Clear();
    switch (stub_run_hooks(prog) < 0 ? -1
                                     : rt_glue_reexec(rt_importer_get())) {
    case 1:
        failed = 0;
        break;
    case -1:
        failed = 1;
        break;
    default:
        failed = stub_run_main(h->run_mode, target);
    }
    return stub_run_end(prog, failed);
}
