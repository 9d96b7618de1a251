/*
 * fz_graph.c: find every module an application needs.
 *
 * Starting from the app's main module, each module is located the way
 * CPython's path finder would locate it (fz_locate.c), compiled
 * (fz_compile.c), and its code scanned for imports (fz_scan.c), whose
 * records the graph follows: absolute imports, relative imports and
 * `from pkg import name` (where name may be a submodule), transitively,
 * through the standard library, by the rules of fz_policy.c. Built-in and
 * frozen modules are part of the runtime stub and are not bundled, but
 * frozen modules' imports are followed.
 */
#include "fz_graph.h"

#include <marshal.h>

#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz_graph {
    const fz_options *opt;
    fz_env *env;
    fz_module **mods;
    size_t n;
    size_t cap;
    size_t next;      /* first module whose imports are not followed yet */
    PyObject *index;  /* dict: name -> index into mods */
};

/* The record of module `name` (owned by the graph), or NULL. */
static fz_module *fz_graph_get(fz_graph *g, const char *name)
{
    PyObject *idx = PyDict_GetItemString(g->index, name);

    return idx ? g->mods[PyLong_AsSize_t(idx)] : NULL;
}

/* Add a new module record named `name` in `state` and return it (owned by
 * the graph) in *out. */
static int fz_graph_add(fz_graph *g, const char *name, enum fz_state state,
                        fz_module **out, kl_err *err)
{
    fz_module *m = calloc(1, sizeof *m);
    PyObject *idx;

    *out = NULL;
    if (m == NULL)
        return kl_err_oom(err);
    m->name = strdup(name);
    m->state = state;
    if (m->name == NULL)
        goto oom;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 512;
        fz_module **mods = realloc(g->mods, cap * sizeof *mods);

        if (mods == NULL)
            goto oom;
        g->mods = mods;
        g->cap = cap;
    }
    idx = PyLong_FromSize_t(g->n);
    if (idx == NULL || PyDict_SetItemString(g->index, name, idx) < 0) {
        Py_XDECREF(idx);
        free(m->name);
        free(m);
        return fz_python_error(name, err);
    }
    Py_DECREF(idx);
    g->mods[g->n++] = m;
    *out = m;
    return 0;
oom:
    free(m->name);
    free(m);
    return kl_err_oom(err);
}

/* Free record m and everything it owns. */
static void fz_module_free(fz_module *m)
{
    free(m->name);
    free(m->file);
    free(m->rel);
    kl_strv_free(&m->dirs);
    free(m->importers);
    free(m->via);
    Py_XDECREF(m->marshalled);
    Py_XDECREF(m->source);
    free(m);
}

/* Forget the most recently added record, m. */
static void fz_graph_drop_last(fz_graph *g, fz_module *m)
{
    assert(g->n > 0 && g->mods[g->n - 1] == m);
    if (PyDict_DelItemString(g->index, m->name) < 0)
        PyErr_Clear();
    g->n--;
    fz_module_free(m);
}

/* Note that `importer` wanted missing module m. */
static int fz_graph_note_importer(fz_graph *g, fz_module *m,
                                  const char *importer, kl_err *err)
{
    fz_module *imp = fz_graph_get(g, importer);
    char *list;

    if (imp != NULL && !imp->stdlib)
        m->importer_outside_stdlib = 1;
    if (m->importers == NULL) {
        m->importers = strdup(importer);
        return m->importers ? 0 : kl_err_oom(err);
    }
    if (strlen(m->importers) > 400)
        return 0;
    list = kl_str_join3(m->importers, ", ", importer);
    if (list == NULL)
        return kl_err_oom(err);
    free(m->importers);
    m->importers = list;
    return 0;
}

/* True when --exclude-module leaves `name` out. */
static int fz_graph_excluded(fz_graph *g, const char *name)
{
    size_t i;

    for (i = 0; i < g->opt->n_excludes; i++)
        if (fz_name_within(name, g->opt->excludes[i]))
            return 1;
    return 0;
}

/* Record `name` if the interpreter provides it itself (built in or
 * frozen); *internal says whether it does. */
