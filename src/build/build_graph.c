/*
 * build_graph.c: find every module an application needs.
 *
 * Starting from the app's main module, each module is located the way
 * CPython's path finder would locate it (package directory, extension
 * module, source file, namespace portion, in that order, along the app's
 * directory and then sys.path), compiled, and its code objects scanned for
 * IMPORT_NAME instructions. Absolute imports, relative imports and
 * `from pkg import name` (where name may be a submodule) are followed,
 * transitively, through the standard library. Built-in and frozen modules
 * are part of the runtime stub and are not bundled, but frozen modules'
 * imports are followed. Modules imported only from C code are listed in
 * build_hidden below.
 */
#include "build_graph.h"

#include <marshal.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Modules that C code imports at run time, which no bytecode shows. */
static const struct {
    const char *module;
    const char *needs;
} build_hidden[] = {
    {"_asyncio", "asyncio asyncio.events asyncio.base_futures "
                 "asyncio.exceptions asyncio.base_tasks asyncio.coroutines "
                 "heapq inspect traceback weakref"},
    {"_curses_panel", "_curses"},
    {"_datetime", "time _strptime"},
    {"_decimal", "collections collections.abc numbers contextvars"},
    {"_elementtree", "copy xml.etree.ElementPath pyexpat"},
    {"_pickle", "copyreg _compat_pickle functools"},
    {"_sqlite3", "collections"},
    {"_ssl", "_socket"},
    {"_zoneinfo", "zoneinfo._common zoneinfo._tzpath"},
    {"array", "collections.abc"},
    {"time", "_strptime"},
};

/* Not followed from the standard library's lazy imports (imports inside
 * functions), only from module-level imports, from modules outside the
 * standard library, or --hidden-import: the standard library reaches each
 * of them only through functions an application rarely calls
 * (pickle's self-test imports doctest, which imports pdb, pydoc, unittest,
 * ...). The CPython test suite and its test-only extension modules, and
 * tools of the interactive interpreter or a developer's machine. */
static const char *const build_stdlib_lazy[] = {
    "test", "idlelib", "turtledemo", "lib2to3", "tkinter", "turtle",
    "__phello__", "_testcapi", "_testinternalcapi", "_testbuffer",
    "_testmultiphase", "_testclinic", "_testimportmultiple",
    "_testsinglephase", "_xxtestfuzz", "_ctypes_test", "xxlimited",
    "xxlimited_35", "xxsubtype", "pydoc_data", "doctest", "pdb", "pydoc",
    "unittest", "ensurepip", "venv",
};

/* Always bundled: codecs are looked up by name at run time, and uncaught
 * exceptions are printed through traceback. */
static const char *const build_always[] = {"traceback", "linecache",
                                           "warnings"};


static build_module *graph_get(build_graph *g, const char *name)
{
    PyObject *idx = PyDict_GetItemString(g->index, name);

    return idx ? g->mods[PyLong_AsSize_t(idx)] : NULL;
}

/* Add a new module record named `name` in `state`; returns it (owned by
 * the graph) or NULL when out of memory. */
static build_module *graph_add(build_graph *g, const char *name, int state)
{
    build_module *m = calloc(1, sizeof *m);
    PyObject *idx;

    if (m == NULL)
        return NULL;
    m->name = strdup(name);
    m->state = state;
    if (m->name == NULL)
        goto fail;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 512;
        build_module **mods = realloc(g->mods, cap * sizeof *mods);

        if (mods == NULL)
            goto fail;
        g->mods = mods;
        g->cap = cap;
    }
    idx = PyLong_FromSize_t(g->n);
    if (idx == NULL || PyDict_SetItemString(g->index, name, idx) < 0) {
        Py_XDECREF(idx);
        PyErr_Clear();
        goto fail;
    }
    Py_DECREF(idx);
    g->mods[g->n++] = m;
    return m;
fail:
    free(m->name);
    free(m);
    return NULL;
}

static void module_free(build_module *m)
{
    free(m->name);
    free(m->file);
    free(m->rel);
    build_strv_free(m->dirs, m->ndirs);
    free(m->importers);
    free(m->via);
    Py_XDECREF(m->marshalled);
    Py_XDECREF(m->source);
    free(m);
}

