/*
 * fz_graph_follow.c: what each module of the graph asks for, followed
 * until no new module is found. Starting from the app's main module, each
 * module is compiled (fz_compile.c) and its code scanned for imports
 * (fz_scan.c), whose records are requested: absolute imports, relative
 * imports and `from pkg import name` (where name may be a submodule),
 * literal import_module calls, every module of a package that imports its
 * submodules by computed name, transitively, through the standard
 * library. What distributions declare adds more (fz_dist.c): their mypyc
 * helper modules, the modules their entry points name, and module names
 * in their extension modules' strings (fz_native.c). Built-in and frozen
 * modules are part of the runtime stub and are not bundled, but frozen
 * modules' imports are followed.
 */
#include "fz_graph.h"

#include <marshal.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Request, as possible submodules of package m, the names its code (the
 * constants where __all__ lives) offers to `from m import *`. */
static int fz_graph_star_names(fz_graph *g, fz_module *m, PyObject *code,
                               const fz_req *q, kl_err *err)
{
    kl_strv names = KL_STRV_INIT;
    kl_buf sub = KL_BUF_INIT;
    fz_req sq = *q;
    size_t i;
    int r = fz_scan_star_names(code, &names, err);

    sq.importer = m->name;
    sq.maybe_attr = 1;
    for (i = 0; r == 0 && i < names.n; i++) {
        if (kl_buf_setf(&sub, "%s.%s", m->name, names.v[i]) < 0)
            r = kl_err_oom(err);
        else
            r = fz_graph_request(g, sub.s, &sq, err);
    }
    kl_buf_free(&sub);
    kl_strv_free(&names);
    return r;
}

/* Module `name` is the target of `from name import *` (request q): its
 * __all__ may name submodules, which that statement imports. */
static int fz_graph_star_import(fz_graph *g, const char *name,
                                const fz_req *q, kl_err *err)
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
    r = fz_graph_star_names(g, m, code, q, err);
    Py_DECREF(code);
    return r;
}

/* Module m imports submodules of package `name` by computed name (record
 * rec): every module directly in it is needed (a subpackage's own
 * modules come with it as its __init__ imports them, or through a
 * computed name of its own). Only outside the standard library, whose
 * few such imports fz_policy.c knows. */
static int fz_graph_computed(fz_graph *g, fz_module *m, const fz_import *rec,
                             kl_err *err)
{
    fz_req q = {m->name, NULL, PLAN_WHY_COMPUTED, 1, rec->lazy, 1, 1};

    if (m->stdlib)
        return 0;
    if (fz_graph_request(g, rec->name, &q, err) < 0)
        return -1;
    return fz_graph_request_tree(g, rec->name, 0, &q, err);
}

/* Follow the import records of module m. */
static int fz_graph_follow(fz_graph *g, fz_module *m,
                           const fz_imports *imports, kl_err *err)
{
    kl_buf sub = KL_BUF_INIT;
    size_t i, k;
    int r = 0;

    for (i = 0; r == 0 && i < imports->n; i++) {
        const fz_import *rec = &imports->v[i];
        fz_req q = {m->name, NULL, PLAN_WHY_IMPORT, 0, rec->lazy,
                    rec->guarded, m->speculative};

        if (rec->kind == FZ_IMPORT_COMPUTED) {
            r = fz_graph_computed(g, m, rec, err);
            continue;
        }
        r = fz_graph_request(g, rec->name, &q, err);
        q.maybe_attr = 1;
        for (k = 0; r == 0 && k < rec->from.n; k++) {
            if (strcmp(rec->from.v[k], "*") == 0)
                r = fz_graph_star_import(g, rec->name, &q, err);
            else if (kl_buf_setf(&sub, "%s.%s", rec->name, rec->from.v[k]) < 0)
                r = kl_err_oom(err);
            else
                r = fz_graph_request(g, sub.s, &q, err);
        }
    }
    kl_buf_free(&sub);
    return r;
}

/* Whether module `name` exists (in the graph, in the interpreter or on
 * disk), found without recording anything: *exists. */
