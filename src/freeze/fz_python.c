/*
 * fz_python.c: the CPython embedded in the kiln command, the same build as
 * the one in the runtime stub, so the bytecode it writes is the bytecode
 * the stub runs: starting it, and turning its exceptions into kiln's
 * one-line errors.
 */
#include "fz_graph.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#ifndef KILN_PYTHON_EXE
#error "KILN_PYTHON_EXE must name the Python this kiln embeds (see Makefile)"
#endif
#ifndef KILN_PYTHON_STDLIB
#error "KILN_PYTHON_STDLIB must name its standard library (see Makefile)"
#endif

int fz_python_start(kl_err *err)
{
    static const char landmark[] = KILN_PYTHON_STDLIB "/encodings/__init__.py";
    PyConfig c;
    PyStatus st;

    if (Py_IsInitialized())
        return 0;
    /* CPython would print its path configuration over many lines and
     * stop; one line says the same. */
    if (access(landmark, R_OK) != 0)
        return kl_err_set(err, "cannot read the standard library of the "
                               "Python kiln embeds: %s: %s (reinstall %s, "
                               "or build kiln against another Python)",
                          landmark, strerror(errno), KILN_PYTHON_EXE);
    PyConfig_InitPythonConfig(&c);
    c.parse_argv = 0;
    c.use_environment = 0;
    c.user_site_directory = 0;
    c.write_bytecode = 0;
    c.use_hash_seed = 1;
    c.hash_seed = 0;
    c.safe_path = 1;
    c.site_import = 0; /* site directories are the environment's (fz_env) */
    st = PyConfig_SetBytesString(&c, &c.executable, KILN_PYTHON_EXE);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesString(&c, &c.program_name, KILN_PYTHON_EXE);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&c);
    PyConfig_Clear(&c);
    if (PyStatus_Exception(st))
        return kl_err_set(err, "cannot start the embedded Python (%s): %s",
                          KILN_PYTHON_EXE, st.err_msg ? st.err_msg : "error");
    return 0;
}

/* Format a SyntaxError as "file:line:col: SyntaxError: msg" into err. */
static void fz_syntax_error(PyObject *exc, kl_err *err)
{
    PyObject *file = PyObject_GetAttrString(exc, "filename");
    PyObject *line = PyObject_GetAttrString(exc, "lineno");
    PyObject *col = PyObject_GetAttrString(exc, "offset");
    PyObject *msg = PyObject_GetAttrString(exc, "msg");
    const char *f = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : "?";
    const char *m = msg && PyUnicode_Check(msg) ? PyUnicode_AsUTF8(msg) : "?";
    long l = line && PyLong_Check(line) ? PyLong_AsLong(line) : 0;
    long c = col && PyLong_Check(col) ? PyLong_AsLong(col) : 0;

    PyErr_Clear();
    kl_err_set(err, "%s:%ld:%ld: %s: %s", f ? f : "?", l, c,
               Py_TYPE(exc)->tp_name, m ? m : "?");
    Py_XDECREF(file);
    Py_XDECREF(line);
    Py_XDECREF(col);
    Py_XDECREF(msg);
}

int fz_python_error(const char *context, kl_err *err)
{
    PyObject *type, *value, *tb, *text;
    const char *s;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && PyErr_GivenExceptionMatches(type, PyExc_SyntaxError)) {
        fz_syntax_error(value, err);
    } else {
        text = value ? PyObject_Str(value) : NULL;
        s = text ? PyUnicode_AsUTF8(text) : NULL;
        PyErr_Clear();
        kl_err_set(err, "%s: %s: %s", context,
                   type ? ((PyTypeObject *)type)->tp_name : "error",
                   s ? s : "(no message)");
        Py_XDECREF(text);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return -1;
}

