/*
 * fz_graph.c: the import graph's records and requests: every module asked
 * for gets a record (found, built in, missing, excluded), located the way
 * CPython's path finder would locate it (fz_locate.c) and assigned the
 * distribution that installed it (fz_dist.c); the rules of fz_policy.c
 * decide whether it is in the program or left out. A module left out (an
 * optional import of a distribution the importer does not require, a
 * developer tool) keeps its record and comes in when a later request
 * allows it, or when another module of its distribution comes in; its
 * imports are then followed too. What each module asks for is found by
 * fz_graph_follow.c.
 */
#include "fz_graph.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

fz_module *fz_graph_get(fz_graph *g, const char *name)
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
    free(m->vendor_dir);
    free(m->detail);
    free(m->importers);
    kl_strv_free(&m->needs);
    kl_strv_free(&m->needs_lazy);
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

/* What asks in request q, as the rules see it: *from, and *dist for
 * FZ_FROM_DIST. */
static void fz_graph_from(fz_graph *g, const fz_req *q, enum fz_from *from,
                          const fz_dist **dist)
{
    fz_module *imp = fz_graph_get(g, q->importer);

    *dist = q->from_dist;
    if (q->from_dist != NULL)
        *from = FZ_FROM_DIST;
    else if (imp != NULL && imp->stdlib)
        *from = FZ_FROM_STDLIB;
    else if (imp != NULL && imp->dist != NULL)
        *from = FZ_FROM_DIST, *dist = imp->dist;
    else
        *from = FZ_FROM_APP;
}

/* True when list "a, b, c" holds item. */
static int fz_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    const char *p = list;

    while ((p = strstr(p, item)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
            return 1;
        p += n;
    }
    return 0;
}

/* Note that request q asked for m; a missing module is warned about when
 * an importer outside the standard library needs it (the app's own
 * modules always do; a distribution's only at module level, outside try
 * blocks, and not when only a computed name may load the importer). */
