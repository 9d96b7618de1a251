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
#include "build.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum build_state {
    MOD_FOUND = 1,   /* located on disk; kind says what it is */
    MOD_BUILTIN = 2, /* compiled into the interpreter */
    MOD_FROZEN = 3,  /* frozen into the interpreter */
    MOD_MISSING = 4, /* not found; importers says who wanted it */
    MOD_BROKEN = 5   /* found but could not be compiled (not bundled) */
};

typedef struct build_module {
    char *name;
    int state;
    unsigned kind;        /* bundle kind when MOD_FOUND */
    int is_package;
    char *file;           /* file on disk; NULL for namespace packages */
    char *rel;            /* path inside the program */
    char **dirs;          /* package search directories */
    size_t ndirs;
    int stdlib;           /* lives in the standard library */
    int app;              /* lives in the application's own directory */
    char *importers;      /* MOD_MISSING: "a, b, c" */
    char *via;            /* the first module that imported this one */
    int importer_outside_stdlib;
    PyObject *marshalled; /* MOD_FOUND modules and packages */
    PyObject *source;
} build_module;

struct build_graph {
    const build_options *opt;
    build_module **mods;
    size_t n, cap;
    size_t next;          /* first module whose imports are not followed yet */
    PyObject *index;      /* dict: name -> index into mods */
    char **search;        /* top-level search directories */
    size_t nsearch;
    char **suffixes;      /* extension module suffixes */
    size_t nsuffixes;
    PyObject *builtin_names;
    PyObject *imp;
    char *app_dir;
    char *stdlib_dirs[2];
    int op_import_name, op_load_const, op_extended_arg;
};

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

/* Never followed unless named with --hidden-import: the CPython test
 * suite and its test-only extension modules, and tools that only the
 * interactive interpreter or a developer's machine uses. Each is reached
 * from the stdlib only by lazy imports inside functions. */
static const char *const build_default_excludes[] = {
    "test", "idlelib", "turtledemo", "lib2to3.tests", "tkinter.test",
    "unittest.test", "ctypes.test", "distutils.tests", "__phello__",
    "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase",
    "_testclinic", "_testimportmultiple", "_testsinglephase", "_xxtestfuzz",
    "_ctypes_test", "xxlimited", "xxlimited_35", "xxsubtype", "pydoc_data",
};

/* Developer tools that the standard library imports lazily from functions
 * an application rarely calls (pickle's self-test imports doctest, which
 * imports pdb, pydoc, unittest, ...). Followed only when a module outside
 * the standard library, or --hidden-import, asks for them. */
static const char *const build_stdlib_lazy[] = {
    "doctest", "pdb", "pydoc", "unittest", "tkinter", "turtle", "lib2to3",
    "ensurepip", "venv",
};

/* Always bundled: codecs are looked up by name at run time, and uncaught
 * exceptions are printed through traceback. */
static const char *const build_always[] = {"traceback", "linecache",
                                           "warnings"};

static int graph_request(build_graph *g, const char *name,
                         const char *importer, int optional, kl_err *err);

static int path_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int path_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* New malloc'd string a + b + c. NULL when out of memory. */
static char *str_join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* Append a copy of s to the string array *arr of *n items. */
static int strv_push(char ***arr, size_t *n, const char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof **arr);

    if (grown == NULL)
        return -1;
    *arr = grown;
    grown[*n] = strdup(s);
    if (grown[*n] == NULL)
        return -1;
    (*n)++;
    return 0;
}

static void strv_free(char **arr, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(arr[i]);
    free(arr);
}