static int fz_graph_exists(fz_graph *g, const char *name, int *exists,
                           kl_err *err)
{
    kl_strv dirs = KL_STRV_INIT;
    kl_buf part = KL_BUF_INIT;
    const char *p = name;
    int builtin, frozen, r = 0;
    size_t i;

    *exists = 1;
    while (r == 0 && *exists) {
        size_t n = strcspn(p, ".");
        fz_module *m, tmp;
        int found = 0;

        if (kl_buf_add(&part, p == name ? "" : ".", p == name ? 0 : 1) < 0 ||
            kl_buf_add(&part, p, n) < 0) {
            r = kl_err_oom(err);
            break;
        }
        if ((m = fz_graph_get(g, part.s)) != NULL) {
            *exists = m->state == FZ_FOUND || m->state == FZ_BUILTIN ||
                      m->state == FZ_FROZEN;
            kl_strv_free(&dirs);
            for (i = 0; *exists && i < m->dirs.n && r == 0; i++)
                if (kl_strv_push(&dirs, m->dirs.v[i]) < 0)
                    r = kl_err_oom(err);
        } else if (p == name &&
                   (r = fz_graph_is_internal(g, part.s, &builtin, &frozen,
                                             err)) == 0 &&
                   (builtin || frozen)) {
            *exists = 1;
        } else if (r == 0) {
            memset(&tmp, 0, sizeof tmp);
            tmp.name = part.s;
            r = fz_locate(g->env, &tmp, part.s + (p - name),
                          p == name ? &g->env->search : &dirs, &found, err);
            kl_strv_free(&dirs);
            dirs = tmp.dirs;
            free(tmp.file);
            free(tmp.rel);
            *exists = found;
        }
        if (p[n] == '\0')
            break;
        if (dirs.n == 0)
            *exists = 0; /* not a package: nothing below it */
        p += n + 1;
    }
    kl_strv_free(&dirs);
    kl_buf_free(&part);
    return r;
}

/* The names an extension module's strings are checked against: the
 * standard library's top-level names, and the top-level names of its own
 * distribution and of those it requires (or its own top-level name when
 * no distribution installed it). */
static int fz_graph_native_tops(fz_graph *g, const fz_module *m,
                                kl_strv *tops, kl_err *err)
{
    const fz_dist *d = m->dist;
    size_t i, k;

    for (i = 0; i < g->env->stdlib_names.n; i++)
        if (kl_strv_push(tops, g->env->stdlib_names.v[i]) < 0)
            return kl_err_oom(err);
    if (d == NULL &&
        kl_strv_take(tops, strndup(m->name, strcspn(m->name, "."))) < 0)
        return kl_err_oom(err);
    for (i = 0; d != NULL && i <= d->requires.n; i++) {
        const fz_dist *r = d;
        fz_dist *found = NULL;

        if (i < d->requires.n) {
            if (fz_dists_find(g->dists, d->requires.v[i], &found, err) < 0)
                return -1;
            r = found;
        }
        for (k = 0; r != NULL && k < r->tops.n; k++)
            if (kl_strv_push(tops, r->tops.v[k]) < 0)
                return kl_err_oom(err);
    }
    fz_strv_sort_unique(tops);
    return 0;
}

/* The modules directly in the package that holds extension module m, by
 * their last name component, sorted, into kids ("_elementpath" for
 * lxml.etree); *pkg gets that package's record (NULL for a top-level
 * m). */
static int fz_graph_native_siblings(fz_graph *g, const fz_module *m,
                                    fz_module **pkg, kl_strv *kids,
                                    kl_err *err)
{
    const char *dot = strrchr(m->name, '.');
    char *pname = dot ? strndup(m->name, (size_t)(dot - m->name)) : NULL;
    size_t d;
    int r = 0;

    if (dot != NULL && pname == NULL)
        return kl_err_oom(err);
    *pkg = pname ? fz_graph_get(g, pname) : NULL;
    free(pname);
    for (d = 0; *pkg != NULL && d < (*pkg)->dirs.n && r == 0; d++) {
        struct dirent **list = NULL;
        int n = scandir((*pkg)->dirs.v[d], &list, NULL, alphasort), i;

        for (i = 0; i < n; i++) {
            char *child = NULL;

            if (r == 0)
                r = fz_locate_child(g->env, (*pkg)->dirs.v[d],
                                    list[i]->d_name, &child, err);
            if (r == 0 && child != NULL && kl_strv_take(kids, child) < 0)
                r = kl_err_oom(err);
            free(list[i]);
        }
        free(list);
    }
    fz_strv_sort_unique(kids);
    return r;
}

