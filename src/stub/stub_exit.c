/*
 * stub_exit.c: the end of a program as python's end looks from outside,
 * without tearing the interpreter down: non-daemon threads joined, atexit
 * handlers run, sys.stdout and sys.stderr flushed (status 120 when that
 * fails), then every other open buffered file flushed, so that what the
 * program wrote and never closed is in its file. Py_FinalizeEx does all
 * that and then frees every object, which costs a quarter of a small
 * program's run; what it does besides (objects' __del__ methods at exit)
 * is kept for programs built with --full-finalize (docs/runtime.md,
 * "Exit").
 */
#include "stub.h"

#include <signal.h>
#include <unistd.h>

/* A new reference to module `name` when it has been imported, else NULL
 * (no exception set). */
static PyObject *stub_exit_imported(const char *name)
{
    PyObject *n = PyUnicode_FromString(name), *m;

    m = n ? PyImport_GetModule(n) : NULL;
    Py_XDECREF(n);
    PyErr_Clear();
    return m;
}

/* What python says it was doing when flushing sys.stdout at exit failed:
 * "Exception ignored on flushing sys.stdout" (3.13), "while flushing"
 * (3.14 and later). */
#if PY_VERSION_HEX >= 0x030E0000
#define STUB_EXIT_FLUSHING "while flushing"
#else
#define STUB_EXIT_FLUSHING "on flushing"
#endif

/* Print the pending exception as one python ignores at exit: CPython
 * 3.13 and later say what was being done (STUB_EXIT_FLUSHING), earlier
 * ones name the object. */
static void stub_exit_unraisable(PyObject *obj, const char *doing)
{
#if PY_VERSION_HEX >= 0x030D0000
    (void)obj;
    PyErr_FormatUnraisable("Exception ignored %s", doing);
#else
    (void)doing;
    PyErr_WriteUnraisable(obj);
#endif
}

/* Call module.function() when module was imported, as Py_FinalizeEx
 * does for threading._shutdown() (wait for the non-daemon threads) and
 * the atexit handlers (atexit.register's, weakref.finalize's; none are
 * registered unless atexit was imported). An error is printed as python
 * prints it when it was `doing` that. */
static void stub_exit_call(const char *module, const char *function,
                           const char *doing)
{
    PyObject *m = stub_exit_imported(module), *r;

    if (m == NULL)
        return;
    r = PyObject_CallMethod(m, function, NULL);
    if (r == NULL)
        stub_exit_unraisable(m, doing);
    Py_XDECREF(r);
    Py_DECREF(m);
}

/* True when file object f is open: its `closed` is false. */
static int stub_exit_is_open(PyObject *f)
{
    PyObject *closed = PyObject_GetAttrString(f, "closed");
    int open = closed != NULL && PyObject_IsTrue(closed) == 0;

    Py_XDECREF(closed);
    PyErr_Clear();
    return open;
}

/* Flush sys.stdout and sys.stderr as Py_FinalizeEx does: -1 when either
 * fails (a failure of stdout printed as an unraisable exception). */
static int stub_exit_flush_std(void)
{
    PyObject *out = PySys_GetObject("stdout"), *err = PySys_GetObject("stderr");
    PyObject *r;
    int status = 0;

    if (out != NULL && out != Py_None && stub_exit_is_open(out)) {
        r = PyObject_CallMethod(out, "flush", NULL);
        if (r == NULL) {
            stub_exit_unraisable(out, STUB_EXIT_FLUSHING " sys.stdout");
            status = -1;
        }
        Py_XDECREF(r);
    }
    if (err != NULL && err != Py_None && stub_exit_is_open(err)) {
        r = PyObject_CallMethod(err, "flush", NULL);
        if (r == NULL) {
            PyErr_Clear();
            status = -1;
        }
        Py_XDECREF(r);
    }
    return status;
}

/* Flush each open file of ios whose type is one of the _io classes
 * named, errors ignored, as python ignores them when it closes the files
 * it frees (outside development mode). */
static void stub_exit_flush_each(PyObject *ios, PyObject *io,
                                 const char *const *types, size_t n)
{
    Py_ssize_t i;
    size_t k;

    for (k = 0; k < n; k++) {
        PyObject *t = PyObject_GetAttrString(io, types[k]);

        for (i = 0; t != NULL && PyType_Check(t) &&
                    i < PyList_GET_SIZE(ios); i++) {
            PyObject *o = PyList_GET_ITEM(ios, i), *r;

            if (!PyObject_TypeCheck(o, (PyTypeObject *)t) ||
                !stub_exit_is_open(o))
                continue;
            r = PyObject_CallMethod(o, "flush", NULL);
            Py_XDECREF(r);
        }
        Py_XDECREF(t);
        PyErr_Clear();
    }
}

/* Flush every open buffered file the program holds (the garbage
 * collector knows them all): text files first, which hand their text to
 * their buffers, then the buffers. */
static void stub_exit_flush_files(void)
{
    static const char *const text[] = {"TextIOWrapper"};
    static const char *const buffers[] = {"BufferedWriter", "BufferedRandom",
                                          "BufferedRWPair"};
    PyObject *io = stub_exit_imported("_io");
    PyObject *base = io ? PyObject_GetAttrString(io, "_IOBase") : NULL;
    PyObject *gc = base ? PyImport_ImportModule("gc") : NULL;
    PyObject *objs = gc ? PyObject_CallMethod(gc, "get_objects", NULL) : NULL;
    PyObject *ios = PyList_New(0);
    Py_ssize_t i;

    if (objs != NULL && PyList_Check(objs) && PyType_Check(base) &&
        ios != NULL) {
        for (i = 0; i < PyList_GET_SIZE(objs); i++)
            if (PyObject_TypeCheck(PyList_GET_ITEM(objs, i),
                                   (PyTypeObject *)base) &&
                PyList_Append(ios, PyList_GET_ITEM(objs, i)) < 0)
                break;
        Py_CLEAR(objs);
        stub_exit_flush_each(ios, io, text, 1);
        stub_exit_flush_each(ios, io, buffers, 3);
    }
    PyErr_Clear();
    Py_XDECREF(ios);
    Py_XDECREF(objs);
    Py_XDECREF(gc);
    Py_XDECREF(base);
    Py_XDECREF(io);
}

int stub_exit_python(int status)
{
    stub_exit_call("threading", "_shutdown", "on threading shutdown");
    stub_exit_call("atexit", "_run_exitfuncs", "in atexit callbacks");
    if (stub_exit_flush_std() < 0)
        status = 120;
    stub_exit_flush_files();
    fflush(NULL);
    return status;
}

int stub_exit_sigint(void)
{
    signal(SIGINT, SIG_DFL);
    kill(getpid(), SIGINT);
    return 128 + SIGINT;
}

int stub_exit_code(void)
{
    PyObject *type, *value, *tb, *code = NULL;
    int status = 1;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && PyExceptionInstance_Check(value))
        code = PyObject_GetAttrString(value, "code");
    else
        code = Py_XNewRef(value);
    PyErr_Clear();
    if (code == NULL || code == Py_None) {
        status = 0;
    } else if (PyLong_Check(code)) {
        status = (int)PyLong_AsLong(code);
        PyErr_Clear();
    } else {
        PyObject *err = PySys_GetObject("stderr");

        if (err == NULL || err == Py_None ||
            PyFile_WriteObject(code, err, Py_PRINT_RAW) < 0) {
            PyErr_Clear();
            PyObject_Print(code, stderr, Py_PRINT_RAW);
        }
        fflush(stderr);
        PySys_WriteStderr("\n");
    }
    Py_XDECREF(code);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return status;
}
