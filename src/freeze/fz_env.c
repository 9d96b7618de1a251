/*
 * fz_env.c: the environment modules are collected from: the CPython
 * embedded in the kiln command (the same build as the one in the runtime
 * stub, so the bytecode it writes is the bytecode the stub runs), the
 * directories it searches, and the facts about it the graph needs.
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

#ifndef KILN_PYTHON_EXE
#error "KILN_PYTHON_EXE must name the Python this kiln embeds (see Makefile)"
#endif

/* Start the embedded CPython as the Python it was built from starts. */
static int fz_env_start_python(kl_err *err)
{
    PyConfig c;
    PyStatus st;

    if (Py_IsInitialized())
        return 0;
    PyConfig_InitPythonConfig(&c);
    c.parse_argv = 0;
    c.use_environment = 0;
    c.user_site_directory = 0;
    c.write_bytecode = 0;
    c.use_hash_seed = 1;
    c.hash_seed = 0;
    c.safe_path = 1;
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

/* Append the str items of Python list `list` to l, only those naming
 * existing directories when dirs_only. -1 with a Python exception set, or
 * out of memory. */
static int fz_env_push_list(PyObject *list, kl_strv *l, int dirs_only)
{
    Py_ssize_t i;

    for (i = 0; i < PyList_Size(list); i++) {
        PyObject *item = PyList_GetItem(list, i);
        PyObject *enc;
        int r = 0;

        if (!PyUnicode_Check(item))
            continue;
        enc = PyUnicode_EncodeFSDefault(item);
        if (enc == NULL)
            return -1;
        if (!dirs_only || kl_is_dir(PyBytes_AS_STRING(enc)))
            r = kl_strv_push(l, PyBytes_AS_STRING(enc));
        Py_DECREF(enc);
        if (r < 0) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

/* The search directories: the app's own, --paths, then sys.path. */
static int fz_env_search(fz_env *env, const fz_options *opt, kl_err *err)
{
    PyObject *sys_path = PySys_GetObject("path");
    size_t k;

    if (env->app_dir && kl_strv_push(&env->search, env->app_dir) < 0)
        return kl_err_oom(err);
    for (k = 0; k < opt->n_paths; k++) {
        char *real = realpath(opt->paths[k], NULL);
        int r;

        if (real == NULL || !kl_is_dir(real)) {
            free(real);
            return kl_err_set(err, "--paths %s: not a directory",
                              opt->paths[k]);
        }
        r = kl_strv_take(&env->search, real);
        if (r < 0)
            return kl_err_oom(err);
    }
    if (sys_path == NULL || fz_env_push_list(sys_path, &env->search, 1) < 0)
        return fz_python_error("sys.path", err);
    return 0;
}

/* Extension suffixes, built-in names, _imp, the standard library's
 * directories and sysconfig's data module. */
static int fz_env_interpreter(fz_env *env, kl_err *err)
{
    static const char *const keys[2] = {"stdlib", "platstdlib"};
    PyObject *mach, *sfx = NULL, *sc = NULL, *paths = NULL, *name = NULL, *v;
    int i, r = -1;

    mach = PyImport_ImportModule("importlib.machinery");
    sfx = mach ? PyObject_GetAttrString(mach, "EXTENSION_SUFFIXES") : NULL;
    if (sfx == NULL || fz_env_push_list(sfx, &env->suffixes, 0) < 0)
        goto fail_py;
    env->builtin_names = PySys_GetObject("builtin_module_names");
    Py_XINCREF(env->builtin_names);
    env->imp = PyImport_ImportModule("_imp");
    sc = PyImport_ImportModule("sysconfig");
    paths = sc ? PyObject_CallMethod(sc, "get_paths", NULL) : NULL;
    if (env->builtin_names == NULL || env->imp == NULL || paths == NULL)
        goto fail_py;
    for (i = 0; i < 2; i++) {
        v = PyDict_GetItemString(paths, keys[i]);
        if (v && PyUnicode_Check(v) &&
            (env->stdlib_dirs[i] = strdup(PyUnicode_AsUTF8(v))) == NULL) {
            kl_err_oom(err);
            goto done;
        }
    }
    /* sysconfig imports its build-time data module by a computed name. */
    name = PyObject_CallMethod(sc, "_get_sysconfigdata_name", NULL);
    if (name != NULL && PyUnicode_Check(name)) {
        env->sysconfigdata = strdup(PyUnicode_AsUTF8(name));
        if (env->sysconfigdata == NULL) {
            kl_err_oom(err);
            goto done;
        }
    }
    PyErr_Clear();
    r = fz_scan_load_opcodes(&env->ops, err);
    goto done;
fail_py:
    fz_python_error("inspecting the embedded Python", err);
done:
    Py_XDECREF(mach);
    Py_XDECREF(sfx);
    Py_XDECREF(sc);
    Py_XDECREF(paths);
    Py_XDECREF(name);
    return r;
}

int fz_env_open(const fz_options *opt, const char *app_dir, fz_env **out,
                kl_err *err)
{
    fz_env *env;

    *out = NULL;
    if (fz_env_start_python(err) < 0)
        return -1;
    env = calloc(1, sizeof *env);
    if (env == NULL)
        return kl_err_oom(err);
    if (app_dir != NULL && (env->app_dir = strdup(app_dir)) == NULL) {
        fz_env_close(env);
        return kl_err_oom(err);
    }
    if (fz_env_search(env, opt, err) < 0 || fz_env_interpreter(env, err) < 0) {
        fz_env_close(env);
        return -1;
    }
    *out = env;
    return 0;
}

void fz_env_close(fz_env *env)
{
    if (env == NULL)
        return;
    kl_strv_free(&env->search);
    kl_strv_free(&env->suffixes);
    free(env->app_dir);
    free(env->stdlib_dirs[0]);
    free(env->stdlib_dirs[1]);
    free(env->sysconfigdata);
    Py_XDECREF(env->builtin_names);
    Py_XDECREF(env->imp);
    free(env);
}