/* Follow the module names extension module m holds as strings that exist
 * and belong to the standard library, m's distribution or one it
 * requires, or that name a module of m's own package (Cython's relative
 * imports, `from . import _elementpath` in lxml.etree): native code may
 * import them. */
static int fz_graph_native(fz_graph *g, fz_module *m, kl_err *err)
{
    kl_strv tops = KL_STRV_INIT, names = KL_STRV_INIT;
    fz_req q = {m->name, NULL, PLAN_WHY_NATIVE, 1, 1, 1, m->speculative};
    fz_module *pkg = NULL;
    kl_buf sib = KL_BUF_INIT;
    size_t i;
    int r, exists;

    r = fz_graph_native_tops(g, m, &tops, err);
    if (r == 0)
        r = fz_native_names(m->file, &tops, &names, err);
    for (i = 0; r == 0 && i < names.n; i++) {
        if (strcmp(names.v[i], m->name) == 0 ||
            fz_policy_native_skip(names.v[i]))
            continue;
        r = fz_graph_exists(g, names.v[i], &exists, err);
        if (r == 0 && exists)
            r = fz_graph_request(g, names.v[i], &q, err);
    }
    kl_strv_free(&tops);
    kl_strv_free(&names);
    if (r == 0)
        r = fz_graph_native_siblings(g, m, &pkg, &tops, err);
    if (r == 0 && pkg != NULL && tops.n > 0)
        r = fz_native_names(m->file, &tops, &names, err);
    for (i = 0; r == 0 && pkg != NULL && i < names.n; i++) {
        if (kl_buf_setf(&sib, "%s.%s", pkg->name, names.v[i]) < 0) {
            r = kl_err_oom(err);
            break;
        }
        if (strcmp(sib.s, m->name) == 0 || fz_policy_native_skip(sib.s))
            continue;
        r = fz_graph_exists(g, sib.s, &exists, err);
        if (r == 0 && exists)
            r = fz_graph_request(g, sib.s, &q, err);
    }
    kl_strv_free(&tops);
    kl_strv_free(&names);
    kl_buf_free(&sib);
    return r;
}

/* The first time a module of distribution d is followed (m): request the
 * mypyc helper modules d installs, which only its compiled modules
 * import, and note its entry points for fz_graph_plugins. */
static int fz_graph_follow_dist(fz_graph *g, fz_module *m, kl_err *err)
{
    kl_strv helpers = KL_STRV_INIT;
    fz_dist *d = m->dist;
    fz_req q = {m->name, NULL, PLAN_WHY_NATIVE, 1, 0, 0, m->speculative};
    size_t i;
    int r;

    if (d == NULL || d->followed)
        return 0;
    d->followed = 1;
    r = fz_dist_mypyc(d, &g->env->suffixes, &helpers, err);
    for (i = 0; r == 0 && i < helpers.n; i++)
        r = fz_graph_request(g, helpers.v[i], &q, err);
    kl_strv_free(&helpers);
    for (i = 0; r == 0 && i < d->entry_points.n; i++) {
        if (kl_room(&g->plugins, &g->cap_plugins, g->n_plugins,
                    sizeof *g->plugins) < 0)
            return kl_err_oom(err);
        g->plugins[g->n_plugins].dist = d;
        g->plugins[g->n_plugins].entry = d->entry_points.v[i];
        g->plugins[g->n_plugins].done = 0;
        g->n_plugins++;
    }
    return r;
}

