/*
 * fz_env.c: the environment modules are collected from: the directories
 * searched, and the facts about the embedded CPython the graph and the
 * scanner need (extension suffixes, built-in and frozen modules, where the
 * standard library lies, opcode numbers).
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

/* Read the opcode numbers the scanner needs from the `opcode` module. */
static int fz_env_opcodes(fz_opcodes *ops, kl_err *err)
{
    PyObject *mod = PyImport_ImportModule("opcode");
    PyObject *map = mod ? PyObject_GetAttrString(mod, "opmap") : NULL;
    PyObject *v;

    Py_XDECREF(mod);
    if (map == NULL)
        return fz_python_error("opcode", err);
    v = PyDict_GetItemString(map, "IMPORT_NAME");
    ops->import_name = v ? (int)PyLong_AsLong(v) : -1;
    v = PyDict_GetItemString(map, "LOAD_CONST");
    ops->load_const = v ? (int)PyLong_AsLong(v) : -1;
    v = PyDict_GetItemString(map, "EXTENDED_ARG");
    ops->extended_arg = v ? (int)PyLong_AsLong(v) : -1;
    Py_DECREF(map);
    if (ops->import_name < 0 || ops->load_const < 0 || ops->extended_arg < 0)
        return kl_err_set(err, "this Python's opcode table lacks IMPORT_NAME");
    return 0;
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

/* Add the embedded Python's own site-packages to sys.path, with its .pth
 * files, as python's `site` does at start-up. */
static int fz_env_own_site(kl_err *err)
{
    PyObject *site = PyImport_ImportModule("site");
    PyObject *r = site ? PyObject_CallMethod(site, "main", NULL) : NULL;

    Py_XDECREF(site);
    if (r == NULL)
        return fz_python_error("site", err);
    Py_DECREF(r);
    return 0;
}

/* The search directories: the app's own, --paths, sys.path, then the
 * environment's site directories. */
static int fz_env_search(fz_env *env, const fz_options *opt,
                         const fz_site *site, kl_err *err)
{
    PyObject *sys_path;
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
    if (site->own && fz_env_own_site(err) < 0)
        return -1;
    sys_path = PySys_GetObject("path");
    if (sys_path == NULL || fz_env_push_list(sys_path, &env->search, 1) < 0)
        return fz_python_error("sys.path", err);
    for (k = 0; k < site->dirs.n; k++)
        if (kl_strv_push(&env->search, site->dirs.v[k]) < 0)
            return kl_err_oom(err);
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
    r = fz_env_opcodes(&env->ops, err);
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

int fz_env_open(const fz_options *opt, const fz_site *site,
                const char *app_dir, fz_env **out, kl_err *err)
{
    fz_env *env;

    *out = NULL;
    if (fz_python_start(err) < 0)
        return -1;
    env = calloc(1, sizeof *env);
    if (env == NULL)
        return kl_err_oom(err);
    if (app_dir != NULL && (env->app_dir = strdup(app_dir)) == NULL) {
        fz_env_close(env);
        return kl_err_oom(err);
    }
    if (fz_env_search(env, opt, site, err) < 0 || fz_env_interpreter(env, err) < 0) {
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