/* Copy of a Python list of str into a C string array. */
static int strv_from_list(PyObject *list, char ***arr, size_t *n, int dirs_only)
{
    Py_ssize_t i;

    for (i = 0; i < PyList_Size(list); i++) {
        PyObject *item = PyList_GetItem(list, i);
        PyObject *enc;
        int r;

        if (!PyUnicode_Check(item))
            continue;
        enc = PyUnicode_EncodeFSDefault(item);
        if (enc == NULL)
            return -1;
        r = 0;
        if (!dirs_only || path_is_dir(PyBytes_AS_STRING(enc)))
            r = strv_push(arr, n, PyBytes_AS_STRING(enc));
        Py_DECREF(enc);
        if (r < 0)
            return -1;
    }
    return 0;
}

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
    strv_free(m->dirs, m->ndirs);
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
    list = str_join3(m->importers, ", ", importer);
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
    size_t i, k;

    for (i = 0; i < g->opt->n_excludes; i++)
        if (name_within(name, g->opt->excludes[i]))
            return 1;
    for (i = 0; i < sizeof build_default_excludes / sizeof(char *); i++) {
        if (!name_within(name, build_default_excludes[i]))
            continue;
        for (k = 0; k < g->opt->n_hidden; k++)
            if (name_within(name, g->opt->hidden[k]) ||
                name_within(g->opt->hidden[k], build_default_excludes[i]))
                return 0;
        return 1;
    }
    return 0;
}

/* True when `importer`, a standard library module, asks for one of the
 * developer tools in build_stdlib_lazy (see there). */
static int graph_lazy_stdlib_tool(build_graph *g, const char *name,
                                  const char *importer)
{
    build_module *imp;
    size_t i;

    for (i = 0; i < sizeof build_stdlib_lazy / sizeof(char *); i++) {
        if (!name_within(name, build_stdlib_lazy[i]))
            continue;
        imp = graph_get(g, importer);
        return imp != NULL && imp->stdlib &&
               !name_within(importer, build_stdlib_lazy[i]);
    }
    return 0;
}

/* True when file lies in the standard library (not in site-packages). */
static int graph_in_stdlib(build_graph *g, const char *file)
{
    int i;

    if (strstr(file, "/site-packages/") || strstr(file, "/dist-packages/"))
        return 0;
    for (i = 0; i < 2; i++) {
        size_t n = g->stdlib_dirs[i] ? strlen(g->stdlib_dirs[i]) : 0;

        if (n && strncmp(file, g->stdlib_dirs[i], n) == 0 && file[n] == '/')
            return 1;
    }
    return 0;
}

/* Fill m's location fields from a file found on disk. */
static int module_set_file(build_graph *g, build_module *m, unsigned kind,
                           const char *file, const char *rel_tail)
{
    char *rel_base = strdup(m->name);
    char *p;

    if (rel_base == NULL)
        return -1;
    for (p = rel_base; *p; p++)
        if (*p == '.')
            *p = '/';
    m->state = MOD_FOUND;
    m->kind = kind;
    m->is_package = kind == BUNDLE_KIND_PACKAGE || kind == BUNDLE_KIND_NAMESPACE;
    m->rel = str_join3(rel_base, rel_tail, "");
    free(rel_base);
    if (m->rel == NULL)
        return -1;
    if (file != NULL) {
        m->file = strdup(file);
        if (m->file == NULL)
            return -1;
        m->stdlib = graph_in_stdlib(g, file);
        m->app = g->app_dir != NULL &&
                 strncmp(file, g->app_dir, strlen(g->app_dir)) == 0 &&
                 file[strlen(g->app_dir)] == '/' && !m->stdlib &&
                 strstr(file + strlen(g->app_dir), "-packages/") == NULL;
    }
    return 0;
}

/* Locate module m (last component `tail`) in directories dirs, as
 * importlib's FileFinder would. Returns 1 found, 0 not found, -1 error. */
static int graph_locate(build_graph *g, build_module *m, const char *tail,
                        char **dirs, size_t ndirs)
{
    char **portions = NULL;
    size_t nportions = 0, i, k;
    char path[4096];

    for (i = 0; i < ndirs; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], tail);
        if (path_is_dir(path)) {
            char init[4200];

            snprintf(init, sizeof init, "%s/__init__.py", path);
            if (path_is_file(init)) {
                strv_free(portions, nportions);
                if (module_set_file(g, m, BUNDLE_KIND_PACKAGE, init,
                                    "/__init__.py") < 0)
                    return -1;
                return strv_push(&m->dirs, &m->ndirs, path) < 0 ? -1 : 1;
            }
        }
        for (k = 0; k < g->nsuffixes; k++) {
            snprintf(path, sizeof path, "%s/%s%s", dirs[i], tail,
                     g->suffixes[k]);
            if (path_is_file(path)) {
                strv_free(portions, nportions);
                return module_set_file(g, m, BUNDLE_KIND_EXTENSION, path,
                                       g->suffixes[k]) < 0 ? -1 : 1;
            }
        }
        snprintf(path, sizeof path, "%s/%s.py", dirs[i], tail);
        if (path_is_file(path)) {
            strv_free(portions, nportions);
            return module_set_file(g, m, BUNDLE_KIND_MODULE, path, ".py") < 0
                       ? -1 : 1;
        }
        snprintf(path, sizeof path, "%s/%s", dirs[i], tail);
        if (path_is_dir(path) && strv_push(&portions, &nportions, path) < 0)
            return -1;
    }
    if (nportions == 0)
        return 0;
    if (module_set_file(g, m, BUNDLE_KIND_NAMESPACE, NULL, "") < 0) {
        strv_free(portions, nportions);
        return -1;
    }
    m->dirs = portions;
    m->ndirs = nportions;
    m->stdlib = graph_in_stdlib(g, portions[0]);
    return 1;
}