static int fz_graph_note_importer(fz_graph *g, fz_module *m, const fz_req *q,
                                  kl_err *err)
{
    const fz_dist *dist;
    enum fz_from from;
    char *list;

    fz_graph_from(g, q, &from, &dist);
    if (m->state == FZ_MISSING && from != FZ_FROM_STDLIB &&
        (from == FZ_FROM_APP || (!q->guarded && !q->speculative)))
        m->warn = 1;
    if (m->importers == NULL) {
        m->importers = strdup(q->importer);
        return m->importers ? 0 : kl_err_oom(err);
    }
    if (strlen(m->importers) > 400 || fz_list_has(m->importers, q->importer))
        return 0;
    list = kl_str_join3(m->importers, ", ", q->importer);
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

/* Whether the interpreter provides `name` itself: *builtin, *frozen. */
int fz_graph_is_internal(fz_graph *g, const char *name, int *builtin,
                         int *frozen, kl_err *err)
{
    PyObject *pyname = PyUnicode_FromString(name);
    PyObject *r = NULL;

    *builtin = *frozen = 0;
    if (pyname == NULL)
        return fz_python_error(name, err);
    *builtin = PySequence_Contains(g->env->builtin_names, pyname);
    if (*builtin == 0)
        r = PyObject_CallMethod(g->env->imp, "is_frozen", "O", pyname);
    Py_DECREF(pyname);
    if (*builtin < 0)
        return fz_python_error(name, err);
    *frozen = r != NULL && PyObject_IsTrue(r) == 1;
    Py_XDECREF(r);
    PyErr_Clear();
    return 0;
}

/* Record `name` if the interpreter provides it itself (built in or
 * frozen); *internal says whether it does. */
static int fz_graph_internal(fz_graph *g, const char *name, int *internal,
                             kl_err *err)
{
    PyObject *r;
    fz_module *m;
    int frozen, builtin;

    *internal = 0;
    if (fz_graph_is_internal(g, name, &builtin, &frozen, err) < 0)
        return -1;
    if (frozen && !builtin && !fz_interp_frozen_used(g->opt, name))
        frozen = 0;
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

/* Find which distribution installed module m, just located (parent: its
 * package's record, or NULL): a regular package's modules are its own;
 * anything else is looked up by its path in the installed RECORDs. The
 * standard library, the app's own modules and namespace packages (which
 * several distributions may share) belong to none. */
static int fz_graph_find_dist(fz_graph *g, fz_module *m,
                              const fz_module *parent, kl_err *err)
{
    size_t n, r;
    char *site;
    int rc;

    if (m->stdlib || m->app || m->file == NULL)
        return 0;
    if (parent != NULL && parent->kind == BUNDLE_KIND_PACKAGE) {
        m->dist = parent->dist;
        return 0;
    }
    /* The file is <site>/<rel>: rel is its path below the directory it
     * was found in. */
    n = strlen(m->file);
    r = strlen(m->rel);
    if (n <= r + 1 || strcmp(m->file + n - r, m->rel) != 0 ||
        m->file[n - r - 1] != '/')
        return 0;
    site = strndup(m->file, n - r - 1);
    if (site == NULL)
        return kl_err_oom(err);
    rc = fz_dists_owner(g->dists, site, m->rel, 0, &m->dist, err);
    free(site);
    return rc;
}

static int fz_graph_dist_in(fz_graph *g, fz_module *m, kl_err *err);

/* Follow module m's imports (again) after those of the modules found so
 * far. */
static int fz_graph_later(fz_graph *g, fz_module *m, kl_err *err)
{
    if (kl_room(&g->late, &g->cap_late, g->n_late, sizeof *g->late) < 0)
        return kl_err_oom(err);
    m->done = 0;
    g->late[g->n_late++] = m;
    return 0;
}

/* Bring module m, left out so far, into the program for `why`: its
 * package first, then m, whose imports are followed later. */
static int fz_graph_bring_in(fz_graph *g, fz_module *m, const fz_req *q,
                             kl_err *err)
{
    const char *dot = strrchr(m->name, '.');

    m->omit = 0;
    m->why = q->why;
    m->speculative = q->speculative;
    free(m->detail);
    m->detail = NULL;
    if (dot != NULL) {
        char *pname = strndup(m->name, (size_t)(dot - m->name));
        int r;

        if (pname == NULL)
            return kl_err_oom(err);
        r = fz_graph_request(g, pname, q, err);
        free(pname);
        if (r < 0)
            return -1;
    }
    if (fz_graph_later(g, m, err) < 0)
        return -1;
    return fz_graph_dist_in(g, m, err);
}

/* Module m is in the program: the first module of its distribution to be
 * in brings in the modules of it that optional imports left out, since
 * the distribution is there anyway. */
static int fz_graph_dist_in(fz_graph *g, fz_module *m, kl_err *err)
{
    fz_req q = {m->name, NULL, PLAN_WHY_IMPORT, 0, 0, 0, m->speculative};
    size_t i;

    if (m->dist == NULL || m->dist->used)
        return 0;
    m->dist->used = 1;
    for (i = 0; i < g->n; i++) {
        fz_module *o = g->mods[i];

        if (o->state == FZ_FOUND && o->omit == PLAN_OMIT_OPTIONAL &&
            o->dist != NULL && strcmp(o->dist->key, m->dist->key) == 0) {
            q.importer = o->name;
            if (fz_graph_bring_in(g, o, &q, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* What the rules say of request q for module m, located: *omit, and
 * why in detail. */
static int fz_graph_ask(fz_graph *g, const fz_module *m, const fz_req *q,
                        unsigned *omit, kl_buf *detail, kl_err *err)
{
    fz_policy_case c = {m->name, m->stdlib, m->dist, q->importer,
                        FZ_FROM_APP, NULL, q->lazy, q->guarded,
                        q->speculative, m->dist != NULL && m->dist->used};

    fz_graph_from(g, q, &c.from, &c.from_dist);
    return fz_policy_leave_out(&c, omit, detail, err);
}

/* Look for top-level module m, which the search path lacks, where its
 * importer finds it at run time once its distribution has put the
 * installation roots it vendors on sys.path (fz_dist_vendor_roots, as
 * setuptools does with setuptools/_vendor): in the root the importer was
 * itself found in, else in those of its distribution. python appends
 * them, so a module the search path has always wins. *found says whether
 * it is there; m->vendor_dir is then that root. */
static int fz_graph_vendored(fz_graph *g, fz_module *m, const fz_req *q,
                             int *found, kl_err *err)
{
    fz_module *imp = fz_graph_get(g, q->importer);
    kl_strv roots = KL_STRV_INIT, one = KL_STRV_INIT;
    size_t i;
    int r = 0;

    *found = 0;
    if (imp == NULL)
        return 0;
    if (imp->vendor_dir != NULL) {
        if (kl_strv_push(&roots, imp->vendor_dir) < 0)
            return kl_err_oom(err);
    } else if (imp->dist != NULL) {
        if (fz_dist_vendor_roots(imp->dist, &one, err) < 0)
            return -1;
        for (i = 0; i < one.n && r == 0; i++)
            if (kl_strv_take(&roots, kl_str_join3(imp->dist->site, "/",
                                                  one.v[i])) < 0)
                r = kl_err_oom(err);
        kl_strv_free(&one);
    }
    for (i = 0; i < roots.n && r == 0 && !*found; i++) {
        kl_strv dir = {&roots.v[i], 1, 1};

        r = fz_locate(g->env, m, m->name, &dir, found, err);
        if (r == 0 && *found && (m->vendor_dir = strdup(roots.v[i])) == NULL)
            r = kl_err_oom(err);
    }
    kl_strv_free(&roots);
    return r;
}

/* Apply the rules to request q for module m, just located: it is in the
 * program, or left out with why. */
static int fz_graph_decide(fz_graph *g, fz_module *m, const fz_req *q,
                           kl_err *err)
{
    kl_buf detail = KL_BUF_INIT;

    if (fz_graph_ask(g, m, q, &m->omit, &detail, err) < 0) {
        kl_buf_free(&detail);
        return -1;
    }
    if (m->omit) {
        m->detail = kl_buf_detach(&detail);
        return m->detail ? 0 : kl_err_oom(err);
    }
    kl_buf_free(&detail);
    m->why = q->why;
    m->speculative = q->speculative;
    return fz_graph_dist_in(g, m, err);
}

/* Request q asks again for module m, already recorded. A module left out
 * comes in when the rules allow this request. */
static int fz_graph_again(fz_graph *g, fz_module *m, const fz_req *q,
                          kl_err *err)
{
    kl_buf detail = KL_BUF_INIT;
    unsigned omit;
    int r;

    if (m->state == FZ_MISSING && q->maybe_attr)
        return 0;
    if (m->state == FZ_MISSING && strchr(m->name, '.') == NULL) {
        /* Missing for an earlier importer, vendored for this one. */
        int found;

        if (fz_graph_vendored(g, m, q, &found, err) < 0)
            return -1;
        if (found) {
            m->warn = 0;
            if (fz_graph_find_dist(g, m, NULL, err) < 0 ||
                fz_graph_decide(g, m, q, err) < 0)
                return -1;
            return fz_graph_note_importer(g, m, q, err);
        }
    }
    if (m->state == FZ_FOUND && m->omit) {
        r = fz_graph_ask(g, m, q, &omit, &detail, err);
        kl_buf_free(&detail);
        if (r < 0 || (!omit && fz_graph_bring_in(g, m, q, err) < 0))
            return -1;
    } else if (m->state == FZ_FOUND && m->speculative && !q->speculative) {
        /* Needed for sure now: its imports count in full. */
        m->speculative = 0;
        if (m->done && fz_graph_later(g, m, err) < 0)
            return -1;
    }
    return fz_graph_note_importer(g, m, q, err);
}

/* With --keep-only, note that request q for `name` comes from a module
 * (when q->importer is one): the edges fz_keep.c follows from what
 * start-up needs. */
static int fz_graph_note_need(fz_graph *g, const fz_req *q, const char *name,
                              kl_err *err)
{
    fz_module *m = fz_graph_get(g, q->importer);
    kl_strv *needs;

    if (g->opt->keep_only == NULL || m == NULL)
        return 0;
    needs = q->lazy ? &m->needs_lazy : &m->needs;
    if (needs->n > 0 && strcmp(needs->v[needs->n - 1], name) == 0)
        return 0;
    return kl_strv_push(needs, name) < 0 ? kl_err_oom(err) : 0;
}

/* Request module `name` for q. Missing modules are recorded with their
 * importers, unless q->maybe_attr. Parents are requested first. */
int fz_graph_request(fz_graph *g, const char *name, const fz_req *q,
                     kl_err *err)
{
    fz_module *m, *parent = NULL;
    const char *dot = strrchr(name, '.');
    const kl_strv *dirs;
    int found, internal;

    if (name[0] == '\0')
        return 0;
    if (fz_graph_note_need(g, q, name, err) < 0)
        return -1;
    m = fz_graph_get(g, name);
    if (m != NULL)
        return fz_graph_again(g, m, q, err);
    if (fz_graph_excluded(g, name)) {
        if (fz_graph_add(g, name, FZ_EXCLUDED, &m, err) < 0)
            return -1;
        return fz_graph_note_importer(g, m, q, err);
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
        r = fz_graph_request(g, pname, q, err);
        parent = r < 0 ? NULL : fz_graph_get(g, pname);
        free(pname);
        if (r < 0)
            return -1;
        if (parent == NULL || parent->state != FZ_FOUND ||
            parent->dirs.n == 0)
            return 0; /* the parent's own record says enough */
        dirs = &parent->dirs;
    } else {
        dirs = &g->env->search;
    }
    if (fz_graph_add(g, name, FZ_MISSING, &m, err) < 0)
        return -1;
    if (fz_locate(g->env, m, dot ? dot + 1 : name, dirs, &found, err) < 0)
        return -1;
    if (!found && dot == NULL && fz_graph_vendored(g, m, q, &found, err) < 0)
        return -1;
    if (found && parent != NULL && parent->vendor_dir != NULL &&
        (m->vendor_dir = strdup(parent->vendor_dir)) == NULL)
        return kl_err_oom(err);
    if (!found && q->maybe_attr) {
        /* `from pkg import attr`: an attribute, not a module. */
        fz_graph_drop_last(g, m);
        return 0;
    }
    if (found && fz_graph_find_dist(g, m, parent, err) < 0)
        return -1;
    if (found && parent != NULL && parent->omit) {
        /* Its package stays out, so it does. */
        m->omit = parent->omit;
        if ((m->detail = strdup(parent->detail)) == NULL)
            return kl_err_oom(err);
    } else if (found && fz_graph_decide(g, m, q, err) < 0) {
        return -1;
    }
    return fz_graph_note_importer(g, m, q, err);
}

/* Request each module in the NULL-terminated list for q. */
int fz_graph_request_all(fz_graph *g, const char *const *names,
                         const fz_req *q, kl_err *err)
{
    for (; names != NULL && *names != NULL; names++)
        if (fz_graph_request(g, *names, q, err) < 0)
            return -1;
    return 0;
}

/* Request every module and subpackage in package `name`'s directories,
 * in sorted order, for q; recursively when whole. */
int fz_graph_request_tree(fz_graph *g, const char *name, int whole,
                          const fz_req *q, kl_err *err)
{
    fz_module *m = fz_graph_get(g, name);
    kl_buf sub = KL_BUF_INIT;
    fz_req sq = *q;
    size_t d;
    int r = 0;

    if (m == NULL || m->state != FZ_FOUND || m->omit ||
        m->tree >= 1 + whole)
        return 0;
    m->tree = 1 + whole;
    sq.maybe_attr = 1;
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
                    r = fz_graph_request(g, sub.s, &sq, err);
                if (r == 0 && whole && fz_graph_is_package(g, sub.s))
                    r = fz_graph_request_tree(g, sub.s, 1, &sq, err);
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
    if (fz_dists_new(&env->search, &g->dists, err) < 0) {
        free(g);
        return -1;
    }
    g->index = PyDict_New();
    if (g->index == NULL) {
        fz_graph_free(g);
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
    free(g->late);
    free(g->plugins);
    fz_dists_free(g->dists);
    Py_XDECREF(g->index);
    free(g);
}

int fz_graph_add_file(fz_graph *g, const char *name, const char *path,
                      const char *rel, unsigned why, const char *what,
                      kl_err *err)
{
    struct stat st;
    fz_module *m;

    if (stat(path, &st) < 0)
        return kl_err_set(err, "%s: %s (%s)", path, strerror(errno), what);
    if (S_ISDIR(st.st_mode))
        return kl_err_set(err, "%s: is a directory, not a Python file (%s; "
                               "a package is built with -m PACKAGE)",
                          path, what);
    if (!S_ISREG(st.st_mode))
        return kl_err_set(err, "%s: not a regular file (a device, FIFO or "
                               "socket; %s)", path, what);
    if (fz_graph_get(g, name) != NULL)
        return kl_err_set(err, "%s: module %s is in the program already "
                               "(%s)", path, name, what);
    if (fz_graph_add(g, name, FZ_FOUND, &m, err) < 0)
        return -1;
    m->kind = BUNDLE_KIND_MODULE;
    m->app = 1;
    m->why = why;
    m->file = strdup(path);
    m->rel = strdup(rel);
    if (m->file == NULL || m->rel == NULL)
        return kl_err_oom(err);
    return 0;
}

int fz_graph_require(fz_graph *g, const char *name, unsigned why,
                     kl_err *err)
{
    fz_req q = {"(command line)", NULL, why, 0, 0, 0, 0};
    fz_module *m;

    if (fz_graph_request(g, name, &q, err) < 0)
        return -1;
    m = fz_graph_get(g, name);
    if (m == NULL || m->state == FZ_MISSING)
        return kl_err_set(err, "module '%s' not found (searched the app's "
                               "directory and %s's sys.path)",
                          name, KILN_PYTHON_EXE);
    if (m->state == FZ_EXCLUDED)
        return kl_err_set(err, "module '%s' is left out by --exclude-module",
                          name);
    return 0;
}

int fz_graph_is_package(fz_graph *g, const char *name)
{
    fz_module *m = fz_graph_get(g, name);

    return m != NULL && m->is_package;
}