static int fz_graph_internal(fz_graph *g, const char *name, int *internal,
                             kl_err *err)
{
    PyObject *pyname = PyUnicode_FromString(name);
    PyObject *r = NULL;
    fz_module *m;
    int frozen = 0, builtin;

    *internal = 0;
    if (pyname == NULL)
        return fz_python_error(name, err);
    builtin = PySequence_Contains(g->env->builtin_names, pyname);
    if (builtin == 0)
        r = PyObject_CallMethod(g->env->imp, "is_frozen", "O", pyname);
    Py_DECREF(pyname);
    if (builtin < 0)
        return fz_python_error(name, err);
    frozen = r != NULL && PyObject_IsTrue(r) == 1;
    Py_XDECREF(r);
    PyErr_Clear();
    if (!builtin && !frozen)
        return 0;
    if (fz_graph_add(g, name, builtin ? FZ_BUILTIN : FZ_FROZEN, &m, err) < 0)
        return -1;
    *internal = 1;
    m->stdlib = 1;
    if (frozen) {
        r = PyObject_CallMethod(g->env->imp, "is_frozen_package", "s", name);
        m->is_package = r != NULL && PyObject_IsTrue(r) == 1;
        Py_XDECREF(r);
        PyErr_Clear();
    }
    return 0;
}

/* Request module `name` for `importer` (a module name, or a description
 * such as "(command line)"), from inside a function of it when lazy.
 * Missing modules are recorded with their importers, unless `optional` (a
 * `from pkg import name` that may be an attribute). Parents are requested
 * first. */
static int fz_graph_request(fz_graph *g, const char *name,
                            const char *importer, int optional, int lazy,
                            kl_err *err)
{
    fz_module *m, *imp, *parent = NULL;
    const char *dot = strrchr(name, '.');
    const kl_strv *dirs;
    int found, internal;

    if (name[0] == '\0' || fz_graph_excluded(g, name) ||
        (lazy && (imp = fz_graph_get(g, importer)) != NULL &&
         fz_policy_skip_lazy(name, importer, imp->stdlib, lazy)))
        return 0;
    m = fz_graph_get(g, name);
    if (m != NULL) {
        if (m->state == FZ_MISSING && !optional)
            return fz_graph_note_importer(g, m, importer, err);
        return 0;
    }
    if (fz_graph_internal(g, name, &internal, err) < 0)
        return -1;
    if (internal)
        return 0;
    if (dot != NULL) {
        char *pname = strndup(name, (size_t)(dot - name));
        int r;

        if (pname == NULL)
            return kl_err_oom(err);
        r = fz_graph_request(g, pname, importer, optional, lazy, err);
        parent = r < 0 ? NULL : fz_graph_get(g, pname);
        free(pname);
        if (r < 0)
            return -1;
        if (parent == NULL || parent->state == FZ_MISSING ||
            parent->dirs.n == 0)
            return 0; /* the parent's own warning says enough */
        dirs = &parent->dirs;
    } else {
        dirs = &g->env->search;
    }
    if (fz_graph_add(g, name, FZ_MISSING, &m, err) < 0)
        return -1;
    if ((m->via = strdup(importer)) == NULL)
        return kl_err_oom(err);
    if (fz_locate(g->env, m, dot ? dot + 1 : name, dirs, &found, err) < 0)
        return -1;
    if (found)
        return 0;
    if (optional) {
        /* `from pkg import attr`: an attribute, not a module. */
        fz_graph_drop_last(g, m);
        return 0;
    }
    return fz_graph_note_importer(g, m, importer, err);
}

/* Request each module in the NULL-terminated list for `importer`. */
static int fz_graph_request_all(fz_graph *g, const char *const *names,
                                const char *importer, kl_err *err)
{
    for (; names != NULL && *names != NULL; names++)
        if (fz_graph_request(g, *names, importer, 0, 0, err) < 0)
            return -1;
    return 0;
}

/* Request, as optional submodules of package m, the names its code (the
 * constants where __all__ lives) offers to `from m import *`. */