/* Request each of the space-separated module names in list. */
static int graph_request_list(build_graph *g, const char *list,
                              const char *importer, kl_err *err)
{
    char buf[512];
    char *tok, *save = NULL;

    snprintf(buf, sizeof buf, "%s", list);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
        if (graph_request(g, tok, importer, 0, err) < 0)
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
        r = graph_request(g, PyUnicode_AsUTF8(name), "sysconfig", 0, err);
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

static int graph_request(build_graph *g, const char *name,
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
        r = graph_request(g, pname, importer, optional, err);
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
    r = graph_locate(g, m, dot ? dot + 1 : name, dirs, ndirs);
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

int build_graph_require(build_graph *g, const char *name, kl_err *err)
{
    build_module *m;

    if (graph_request(g, name, "(command line)", 0, err) < 0)
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

/* Absolute name of an import of `name` at `level` from module `from`. */
static char *graph_resolve_name(const char *from, int from_pkg,
                                const char *name, long level)
{
    char base[1024];
    char *dot;

    if (level <= 0)
        return strdup(name);
    snprintf(base, sizeof base, "%s", from);
    if (!from_pkg) {
        dot = strrchr(base, '.');
        if (dot == NULL)
            return NULL; /* relative import outside a package */
        *dot = '\0';
    }
    while (--level > 0) {
        dot = strrchr(base, '.');
        if (dot == NULL)
            return NULL;
        *dot = '\0';
    }
    if (strcmp(from, "__main__") == 0)
        return NULL;
    return name[0] ? str_join3(base, ".", name) : strdup(base);
}

/* Follow one IMPORT_NAME: `name` at `level`, with `fromlist`. */
static int graph_follow_import(build_graph *g, build_module *m, PyObject *name,
                               long level, PyObject *fromlist, kl_err *err)
{
    const char *s = PyUnicode_AsUTF8(name);
    char *abs;
    Py_ssize_t i;
    int r = 0;

    if (s == NULL)
        return build_python_error(err, m->name);
    abs = graph_resolve_name(m->name, m->is_package, s, level);
    if (abs == NULL)
        return 0;
    if (graph_request(g, abs, m->name, 0, err) < 0) {
        free(abs);
        return -1;
    }
    if (fromlist != NULL && PyTuple_Check(fromlist)) {
        for (i = 0; i < PyTuple_GET_SIZE(fromlist) && r == 0; i++) {
            PyObject *item = PyTuple_GET_ITEM(fromlist, i);
            const char *it = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            char *sub;

            if (it == NULL || strcmp(it, "*") == 0)
                continue;
            sub = str_join3(abs, ".", it);
            if (sub == NULL) {
                free(abs);
                return kl_err_set(err, "out of memory");
            }
            r = graph_request(g, sub, m->name, 1, err);
            free(sub);
        }
    }
    free(abs);
    return r;
}

/* Line ranges of top-level `if __name__ == "__main__":` blocks. */
typedef struct line_ranges {
    long start[8];
    long end[8];
    int n;
} line_ranges;

/* True when AST node `test` is `__name__ == "__main__"`. */
static int graph_is_main_test(PyObject *test)
{
    PyObject *left = NULL, *comps = NULL, *id = NULL, *value = NULL;
    int r = 0;

    if (strcmp(Py_TYPE(test)->tp_name, "Compare") != 0)
        return 0;
    left = PyObject_GetAttrString(test, "left");
    comps = PyObject_GetAttrString(test, "comparators");
    if (left == NULL || comps == NULL || !PyList_Check(comps) ||
        PyList_GET_SIZE(comps) != 1 ||
        strcmp(Py_TYPE(left)->tp_name, "Name") != 0)
        goto done;
    id = PyObject_GetAttrString(left, "id");
    value = PyObject_GetAttrString(PyList_GET_ITEM(comps, 0), "value");
    r = id && value && PyUnicode_Check(id) && PyUnicode_Check(value) &&
        PyUnicode_CompareWithASCIIString(id, "__name__") == 0 &&
        PyUnicode_CompareWithASCIIString(value, "__main__") == 0;
done:
    PyErr_Clear();
    Py_XDECREF(left);
    Py_XDECREF(comps);
    Py_XDECREF(id);
    Py_XDECREF(value);
    return r;
}

/* Find the main blocks of module source `source` (UTF-8 bytes). Imports
 * there run only when the module is the program itself, so another
 * module's main block is not followed. Best effort: on any failure the
 * result is empty. */
static void graph_main_blocks(PyObject *code, PyObject *source,
                              line_ranges *out)
{
    PyObject *consts, *ast = NULL, *tree = NULL, *body = NULL;
    Py_ssize_t i;
    int has_main = 0;

    out->n = 0;
    consts = PyObject_GetAttrString(code, "co_consts");
    for (i = 0; consts && PyTuple_Check(consts) && i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);

        if (PyUnicode_Check(c) && PyUnicode_CompareWithASCIIString(c, "__main__") == 0)
            has_main = 1;
    }
    Py_XDECREF(consts);
    if (!has_main || source == NULL)
        goto done;
    ast = PyImport_ImportModule("ast");
    tree = ast ? PyObject_CallMethod(ast, "parse", "O", source) : NULL;
    body = tree ? PyObject_GetAttrString(tree, "body") : NULL;
    for (i = 0; body && PyList_Check(body) && i < PyList_GET_SIZE(body) && out->n < 8; i++) {
        PyObject *node = PyList_GET_ITEM(body, i), *test, *a, *b;

        if (strcmp(Py_TYPE(node)->tp_name, "If") != 0)
            continue;
        test = PyObject_GetAttrString(node, "test");
        if (test != NULL && graph_is_main_test(test)) {
            a = PyObject_GetAttrString(node, "lineno");
            b = PyObject_GetAttrString(node, "end_lineno");
            if (a && b && PyLong_Check(a) && PyLong_Check(b)) {
                out->start[out->n] = PyLong_AsLong(a);
                out->end[out->n] = PyLong_AsLong(b);
                out->n++;
            }
            Py_XDECREF(a);
            Py_XDECREF(b);
        }
        Py_XDECREF(test);
    }
done:
    PyErr_Clear();
    Py_XDECREF(ast);
    Py_XDECREF(tree);
    Py_XDECREF(body);
}

static int line_in_ranges(const line_ranges *r, long line)
{
    int i;

    for (i = 0; r != NULL && i < r->n; i++)
        if (line >= r->start[i] && line <= r->end[i])
            return 1;
    return 0;
}

/* Fill lines[k] with the source line of instruction k (2-byte units) of
 * code, from co_lines(); -1 where unknown. */
static void graph_code_lines(PyObject *code, long *lines, Py_ssize_t count)
{
    PyObject *it = PyObject_CallMethod(code, "co_lines", NULL);
    PyObject *item;
    Py_ssize_t k;

    for (k = 0; k < count; k++)
        lines[k] = -1;
    while (it && (item = PyIter_Next(it)) != NULL) {
        long start, end, line;

        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3 &&
            PyLong_Check(PyTuple_GET_ITEM(item, 2))) {
            start = PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
            end = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
            line = PyLong_AsLong(PyTuple_GET_ITEM(item, 2));
            for (k = start / 2; k < end / 2 && k < count; k++)
                lines[k] = line;
        }
        Py_DECREF(item);
    }
    PyErr_Clear();
    Py_XDECREF(it);
}

/* Scan code object `code` (and nested ones) of module m for imports,
 * leaving out those on lines in `skip`. */
static int graph_scan_code(build_graph *g, build_module *m, PyObject *code,
                           const line_ranges *skip, kl_err *err)
{
    long *lines = NULL;
    PyObject *bytes = PyObject_GetAttrString(code, "co_code");
    PyObject *consts = PyObject_GetAttrString(code, "co_consts");
    PyObject *names = PyObject_GetAttrString(code, "co_names");
    int prev_op[2] = {-1, -1};
    long prev_arg[2] = {0, 0};
    long ext = 0;
    Py_ssize_t i, n;
    int r = -1;

    if (bytes == NULL || consts == NULL || names == NULL ||
        !PyBytes_Check(bytes) || !PyTuple_Check(consts) || !PyTuple_Check(names)) {
        build_python_error(err, m->name);
        goto done;
    }
    n = PyBytes_GET_SIZE(bytes);
    if (skip != NULL && skip->n > 0) {
        lines = malloc(((size_t)n / 2 + 1) * sizeof *lines);
        if (lines == NULL) {
            kl_err_set(err, "out of memory");
            goto done;
        }
        graph_code_lines(code, lines, n / 2);
    }
    for (i = 0; i + 1 < n; i += 2) {
        int op = (unsigned char)PyBytes_AS_STRING(bytes)[i];
        long arg = (unsigned char)PyBytes_AS_STRING(bytes)[i + 1] | (ext << 8);

        if (op == 0) /* CACHE entries follow some instructions */
            continue;
        if (op == g->op_extended_arg) {
            ext = arg;
            continue;
        }
        ext = 0;
        if (op == g->op_import_name && arg < PyTuple_GET_SIZE(names) &&
            !(lines != NULL && line_in_ranges(skip, lines[i / 2]))) {
            long level = 0;
            PyObject *fromlist = NULL;

            if (prev_op[0] == g->op_load_const && prev_op[1] == g->op_load_const &&
                prev_arg[0] < PyTuple_GET_SIZE(consts) &&
                prev_arg[1] < PyTuple_GET_SIZE(consts)) {
                PyObject *lv = PyTuple_GET_ITEM(consts, prev_arg[0]);

                level = PyLong_Check(lv) ? PyLong_AsLong(lv) : 0;
                fromlist = PyTuple_GET_ITEM(consts, prev_arg[1]);
            }
            if (graph_follow_import(g, m, PyTuple_GET_ITEM(names, arg), level,
                                    fromlist, err) < 0)
                goto done;
        }
        prev_op[0] = prev_op[1];
        prev_arg[0] = prev_arg[1];
        prev_op[1] = op;
        prev_arg[1] = arg;
    }
    for (i = 0; i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);

        if (!PyCode_Check(c) ||
            line_in_ranges(skip, ((PyCodeObject *)c)->co_firstlineno))
            continue;
        if (graph_scan_code(g, m, c, skip, err) < 0)
            goto done;
    }
    r = 0;
done:
    free(lines);
    Py_XDECREF(bytes);
    Py_XDECREF(consts);
    Py_XDECREF(names);
    return r;
}