/* True when the host of entry point group `group` is in the program: the
 * module its name starts with ("sqlalchemy" for sqlalchemy.dialects,
 * "pandas" for pandas_plotting_backends), which loads its plugins. */
static int fz_graph_host_in(fz_graph *g, const char *group)
{
    char *host = strndup(group, strcspn(group, ".-_"));
    fz_module *m = host ? fz_graph_get(g, host) : NULL;

    free(host);
    return m != NULL && ((m->state == FZ_FOUND && !m->omit) ||
                         m->state == FZ_BUILTIN || m->state == FZ_FROZEN);
}

/* Request the modules of the noted entry points whose host is in the
 * program now: a plugin nobody in the program loads stays out (a
 * setuptools command of cffi, a pytest plugin). A target in another
 * distribution comes only when the entry point's distribution requires
 * it. *found says whether any was requested. */
static int fz_graph_plugins(fz_graph *g, int *found, kl_err *err)
{
    kl_buf who = KL_BUF_INIT, module = KL_BUF_INIT;
    size_t i;
    int r = 0;

    *found = 0;
    for (i = 0; r == 0 && i < g->n_plugins; i++) {
        fz_plugin *pl = &g->plugins[i];
        const char *group = strchr(pl->entry, ' ');
        fz_req q = {NULL, pl->dist, PLAN_WHY_ENTRY_POINT, 1, 0, 1, 0};

        if (pl->done || group == NULL || !fz_graph_host_in(g, group + 1))
            continue;
        pl->done = 1;
        *found = 1;
        if (kl_buf_setf(&who, "%s entry point %s", pl->dist->name,
                        group + 1) < 0 ||
            kl_buf_sets(&module, "") < 0 ||
            kl_buf_add(&module, pl->entry,
                       (size_t)(group - pl->entry)) < 0) {
            r = kl_err_oom(err);
            break;
        }
        q.importer = who.s;
        r = fz_graph_request(g, module.s, &q, err);
    }
    kl_buf_free(&who);
    kl_buf_free(&module);
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

/* True when module `name` is in the program. */
static int fz_graph_has(fz_graph *g, const char *name)
{
    const fz_module *m = fz_graph_get(g, name);

    return m != NULL && m->state == FZ_FOUND && !m->omit;
}

/* zoneinfo reads its zones from the tzdata package's subpackages
 * (tzdata.zoneinfo.AREA) through importlib.resources, by computed name:
 * once both zoneinfo and tzdata are in the program (m being the later of
 * the two), the whole tzdata tree comes with its data. */
static int fz_graph_tzdata(fz_graph *g, const fz_module *m, const fz_req *q,
                           kl_err *err)
{
    if ((strcmp(m->name, "zoneinfo._common") == 0 &&
         fz_graph_has(g, "tzdata")) ||
        (strcmp(m->name, "tzdata") == 0 &&
         fz_graph_has(g, "zoneinfo._common")))
        return fz_graph_request_tree(g, "tzdata", 1, q, err);
    return 0;
}

/* setuptools' _distutils_hack makes its own copy of distutils,
 * setuptools._distutils, the module named distutils (submodules follow
 * its __path__ at run time), so `import distutils.X` anywhere means
 * setuptools._distutils.X once the hack is in the program: its whole
 * tree comes along (the scanned names say distutils.X, which is the
 * standard library's, or nothing from 3.12 on). */
static int fz_graph_distutils(fz_graph *g, const fz_module *m,
                              const fz_req *q, kl_err *err)
{
    fz_req sq = *q;

    if (strcmp(m->name, "_distutils_hack") != 0)
        return 0;
    sq.maybe_attr = 1;
    if (fz_graph_request(g, "setuptools._distutils", &sq, err) < 0)
        return -1;
    if (!fz_graph_has(g, "setuptools._distutils"))
        return 0;
    return fz_graph_request_tree(g, "setuptools._distutils", 1, q, err);
}

/* Follow what module m needs: what the standard library's C code of it
 * imports, its distribution's helpers, the names its native code holds,
 * and the imports in its code (compiled here). */
static int fz_graph_process(fz_graph *g, fz_module *m, kl_err *err)
{
    fz_imports imports = {NULL, 0, 0};
    fz_req q = {m->name, NULL, PLAN_WHY_HIDDEN, 0, 0, 0, m->speculative};
    PyObject *code = NULL;
    int r;

    if (m->done || (m->state == FZ_FOUND && m->omit))
        return 0; /* a module left out comes back through g->late */
    m->done = 1;
    if (fz_graph_request_all(g, fz_policy_hidden(m->name), &q, err) < 0)
        return -1;
    if (strcmp(m->name, "sysconfig") == 0 && g->env->sysconfigdata != NULL &&
        fz_graph_request(g, g->env->sysconfigdata, &q, err) < 0)
        return -1;
    if (fz_graph_tzdata(g, m, &q, err) < 0 ||
        fz_graph_distutils(g, m, &q, err) < 0)
        return -1;
    if (m->state == FZ_FOUND && fz_graph_follow_dist(g, m, err) < 0)
        return -1;
    if (m->state == FZ_FROZEN) {
        code = PyObject_CallMethod(g->env->imp, "get_frozen_object", "s",
                                   m->name);
        if (code == NULL)
            return fz_python_error(m->name, err);
    } else if (m->state == FZ_FOUND && m->kind == BUNDLE_KIND_EXTENSION) {
        return m->stdlib ? 0 : fz_graph_native(g, m, err);
    } else if (m->state == FZ_FOUND && m->marshalled != NULL) {
        /* Followed again (no longer speculative): compiled already. */
        code = PyMarshal_ReadObjectFromString(
            PyBytes_AS_STRING(m->marshalled), PyBytes_GET_SIZE(m->marshalled));
        if (code == NULL)
            return fz_python_error(m->name, err);
    } else if (m->state == FZ_FOUND && (m->kind == BUNDLE_KIND_MODULE ||
                                        m->kind == BUNDLE_KIND_PACKAGE)) {
        if (fz_compile(m->file, m->rel, m->stdlib, g->opt->optimize, &code,
                       &m->marshalled,
                       &m->source, err) < 0) {
            if (m->app || strcmp(m->name, "__main__") == 0)
                return -1;
            kl_warn("%s: not bundled: %s", m->name, err->msg);
            m->state = FZ_BROKEN;
            m->detail = strdup(err->msg);
            return m->detail ? 0 : kl_err_oom(err);
        }
    } else {
        return 0;
    }
    r = fz_scan_imports(&g->env->ops, m->name, m->is_package,
                        fz_graph_runs_as_main(g, m->name), code, &imports,
                        err);
    if (r == 0)
        r = fz_graph_follow(g, m, &imports, err);
    q.why = PLAN_WHY_IMPORT;
    if (r == 0 && m->star_imported)
        r = fz_graph_star_names(g, m, code, &q, err);
    fz_imports_free(&imports);
    Py_DECREF(code);
    return r;
}

/* Refuse an --exclude-module that leaves out a module the interpreter
 * of a program imports when it starts (an extension module's host has
 * its own). */
static int fz_graph_check_excludes(fz_graph *g, kl_err *err)
{
    const fz_options *o = g->opt;
    size_t i, k;

    for (i = 0; !o->extension && i < o->n_excludes; i++)
        for (k = 0; fz_policy_startup[k] != NULL; k++)
            if (fz_name_within(fz_policy_startup[k], o->excludes[i]))
                return kl_err_set(err, "--exclude-module %s: the interpreter "
                                       "imports %s when it starts, and a "
                                       "program without it cannot start; "
                                       "leave it in", o->excludes[i],
                                  fz_policy_startup[k]);
    return 0;
}

/* The modules every program needs, and what the command line asks for. */
static int fz_graph_roots(fz_graph *g, kl_err *err)
{
    fz_req start = {"(interpreter start-up)", NULL, PLAN_WHY_ALWAYS,
                    0, 0, 0, 0};
    fz_req always = {"(kiln runtime)", NULL, PLAN_WHY_ALWAYS, 0, 0, 0, 0};
    fz_req collect = {"(command line)", NULL, PLAN_WHY_COLLECT, 0, 0, 0, 0};
    const fz_options *o = g->opt;
    size_t i;

    if (fz_graph_request(g, "encodings", &start, err) < 0 ||
        fz_graph_request_tree(g, "encodings", 1, &start, err) < 0 ||
        fz_graph_request_all(g, fz_policy_always, &always, err) < 0)
        return -1;
    if (fz_graph_check_excludes(g, err) < 0)
        return -1;
    for (i = 0; i < o->n_hidden; i++) {
        int builtin, frozen;

        if (fz_graph_require(g, o->hidden[i], PLAN_WHY_HIDDEN, err) < 0)
            return kl_err_prefix(err, "--hidden-import");
        if (fz_graph_is_internal(g, o->hidden[i], &builtin, &frozen,
                                 err) < 0)
            return -1;
        if (builtin || frozen)
            kl_warn("--hidden-import %s: the interpreter has it %s, and "
                    "every program has the interpreter: nothing to add",
                    o->hidden[i], builtin ? "built in" : "frozen");
    }
    for (i = 0; i < o->n_collect; i++)
        if (fz_graph_require(g, o->collect[i], PLAN_WHY_COLLECT, err) < 0 ||
            fz_graph_request_tree(g, o->collect[i], 1, &collect, err) < 0)
            return kl_err_prefix(err, "--collect");
    for (i = 0; i < o->n_collect_data; i++)
        if (fz_graph_require(g, o->collect_data[i], PLAN_WHY_COLLECT,
                             err) < 0)
            return kl_err_prefix(err, "--collect-data");
    return 0;
}

/* Say in one line which installed top-level packages are left out as
 * optional imports of distributions that do not require them (urllib3's
 * lazy `import idna`): python would import them from the environment, so
 * the user should know. */
static int fz_graph_say_optional(fz_graph *g, kl_err *err)
{
    kl_buf line = KL_BUF_INIT;
    size_t i, n = 0;

    for (i = 0; i < g->n; i++) {
        const fz_module *m = g->mods[i];

        if (m->state != FZ_FOUND || m->omit != PLAN_OMIT_OPTIONAL ||
            strchr(m->name, '.') != NULL)
            continue;
        if ((n > 0 && kl_buf_adds(&line, ", ") < 0) ||
            kl_buf_adds(&line, m->name) < 0 || kl_buf_adds(&line, " (") < 0 ||
            kl_buf_adds(&line, m->detail ? m->detail : "optional") < 0 ||
            kl_buf_adds(&line, ")") < 0) {
            kl_buf_free(&line);
            return kl_err_oom(err);
        }
        n++;
    }
    if (n)
        kl_note("left out %zu installed package(s) only imported optionally "
                "by packages that do not require them: %s; if the program "
                "needs one, pass --hidden-import NAME", n, line.s);
    kl_buf_free(&line);
    return 0;
}

int fz_graph_resolve(fz_graph *g, kl_err *err)
{
    size_t i, late = 0;
    int missing = 0, more;

    if (fz_graph_roots(g, err) < 0)
        return -1;
    do {
        while (g->next < g->n || late < g->n_late) {
            fz_module *m = g->next < g->n ? g->mods[g->next++]
                                          : g->late[late++];

            kl_progress("collecting modules", g->next + late,
                        g->n + g->n_late);
            if (fz_graph_process(g, m, err) < 0)
                return -1;
        }
        if (fz_graph_plugins(g, &more, err) < 0)
            return -1;
    } while (more);
    kl_progress_end();
    for (i = 0; i < g->n; i++) {
        fz_module *m = g->mods[i];

        if (m->state != FZ_MISSING)
            continue;
        if (m->warn || g->opt->verbose) {
            kl_warn("module '%s' not found (imported by %s)", m->name,
                    m->importers);
            missing++;
        }
    }
    if (missing)
        kl_note("%d module(s) not found; if the program needs them, install "
                "them for %s or pass --hidden-import", missing,
                g->env->python);
    return fz_graph_say_optional(g, err);
}