static int fz_graph_star_names(fz_graph *g, fz_module *m, PyObject *code,
                               int lazy, kl_err *err)
{
    kl_strv names = KL_STRV_INIT;
    kl_buf sub = KL_BUF_INIT;
    size_t i;
    int r = fz_scan_star_names(code, &names, err);

    for (i = 0; r == 0 && i < names.n; i++) {
        if (kl_buf_setf(&sub, "%s.%s", m->name, names.v[i]) < 0)
            r = kl_err_oom(err);
        else
            r = fz_graph_request(g, sub.s, m->name, 1, lazy, err);
    }
    kl_buf_free(&sub);
    kl_strv_free(&names);
    return r;
}

/* Module `name` is the target of `from name import *`: its __all__ may
 * name submodules, which that statement imports. */
static int fz_graph_star_import(fz_graph *g, const char *name, int lazy,
                                kl_err *err)
{
    fz_module *m = fz_graph_get(g, name);
    PyObject *code;
    int r;

    if (m == NULL || m->state != FZ_FOUND || m->kind != BUNDLE_KIND_PACKAGE ||
        m->star_imported)
        return 0;
    m->star_imported = 1;
    if (m->marshalled == NULL)
        return 0; /* not compiled yet: fz_graph_process will look */
    code = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(m->marshalled),
                                          PyBytes_GET_SIZE(m->marshalled));
    if (code == NULL)
        return fz_python_error(name, err);
    r = fz_graph_star_names(g, m, code, lazy, err);
    Py_DECREF(code);
    return r;
}

/* Follow the import records of module `importer`. */
static int fz_graph_follow(fz_graph *g, const char *importer,
                           const fz_imports *imports, kl_err *err)
{
    kl_buf sub = KL_BUF_INIT;
    size_t i, k;
    int r = 0;

    for (i = 0; r == 0 && i < imports->n; i++) {
        const fz_import *rec = &imports->v[i];

        r = fz_graph_request(g, rec->name, importer, 0, rec->lazy, err);
        for (k = 0; r == 0 && k < rec->from.n; k++) {
            if (strcmp(rec->from.v[k], "*") == 0)
                r = fz_graph_star_import(g, rec->name, rec->lazy, err);
            else if (kl_buf_setf(&sub, "%s.%s", rec->name, rec->from.v[k]) < 0)
                r = kl_err_oom(err);
            else
                r = fz_graph_request(g, sub.s, importer, 1, rec->lazy, err);
        }
    }
    kl_buf_free(&sub);
    return r;
}

/* True when module `name` may run as __main__: the script, any package's
 * __main__ module, and the module given to -m. */
static int fz_graph_runs_as_main(fz_graph *g, const char *name)
{
    size_t n = strlen(name);

    return strcmp(name, "__main__") == 0 ||
           (n > 9 && strcmp(name + n - 9, ".__main__") == 0) ||
           (g->opt->module != NULL && strcmp(name, g->opt->module) == 0);
}

/* Compile module m if it has source, and follow its imports. */
static int fz_graph_process(fz_graph *g, fz_module *m, kl_err *err)
{
    fz_imports imports = {NULL, 0, 0};
    PyObject *code = NULL;
    int r;

    if (fz_graph_request_all(g, fz_policy_hidden(m->name), m->name, err) < 0)
        return -1;
    if (strcmp(m->name, "sysconfig") == 0 && g->env->sysconfigdata != NULL &&
        fz_graph_request(g, g->env->sysconfigdata, m->name, 0, 0, err) < 0)
        return -1;
    if (m->state == FZ_FROZEN) {
        code = PyObject_CallMethod(g->env->imp, "get_frozen_object", "s",
                                   m->name);
        if (code == NULL)
            return fz_python_error(m->name, err);
    } else if (m->state == FZ_FOUND && (m->kind == BUNDLE_KIND_MODULE ||
                                        m->kind == BUNDLE_KIND_PACKAGE)) {
        if (fz_compile(m->file, m->rel, m->stdlib, &code, &m->marshalled,
                       &m->source, err) < 0) {
            if (m->app || strcmp(m->name, "__main__") == 0)
                return -1;
            kl_warn("%s: not bundled: %s", m->name, err->msg);
            m->state = FZ_BROKEN;
            return 0;
        }
    } else {
        return 0;
    }
    r = fz_scan_imports(&g->env->ops, m->name, m->is_package,
                        fz_graph_runs_as_main(g, m->name), code, &imports,
                        err);
    if (r == 0)
        r = fz_graph_follow(g, m->name, &imports, err);
    if (r == 0 && m->star_imported)
        r = fz_graph_star_names(g, m, code, 0, err);
    fz_imports_free(&imports);
    Py_DECREF(code);
    if (g->opt->no_source)
        Py_CLEAR(m->source);
    return r;
}

