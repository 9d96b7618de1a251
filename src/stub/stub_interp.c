/*
 * stub_interp.c: an interpreter program (run mode interpreter): CPython
 * itself parses the command line (-c, -m, SCRIPT, -, the flags), imports
 * site and runs what the command line names with Py_RunMain, over the
 * modules the bundle carries and, as in python, the script's directory
 * and sys.path on disk.
 */
#include "stub.h"

#include <stdlib.h>

PyStatus stub_interp_preinit(PyPreConfig *pre, int argc, char **argv)
{
    PyStatus st;

    pre->isolated = 0;
    pre->parse_argv = 1;
    st = Py_PreInitializeFromBytesArgs(pre, argc, argv);
    if (PyStatus_Exception(st))
        Py_ExitStatusException(st);
    return st;
}

PyStatus stub_interp_config(PyConfig *c, const char *argv0)
{
    c->parse_argv = 1;
    c->isolated = 0;
    c->site_import = 1;
    c->safe_path = 0;
    c->write_bytecode = 1;
    return PyConfig_SetBytesString(c, &c->program_name, argv0);
}

/* Insert the directories of PYTHONPATH (':'-separated, each made
 * absolute as python makes them) at the start of sys.path, where python
 * puts them, when the environment counts (sys.flags.ignore_environment
 * is false). -1 with an exception set. */
static int stub_interp_pythonpath(void)
{
    const char *env = getenv("PYTHONPATH");
    PyObject *flags = PySys_GetObject("flags"); /* borrowed */
    PyObject *path = PySys_GetObject("path");   /* borrowed */
    PyObject *ignore, *posixpath = NULL, *text = NULL, *parts = NULL;
    Py_ssize_t i;
    int r = -1;

    if (env == NULL || env[0] == '\0' || flags == NULL || path == NULL)
        return 0;
    ignore = PyObject_GetAttrString(flags, "ignore_environment");
    if (ignore == NULL || PyObject_IsTrue(ignore) != 0) {
        r = ignore != NULL && !PyErr_Occurred() ? 0 : -1;
        goto done;
    }
    posixpath = PyImport_ImportModule("posixpath");
    text = PyUnicode_DecodeFSDefault(env);
    if (posixpath == NULL || text == NULL ||
        (parts = PyObject_CallMethod(text, "split", "s", ":")) == NULL)
        goto done;
    for (i = PyList_GET_SIZE(parts) - 1; i >= 0; i--) {
        PyObject *dir = PyObject_CallMethod(posixpath, "abspath", "O",
                                            PyList_GET_ITEM(parts, i));

        if (dir == NULL || PyList_Insert(path, 0, dir) < 0) {
            Py_XDECREF(dir);
            goto done;
        }
        Py_DECREF(dir);
    }
    r = 0;
done:
    Py_XDECREF(ignore);
    Py_XDECREF(posixpath);
    Py_XDECREF(text);
    Py_XDECREF(parts);
    return r;
}

int stub_interp_paths(const rt_program *prog)
{
    PyObject *cache = PySys_GetObject("path_importer_cache"); /* borrowed */

    if (cache != NULL && PyDict_Check(cache))
        PyDict_Clear(cache);
    if (stub_interp_pythonpath() < 0)
        return -1;
    if (bundle_runtime_path(&prog->bundle)[0] != '\0')
        return rt_importer_add_runtime_path(prog);
    return 0;
}

/* sys.excepthook of an interpreter program: the hook it wraps (inner),
 * then, for a KeyboardInterrupt raised by running code (it has a
 * traceback), the mark that makes Py_RunMain end the process by SIGINT
 * set again. CPython sets that mark when code it runs from source ends
 * in KeyboardInterrupt and clears it whenever it starts running such
 * code, exec() of a string included: namedtuple does that when the
 * inner hook first imports traceback. Running a raise of
 * KeyboardInterrupt the same way is the public way to set it. */
static PyObject *stub_interp_excepthook(PyObject *inner, PyObject *args)
{
    PyObject *type, *value, *tb, *r, *globals, *again;

    if (!PyArg_UnpackTuple(args, "excepthook", 3, 3, &type, &value, &tb))
        return NULL;
    r = PyObject_Call(inner, args, NULL);
    if (r == NULL || type != PyExc_KeyboardInterrupt || tb == Py_None)
        return r;
    globals = PyDict_New();
    again = globals ? PyRun_String("raise KeyboardInterrupt", Py_file_input,
                                   globals, globals)
                    : NULL;
    Py_XDECREF(again);
    Py_XDECREF(globals);
    PyErr_Clear();
    return r;
}

static PyMethodDef stub_interp_excepthook_def = {
    "excepthook", stub_interp_excepthook, METH_VARARGS,
    "Print an exception as python does, exit status included."};

/* Put stub_interp_excepthook around the hook stub_install_excepthook
 * leaves. -1 with an exception set. */
static int stub_interp_install_excepthook(void)
{
    PyObject *inner, *hook;
    int r;

    if (stub_install_excepthook() < 0)
        return -1;
    inner = PySys_GetObject("excepthook"); /* borrowed */
    if (inner == NULL)
        return 0;
    hook = PyCFunction_New(&stub_interp_excepthook_def, inner);
    if (hook == NULL)
        return -1;
    r = PySys_SetObject("excepthook", hook);
    Py_DECREF(hook);
    return r;
}

int stub_interp_run(const rt_program *prog)
{
    if (stub_interp_install_excepthook() < 0)
        PyErr_Clear();
    if (stub_run_hooks(prog) < 0)
        return stub_run_end(prog, 1);
    return Py_RunMain();
}