/* Compile module m if it has source, and follow its imports. */
static int graph_process(build_graph *g, build_module *m, kl_err *err)
{
    PyObject *code = NULL;
    line_ranges skip = {{0}, {0}, 0};
    int r;

    if (graph_request_hidden(g, m->name, err) < 0)
        return -1;
    if (m->state == MOD_FROZEN) {
        code = PyObject_CallMethod(g->imp, "get_frozen_object", "s", m->name);
        if (code == NULL)
            return build_python_error(err, m->name);
    } else if (m->state == MOD_FOUND && (m->kind == BUNDLE_KIND_MODULE ||
                                         m->kind == BUNDLE_KIND_PACKAGE)) {
        if (build_compile(m->file, m->rel, &code, &m->marshalled, &m->source,
                          err) < 0) {
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
    if (strcmp(m->name, "__main__") != 0)
        graph_main_blocks(code, m->source, &skip);
    r = graph_scan_code(g, m, code, &skip, err);
    Py_DECREF(code);
    if (g->opt->no_source)
        Py_CLEAR(m->source);
    return r;
}

/* The module name a directory entry of a package stands for, written to
 * child (size n), or 0 when the entry is not a module. */
static int graph_child_name(build_graph *g, const char *dir, const char *entry,
                            char *child, size_t n)
{
    char full[4200];
    size_t len = strlen(entry), k;

    if (entry[0] == '.' || strcmp(entry, "__pycache__") == 0 ||
        strcmp(entry, "__init__.py") == 0 || len >= n)
        return 0;
    snprintf(full, sizeof full, "%s/%s", dir, entry);
    if (path_is_dir(full)) {
        if (strchr(entry, '.') || strchr(entry, '-'))
            return 0;
        snprintf(child, n, "%s", entry);
        return 1;
    }
    if (len > 3 && strcmp(entry + len - 3, ".py") == 0) {
        snprintf(child, n, "%.*s", (int)(len - 3), entry);
        return strchr(child, '.') == NULL;
    }
    for (k = 0; k < g->nsuffixes; k++) {
        size_t sl = strlen(g->suffixes[k]);

        if (len > sl && strcmp(entry + len - sl, g->suffixes[k]) == 0) {
            snprintf(child, n, "%.*s", (int)(len - sl), entry);
            return strchr(child, '.') == NULL;
        }
    }
    return 0;
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

            if (r == 0 && graph_child_name(g, m->dirs[d], list[i]->d_name,
                                           child, sizeof child)) {
                sub = str_join3(name, ".", child);
                if (sub == NULL)
                    r = kl_err_set(err, "out of memory");
                else
                    r = graph_request(g, sub, name, 1, err);
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

/* Read the opcode numbers the scanner needs from the `opcode` module. */
static int graph_load_opcodes(build_graph *g, kl_err *err)
{
    PyObject *mod = PyImport_ImportModule("opcode");
    PyObject *map = mod ? PyObject_GetAttrString(mod, "opmap") : NULL;
    PyObject *v;

    Py_XDECREF(mod);
    if (map == NULL)
        return build_python_error(err, "opcode");
    v = PyDict_GetItemString(map, "IMPORT_NAME");
    g->op_import_name = v ? (int)PyLong_AsLong(v) : -1;
    v = PyDict_GetItemString(map, "LOAD_CONST");
    g->op_load_const = v ? (int)PyLong_AsLong(v) : -1;
    v = PyDict_GetItemString(map, "EXTENDED_ARG");
    g->op_extended_arg = v ? (int)PyLong_AsLong(v) : -1;
    Py_DECREF(map);
    if (g->op_import_name < 0 || g->op_load_const < 0 || g->op_extended_arg < 0)
        return kl_err_set(err, "this Python's opcode table lacks IMPORT_NAME");
    return 0;
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

    if (g->app_dir && strv_push(&g->search, &g->nsearch, g->app_dir) < 0)
        return kl_err_set(err, "out of memory");
    for (k = 0; k < g->opt->n_paths; k++) {
        char real[4096];

        if (realpath(g->opt->paths[k], real) == NULL || !path_is_dir(real))
            return kl_err_set(err, "--paths %s: not a directory",
                              g->opt->paths[k]);
        if (strv_push(&g->search, &g->nsearch, real) < 0)
            return kl_err_set(err, "out of memory");
    }
    if (sys_path == NULL || strv_from_list(sys_path, &g->search, &g->nsearch, 1) < 0)
        return build_python_error(err, "sys.path");
    mach = PyImport_ImportModule("importlib.machinery");
    sfx = mach ? PyObject_GetAttrString(mach, "EXTENSION_SUFFIXES") : NULL;
    if (sfx == NULL || strv_from_list(sfx, &g->suffixes, &g->nsuffixes, 0) < 0)
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
    r = graph_load_opcodes(g, err);
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
    strv_free(g->search, g->nsearch);
    strv_free(g->suffixes, g->nsuffixes);
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

    if (!path_is_file(path))
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

    if (graph_request(g, "encodings", "(interpreter start-up)", 0, err) < 0 ||
        graph_request_tree(g, "encodings", err) < 0)
        return -1;
    for (i = 0; i < sizeof build_always / sizeof build_always[0]; i++)
        if (graph_request(g, build_always[i], "(kiln runtime)", 0, err) < 0)
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
    int level = g->opt->compress ? 10 : 0;
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