/* Request every module and subpackage in package `name`'s directories,
 * recursively, in sorted order. */
static int fz_graph_request_tree(fz_graph *g, const char *name, kl_err *err)
{
    fz_module *m = fz_graph_get(g, name);
    kl_buf sub = KL_BUF_INIT;
    size_t d;
    int r = 0;

    if (m == NULL || m->state != FZ_FOUND)
        return 0;
    for (d = 0; d < m->dirs.n && r == 0; d++) {
        struct dirent **list = NULL;
        int n = scandir(m->dirs.v[d], &list, NULL, alphasort), i;

        for (i = 0; i < n; i++) {
            char *child = NULL;

            if (r == 0)
                r = fz_locate_child(g->env, m->dirs.v[d], list[i]->d_name,
                                    &child, err);
            if (r == 0 && child != NULL) {
                if (kl_buf_setf(&sub, "%s.%s", name, child) < 0)
                    r = kl_err_oom(err);
                else
                    r = fz_graph_request(g, sub.s, name, 1, 0, err);
                if (r == 0 && fz_graph_is_package(g, sub.s))
                    r = fz_graph_request_tree(g, sub.s, err);
            }
            free(child);
            free(list[i]);
        }
        free(list);
    }
    kl_buf_free(&sub);
    return r;
}

int fz_graph_new(const fz_options *opt, fz_env *env, fz_graph **out,
                 kl_err *err)
{
    fz_graph *g = calloc(1, sizeof *g);

    *out = NULL;
    if (g == NULL)
        return kl_err_oom(err);
    g->opt = opt;
    g->env = env;
    g->index = PyDict_New();
    if (g->index == NULL) {
        free(g);
        return fz_python_error("the import graph", err);
    }
    *out = g;
    return 0;
}

void fz_graph_free(fz_graph *g)
{
    size_t i;

    if (g == NULL)
        return;
    for (i = 0; i < g->n; i++)
        fz_module_free(g->mods[i]);
    free(g->mods);
    Py_XDECREF(g->index);
    free(g);
}

int fz_graph_add_script(fz_graph *g, const char *path, kl_err *err)
{
    fz_module *m;
    const char *base = strrchr(path, '/');

    if (!kl_is_file(path))
        return kl_err_set(err, "%s: no such file (the script to build)", path);
    if (fz_graph_add(g, "__main__", FZ_FOUND, &m, err) < 0)
        return -1;
    m->kind = BUNDLE_KIND_MODULE;
    m->app = 1;
    m->file = strdup(path);
    m->rel = strdup(base ? base + 1 : path);
    if (m->file == NULL || m->rel == NULL)
        return kl_err_oom(err);
    return 0;
}

int fz_graph_require(fz_graph *g, const char *name, kl_err *err)
{
    fz_module *m;

    if (fz_graph_request(g, name, "(command line)", 0, 0, err) < 0)
        return -1;
    m = fz_graph_get(g, name);
    if (m == NULL || m->state == FZ_MISSING)
        return kl_err_set(err, "module '%s' not found (searched the app's "
                               "directory and %s's sys.path)",
                          name, KILN_PYTHON_EXE);
    return 0;
}

int fz_graph_is_package(fz_graph *g, const char *name)
{
    fz_module *m = fz_graph_get(g, name);

    return m != NULL && m->is_package;
}

