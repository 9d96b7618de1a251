/*
 * fz_env.c: the environment modules are collected from: the directories
 * searched, and the facts about the embedded CPython the graph and the
 * scanner need (extension suffixes, built-in and frozen modules, where the
 * standard library lies, opcode numbers).
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

/* The role of the opcode called `name` (enum fz_op_role). */
static unsigned char fz_env_op_role(const char *name)
{
    static const struct {
        const char *name;
        unsigned char role;
    } exact[] = {
        {"CACHE", FZ_OP_CACHE},           {"EXTENDED_ARG", FZ_OP_EXTENDED_ARG},
        {"IMPORT_NAME", FZ_OP_IMPORT_NAME}, {"LOAD_CONST", FZ_OP_LOAD_CONST},
        {"LOAD_NAME", FZ_OP_LOAD_NAME},   {"LOAD_GLOBAL", FZ_OP_LOAD_GLOBAL},
        {"LOAD_ATTR", FZ_OP_LOAD_ATTR},   {"LOAD_METHOD", FZ_OP_LOAD_METHOD},
        {"PUSH_NULL", FZ_OP_PUSH_NULL},   {"BUILD_STRING", FZ_OP_BUILD},
        {"CONVERT_VALUE", FZ_OP_BUILD},   {"CALL_INTRINSIC_1", FZ_OP_BUILD},
        {"CALL_INTRINSIC_2", FZ_OP_BUILD},
        {"LOAD_SMALL_INT", FZ_OP_LOAD_SMALL_INT},
    };
    static const struct {
        const char *prefix;
        unsigned char role;
    } prefixes[] = {
        {"LOAD_", FZ_OP_LOAD}, {"CALL", FZ_OP_CALL}, {"PRECALL", FZ_OP_CALL},
        {"BINARY_", FZ_OP_BUILD}, {"FORMAT_", FZ_OP_BUILD},
    };
    size_t i;

    for (i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(name, exact[i].name) == 0)
            return exact[i].role;
    for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(name, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0)
            return prefixes[i].role;
    return FZ_OP_OTHER;
}

/* Fill the scanner's opcode roles from the `opcode` module's opmap. */
static int fz_env_opcodes(fz_opcodes *ops, kl_err *err)
{
    PyObject *mod = PyImport_ImportModule("opcode");
    PyObject *map = mod ? PyObject_GetAttrString(mod, "opmap") : NULL;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int import_name = 0, load_const = 0;

    Py_XDECREF(mod);
    if (map == NULL || !PyDict_Check(map)) {
        Py_XDECREF(map);
        return fz_python_error("opcode", err);
    }
    memset(ops, 0, sizeof *ops);
    while (PyDict_Next(map, &pos, &key, &value)) {
        const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        long op = PyLong_Check(value) ? PyLong_AsLong(value) : -1;

        if (name == NULL || op < 0 || op > 255)
            continue; /* pseudo-instructions never appear in co_code */
        ops->role[op] = fz_env_op_role(name);
        import_name |= ops->role[op] == FZ_OP_IMPORT_NAME;
        load_const |= ops->role[op] == FZ_OP_LOAD_CONST;
    }
    PyErr_Clear();
    Py_DECREF(map);
    if (!import_name || !load_const)
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
 * directories and top-level names, and sysconfig's data module. */
static int fz_env_interpreter(fz_env *env, kl_err *err)
{
    static const char *const keys[2] = {"stdlib", "platstdlib"};
    PyObject *mach, *sfx = NULL, *sc = NULL, *paths = NULL, *name = NULL, *v;
    PyObject *names = NULL;
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
    /* The standard library's top-level names (for names native code
     * holds); a set, listed sorted. */
    v = PySys_GetObject("stdlib_module_names");
    names = v ? PySequence_List(v) : NULL;
    if (names == NULL || fz_env_push_list(names, &env->stdlib_names, 0) < 0)
        goto fail_py;
    fz_strv_sort_unique(&env->stdlib_names);
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
    Py_XDECREF(names);
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
    if ((app_dir != NULL && (env->app_dir = strdup(app_dir)) == NULL) ||
        (env->python = strdup(site->python)) == NULL) {
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
    kl_strv_free(&env->stdlib_names);
    free(env->app_dir);
    free(env->python);
    free(env->stdlib_dirs[0]);
    free(env->stdlib_dirs[1]);
    free(env->sysconfigdata);
    Py_XDECREF(env->builtin_names);
    Py_XDECREF(env->imp);
    free(env);
}