/* Note that `importer` wanted missing module m. */
static int module_note_importer(build_graph *g, build_module *m,
                                const char *importer)
{
    build_module *imp = graph_get(g, importer);
    char *list;

    if (imp != NULL && !imp->stdlib)
        m->importer_outside_stdlib = 1;
    if (m->importers == NULL) {
        m->importers = strdup(importer);
        return m->importers ? 0 : -1;
    }
    if (strlen(m->importers) > 400)
        return 0;
    list = build_str_join3(m->importers, ", ", importer);
    if (list == NULL)
        return -1;
    free(m->importers);
    m->importers = list;
    return 0;
}

/* True when name is module x or inside package x. */
static int name_within(const char *name, const char *x)
{
    size_t n = strlen(x);

    return strncmp(name, x, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

static int graph_excluded(build_graph *g, const char *name)
{
    size_t i;

    for (i = 0; i < g->opt->n_excludes; i++)
        if (name_within(name, g->opt->excludes[i]))
            return 1;
    return 0;
}

/* True when `importer`, a standard library module, asks for one of the
 * modules in build_stdlib_lazy (see there) from inside a function. */
static int graph_lazy_stdlib_tool(build_graph *g, const char *name,
                                  const char *importer)
{
    build_module *imp;
    size_t i;

    for (i = 0; i < sizeof build_stdlib_lazy / sizeof(char *); i++) {
        if (!name_within(name, build_stdlib_lazy[i]))
            continue;
        imp = graph_get(g, importer);
        return g->lazy_import && imp != NULL && imp->stdlib &&
               !name_within(importer, build_stdlib_lazy[i]);
    }
    return 0;
}

/* Request each of the space-separated module names in list. */
static int graph_request_list(build_graph *g, const char *list,
                              const char *importer, kl_err *err)
{
    char buf[512];
    char *tok, *save = NULL;

    snprintf(buf, sizeof buf, "%s", list);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
        if (build_graph_request(g, tok, importer, 0, err) < 0)
            return -1;
    return 0;
}

/* sysconfig imports its build-time data module by a computed name. */
static int graph_request_sysconfigdata(build_graph *g, kl_err *err)
{
    PyObject *sc = PyImport_ImportModule("sysconfig");
    PyObject *name = sc ? PyObject_CallMethod(sc, "_get_sysconfigdata_name",
                                              NULL) : NULL;
    int r = 0;

    Py_XDECREF(sc);
    if (name != NULL && PyUnicode_Check(name))
        r = build_graph_request(g, PyUnicode_AsUTF8(name), "sysconfig", 0, err);
    else
        PyErr_Clear();
    Py_XDECREF(name);
    return r;
}

/* Request the modules C code of `name` imports (build_hidden), and those
 * other imports no bytecode shows. */
static int graph_request_hidden(build_graph *g, const char *name, kl_err *err)
{
    size_t i;

    if (strcmp(name, "sysconfig") == 0)
        return graph_request_sysconfigdata(g, err);

    for (i = 0; i < sizeof build_hidden / sizeof build_hidden[0]; i++)
        if (strcmp(build_hidden[i].module, name) == 0)
            return graph_request_list(g, build_hidden[i].needs, name, err);
    return 0;
}

/* Classify a name the interpreter provides itself: 1 builtin or frozen
 * (record added), 0 not, -1 error. */
static int graph_try_internal(build_graph *g, const char *name)
{
    PyObject *pyname = PyUnicode_FromString(name);
    PyObject *r;
    build_module *m;
    int frozen, builtin;

    if (pyname == NULL)
        return -1;
    builtin = PySequence_Contains(g->builtin_names, pyname);
    r = builtin == 1 ? NULL : PyObject_CallMethod(g->imp, "is_frozen", "O", pyname);
    Py_DECREF(pyname);
    if (builtin < 0)
        return -1;
    frozen = r != NULL && PyObject_IsTrue(r) == 1;
    Py_XDECREF(r);
    PyErr_Clear();
    if (!builtin && !frozen)
        return 0;
    m = graph_add(g, name, builtin ? MOD_BUILTIN : MOD_FROZEN);
    if (m == NULL)
        return -1;
    m->stdlib = 1;
    if (frozen) {
        r = PyObject_CallMethod(g->imp, "is_frozen_package", "s", name);
        m->is_package = r != NULL && PyObject_IsTrue(r) == 1;
        Py_XDECREF(r);
        PyErr_Clear();
    }
    return 1;
}

int build_graph_request(build_graph *g, const char *name,
                         const char *importer, int optional, kl_err *err)
{
    build_module *m, *parent = NULL;
    const char *dot = strrchr(name, '.');
    char **dirs;
    size_t ndirs;
    int r;

    if (name[0] == '\0' || graph_excluded(g, name) ||
        graph_lazy_stdlib_tool(g, name, importer))
        return 0;
    m = graph_get(g, name);
    if (m != NULL) {
        if (m->state == MOD_MISSING && !optional &&
            module_note_importer(g, m, importer) < 0)
            return kl_err_set(err, "out of memory");
        return 0;
    }
    r = graph_try_internal(g, name);
    if (r < 0)
        return build_python_error(err, name);
    if (r > 0)
        return 0;
    if (dot != NULL) {
        char *pname = strndup(name, (size_t)(dot - name));

        if (pname == NULL)
            return kl_err_set(err, "out of memory");
        r = build_graph_request(g, pname, importer, optional, err);
        parent = r < 0 ? NULL : graph_get(g, pname);
        free(pname);
        if (r < 0)
            return -1;
        if (parent == NULL || parent->state == MOD_MISSING ||
            parent->ndirs == 0)
            return 0; /* the parent's own warning says enough */
        dirs = parent->dirs;
        ndirs = parent->ndirs;
    } else {
        dirs = g->search;
        ndirs = g->nsearch;
    }
    m = graph_add(g, name, MOD_MISSING);
    if (m == NULL || (m->via = strdup(importer)) == NULL)
        return kl_err_set(err, "out of memory");
    r = build_locate(g, m, dot ? dot + 1 : name, dirs, ndirs);
    if (r < 0)
        return kl_err_set(err, "out of memory");
    if (r == 0) {
        if (optional) {
            /* `from pkg import attr`: an attribute, not a module. */
            PyDict_DelItemString(g->index, name);
            g->n--;
            module_free(m);
            return 0;
        }
        if (module_note_importer(g, m, importer) < 0)
            return kl_err_set(err, "out of memory");
    }
    return 0;
}

int build_graph_star_import(build_graph *g, const char *name, kl_err *err)
{
    build_module *m = graph_get(g, name);
    PyObject *code;
    int r;

    if (m == NULL || m->state != MOD_FOUND || m->kind != BUNDLE_KIND_PACKAGE ||
        m->star_imported)
        return 0;
    m->star_imported = 1;
    if (m->marshalled == NULL)
        return 0; /* not compiled yet: graph_process will look */
    code = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(m->marshalled),
                                          PyBytes_GET_SIZE(m->marshalled));
    if (code == NULL)
        return build_python_error(err, name);
    r = build_scan_star(g, m, code, err);
    Py_DECREF(code);
    return r;
}

int build_graph_require(build_graph *g, const char *name, kl_err *err)
{
    build_module *m;

    if (build_graph_request(g, name, "(command line)", 0, err) < 0)
        return -1;
    m = graph_get(g, name);
    if (m == NULL || m->state == MOD_MISSING)
        return kl_err_set(err, "module '%s' not found (searched the app's "
                               "directory and %s's sys.path)",
                          name, KILN_PYTHON_EXE);
    return 0;
}

int build_graph_is_package(build_graph *g, const char *name)
{
    build_module *m = graph_get(g, name);

    return m != NULL && m->is_package;
}

/* Compile module m if it has source, and follow its imports. */
static int graph_process(build_graph *g, build_module *m, kl_err *err)
{
    PyObject *code = NULL;
    int r;

    if (graph_request_hidden(g, m->name, err) < 0)
        return -1;
    if (m->state == MOD_FROZEN) {
        code = PyObject_CallMethod(g->imp, "get_frozen_object", "s", m->name);
        if (code == NULL)
            return build_python_error(err, m->name);
    } else if (m->state == MOD_FOUND && (m->kind == BUNDLE_KIND_MODULE ||
                                         m->kind == BUNDLE_KIND_PACKAGE)) {
        if (build_compile(m->file, m->rel, m->stdlib, &code, &m->marshalled,
                          &m->source, err) < 0) {
            if (m->app || strcmp(m->name, "__main__") == 0)
                return -1;
            fprintf(stderr, "kiln: warning: %s: not bundled: %s\n", m->name,
                    err->msg);
            m->state = MOD_BROKEN;
            return 0;
        }
    } else {
        return 0;
    }
    r = build_scan_imports(g, m, code, err);
    if (r == 0 && m->star_imported)
        r = build_scan_star(g, m, code, err);
    Py_DECREF(code);
    if (g->opt->no_source)
        Py_CLEAR(m->source);
    return r;
}

/* Request every module and subpackage in package `name`'s directories,
 * recursively, in sorted order. */
static int graph_request_tree(build_graph *g, const char *name, kl_err *err)
{
    build_module *m = graph_get(g, name);
    size_t d;
    int r = 0;

    if (m == NULL || m->state != MOD_FOUND)
        return 0;
    for (d = 0; d < m->ndirs && r == 0; d++) {
        struct dirent **list = NULL;
        int n = scandir(m->dirs[d], &list, NULL, alphasort), i;

        for (i = 0; i < n; i++) {
            char child[512];
            char *sub;

            if (r == 0 && build_locate_child_name(g, m->dirs[d], list[i]->d_name,
                                           child, sizeof child)) {
                sub = build_str_join3(name, ".", child);
                if (sub == NULL)
                    r = kl_err_set(err, "out of memory");
                else
                    r = build_graph_request(g, sub, name, 1, err);
                if (r == 0 && build_graph_is_package(g, sub))
                    r = graph_request_tree(g, sub, err);
                free(sub);
            }
            free(list[i]);
        }
        free(list);
    }
    return r;
}

/* Fill the graph's view of the build interpreter: search path, extension
 * suffixes, built-in names, stdlib directories. */
static int graph_load_interpreter(build_graph *g, kl_err *err)
{
    PyObject *sys_path = PySys_GetObject("path");
    PyObject *mach = NULL, *sfx = NULL, *sc = NULL, *paths = NULL, *v;
    const char *keys[2] = {"stdlib", "platstdlib"};
    int i, r = -1;
    size_t k;

    if (g->app_dir && build_strv_push(&g->search, &g->nsearch, g->app_dir) < 0)
        return kl_err_set(err, "out of memory");
    for (k = 0; k < g->opt->n_paths; k++) {
        char real[4096];

        if (realpath(g->opt->paths[k], real) == NULL || !build_path_is_dir(real))
            return kl_err_set(err, "--paths %s: not a directory",
                              g->opt->paths[k]);
        if (build_strv_push(&g->search, &g->nsearch, real) < 0)
            return kl_err_set(err, "out of memory");
    }
    if (sys_path == NULL || build_strv_from_list(sys_path, &g->search, &g->nsearch, 1) < 0)
        return build_python_error(err, "sys.path");
    mach = PyImport_ImportModule("importlib.machinery");
    sfx = mach ? PyObject_GetAttrString(mach, "EXTENSION_SUFFIXES") : NULL;
    if (sfx == NULL || build_strv_from_list(sfx, &g->suffixes, &g->nsuffixes, 0) < 0)
        goto fail_py;
    g->builtin_names = PySys_GetObject("builtin_module_names");
    Py_XINCREF(g->builtin_names);
    g->imp = PyImport_ImportModule("_imp");
    sc = PyImport_ImportModule("sysconfig");
    paths = sc ? PyObject_CallMethod(sc, "get_paths", NULL) : NULL;
    if (g->builtin_names == NULL || g->imp == NULL || paths == NULL)
        goto fail_py;
    for (i = 0; i < 2; i++) {
        v = PyDict_GetItemString(paths, keys[i]);
        if (v && PyUnicode_Check(v)) {
            g->stdlib_dirs[i] = strdup(PyUnicode_AsUTF8(v));
            if (g->stdlib_dirs[i] == NULL) {
                kl_err_set(err, "out of memory");
                goto done;
            }
        }
    }
    r = build_scan_load_opcodes(g, err);
    goto done;
fail_py:
    build_python_error(err, "inspecting the embedded Python");
done:
    Py_XDECREF(mach);
    Py_XDECREF(sfx);
    Py_XDECREF(sc);
    Py_XDECREF(paths);
    return r;
}

build_graph *build_graph_new(const build_options *opt, const char *app_dir,
                             kl_err *err)
{
    build_graph *g = calloc(1, sizeof *g);

    if (g == NULL) {
        kl_err_set(err, "out of memory");
        return NULL;
    }
    g->opt = opt;
    g->index = PyDict_New();
    if (g->index == NULL || (app_dir && (g->app_dir = strdup(app_dir)) == NULL)) {
        kl_err_set(err, "out of memory");
        build_graph_free(g);
        return NULL;
    }
    if (graph_load_interpreter(g, err) < 0) {
        build_graph_free(g);
        return NULL;
    }
    return g;
}

void build_graph_free(build_graph *g)
{
    size_t i;

    if (g == NULL)
        return;
    for (i = 0; i < g->n; i++)
        module_free(g->mods[i]);
    free(g->mods);
    Py_XDECREF(g->index);
    build_strv_free(g->search, g->nsearch);
    build_strv_free(g->suffixes, g->nsuffixes);
    Py_XDECREF(g->builtin_names);
    Py_XDECREF(g->imp);
    free(g->app_dir);
    free(g->stdlib_dirs[0]);
    free(g->stdlib_dirs[1]);
    free(g);
}

int build_graph_add_script(build_graph *g, const char *path, kl_err *err)
{
    build_module *m;
    const char *base = strrchr(path, '/');

    if (!build_path_is_file(path))
        return kl_err_set(err, "%s: no such file (the script to build)", path);
    m = graph_add(g, "__main__", MOD_FOUND);
    if (m == NULL)
        return kl_err_set(err, "out of memory");
    m->kind = BUNDLE_KIND_MODULE;
    m->app = 1;
    m->file = strdup(path);
    m->rel = strdup(base ? base + 1 : path);
    if (m->file == NULL || m->rel == NULL)
        return kl_err_set(err, "out of memory");
    return 0;
}

int build_graph_resolve(build_graph *g, kl_err *err)
{
    size_t i;
    int missing = 0;

    if (build_graph_request(g, "encodings", "(interpreter start-up)", 0, err) < 0 ||
        graph_request_tree(g, "encodings", err) < 0)
        return -1;
    for (i = 0; i < sizeof build_always / sizeof build_always[0]; i++)
        if (build_graph_request(g, build_always[i], "(kiln runtime)", 0, err) < 0)
            return -1;
    for (i = 0; i < g->opt->n_hidden; i++)
        if (build_graph_require(g, g->opt->hidden[i], err) < 0)
            return kl_err_prefix(err, "--hidden-import");
    while (g->next < g->n) {
        build_module *m = g->mods[g->next++];

        if (graph_process(g, m, err) < 0)
            return -1;
    }
    for (i = 0; i < g->n; i++) {
        build_module *m = g->mods[i];

        if (m->state != MOD_MISSING)
            continue;
        if (m->importer_outside_stdlib || g->opt->verbose) {
            fprintf(stderr, "kiln: warning: module '%s' not found "
                            "(imported by %s)\n", m->name, m->importers);
            missing++;
        }
    }
    if (missing)
        fprintf(stderr, "kiln: %d module(s) not found; if the program needs "
                        "them, install them for %s or pass --hidden-import\n",
                missing, KILN_PYTHON_EXE);
    return 0;
}

int build_graph_emit(build_graph *g, bundle_writer *w, kl_err *err)
{
    int level = g->opt->compress ? BUILD_COMPRESS_LEVEL : 0;
    size_t i;
    int count = 0;

    for (i = 0; i < g->n; i++) {
        build_module *m = g->mods[i];
        uint8_t *bytes = NULL;
        size_t n = 0;
        int r;

        if (m->state != MOD_FOUND)
            continue;
        if (g->opt->verbose)
            fprintf(stderr, "kiln: %-9s %-40s (imported by %s)\n",
                    bundle_kind_name(m->kind), m->name, m->via ? m->via : "-");
        switch (m->kind) {
        case BUNDLE_KIND_MODULE:
        case BUNDLE_KIND_PACKAGE:
            r = bundle_writer_add(
                w, m->kind, m->name, m->rel, PyBytes_AS_STRING(m->marshalled),
                (size_t)PyBytes_GET_SIZE(m->marshalled),
                m->source ? PyBytes_AS_STRING(m->source) : NULL,
                m->source ? (size_t)PyBytes_GET_SIZE(m->source) : 0, level, err);
            break;
        case BUNDLE_KIND_EXTENSION:
            if (kl_read_file(m->file, &bytes, &n, err) < 0)
                return -1;
            if (g->opt->strip)
                n = build_elf_loadable_size(bytes, n);
            r = bundle_writer_add(w, m->kind, m->name, m->rel, bytes, n, NULL,
                                  0, level, err);
            free(bytes);
            break;
        default:
            r = bundle_writer_add(w, m->kind, m->name, m->rel, NULL, 0, NULL,
                                  0, 0, err);
        }
        if (r < 0)
            return -1;
        count++;
    }
    if (g->opt->verbose)
        fprintf(stderr, "kiln: %d modules bundled\n", count);
    return 0;
}