int fz_graph_resolve(fz_graph *g, kl_err *err)
{
    size_t i;
    int missing = 0;

    if (fz_graph_request(g, "encodings", "(interpreter start-up)", 0, 0,
                         err) < 0 ||
        fz_graph_request_tree(g, "encodings", err) < 0 ||
        fz_graph_request_all(g, fz_policy_always, "(kiln runtime)", err) < 0)
        return -1;
    for (i = 0; i < g->opt->n_hidden; i++)
        if (fz_graph_require(g, g->opt->hidden[i], err) < 0)
            return kl_err_prefix(err, "--hidden-import");
    while (g->next < g->n) {
        kl_progress("collecting modules", g->next, g->n);
        if (fz_graph_process(g, g->mods[g->next++], err) < 0)
            return -1;
    }
    kl_progress_end();
    for (i = 0; i < g->n; i++) {
        fz_module *m = g->mods[i];

        if (m->state != FZ_MISSING)
            continue;
        if (m->importer_outside_stdlib || g->opt->verbose) {
            kl_warn("module '%s' not found (imported by %s)", m->name,
                    m->importers);
            missing++;
        }
    }
    if (missing)
        kl_note("%d module(s) not found; if the program needs them, install "
                "them for %s or pass --hidden-import", missing,
                KILN_PYTHON_EXE);
    return 0;
}

/* Why module m is in the program (enum plan_why), from who asked for it
 * first. */
static unsigned fz_graph_why(fz_graph *g, const fz_module *m)
{
    const char *const *hidden;
    size_t i;

    if (m->via == NULL)
        return PLAN_WHY_RUN; /* the script */
    if (strcmp(m->via, "(command line)") == 0) {
        for (i = 0; i < g->opt->n_hidden; i++)
            if (fz_name_within(g->opt->hidden[i], m->name))
                return PLAN_WHY_HIDDEN;
        return PLAN_WHY_RUN;
    }
    if (m->via[0] == '(')
        return PLAN_WHY_ALWAYS; /* interpreter start-up, kiln runtime */
    for (hidden = fz_policy_hidden(m->via); hidden && *hidden; hidden++)
        if (strcmp(*hidden, m->name) == 0)
            return PLAN_WHY_HIDDEN;
    return PLAN_WHY_IMPORT;
}

/* Record in p the modules the app reaches that are not in it: not found,
 * or found but not compilable. */
static int fz_graph_omissions(fz_graph *g, plan *p, kl_err *err)
{
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && i < g->n; i++) {
        const fz_module *m = g->mods[i];

        if (m->state == FZ_MISSING)
            r = plan_omit(p, m->name, PLAN_OMIT_MISSING, m->importers, NULL,
                          err);
        else if (m->state == FZ_BROKEN)
            r = plan_omit(p, m->name, PLAN_OMIT_BROKEN, m->via,
                          "could not be compiled", err);
    }
    return r;
}

int fz_graph_plan(fz_graph *g, plan *p, kl_err *err)
{
    int level = g->opt->compress ? FZ_COMPRESS_LEVEL : 0;
    int src_level = level > FZ_SOURCE_LEVEL ? level : FZ_SOURCE_LEVEL;
    kl_buf reason = KL_BUF_INIT;
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && i < g->n; i++) {
        fz_module *m = g->mods[i];
        plan_entry *e;

        if (m->state != FZ_FOUND)
            continue;
        if (kl_buf_setf(&reason, "imported by %s", m->via ? m->via : "-") < 0) {
            r = kl_err_oom(err);
            break;
        }
        r = plan_add(p, m->kind, m->name, m->rel, reason.s, &e, err);
        if (r == 0)
            r = plan_entry_origin(e, fz_graph_why(g, m), NULL, m->via, err);
        if (r < 0)
            break;
        if (m->kind == BUNDLE_KIND_MODULE || m->kind == BUNDLE_KIND_PACKAGE) {
            r = plan_part_copy(&e->data, PyBytes_AS_STRING(m->marshalled),
                               (size_t)PyBytes_GET_SIZE(m->marshalled), level,
                               err);
            if (r == 0)
                r = plan_entry_set_origin(e, m->file, err);
            if (r == 0 && m->source != NULL)
                r = plan_part_copy(&e->aux, PyBytes_AS_STRING(m->source),
                                   (size_t)PyBytes_GET_SIZE(m->source),
                                   src_level, err);
        } else if (m->kind == BUNDLE_KIND_EXTENSION) {
            r = plan_part_file(&e->data, m->file, level, err);
            e->strip = g->opt->strip;
        }
    }
    kl_buf_free(&reason);
    return r < 0 ? -1 : fz_graph_omissions(g, p, err);
}
