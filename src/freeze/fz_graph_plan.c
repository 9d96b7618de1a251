/*
 * fz_graph_plan.c: the import graph into the plan: every collected module
 * with its storage and where it comes from, the package data of collected
 * packages, the metadata of their distributions, and every module left
 * out with why, for reports.
 */
#include "fz_graph.h"
#include "fz_libs.h"
#include "../elf/elf_reader.h"

#include <assert.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Storage levels for payloads and sources. */
typedef struct fz_levels {
    int data;
    int source;
} fz_levels;

/* True when module m is in only because something may load it by name:
 * a computed import or a plugin group may, or a codec lookup may (every
 * codec but those the interpreter imports when it starts). */
static int fz_plan_rarely_loaded(const fz_module *m)
{
    size_t i;

    if (m->speculative || m->why == PLAN_WHY_ENTRY_POINT)
        return 1;
    if (!m->stdlib || !fz_name_within(m->name, "encodings"))
        return 0;
    for (i = 0; fz_policy_startup[i] != NULL; i++)
        if (strcmp(m->name, fz_policy_startup[i]) == 0)
            return 0;
    return 1;
}

/* True when module m is left to the host of an extension module: an
 * extension module of the standard library, which every Python of the
 * host's version has (the library ones need comes with it). The standard
 * library's Python modules are carried, for a host that lacks one (a
 * program kiln built carries only those it uses). */
static int fz_plan_host_has(const fz_graph *g, const fz_module *m)
{
    return g->opt->extension && m->stdlib && m->state == FZ_FOUND &&
           !m->omit && m->kind == BUNDLE_KIND_EXTENSION;
}

/* Add module m (collected) to p. */
static int fz_plan_module(fz_graph *g, fz_module *m, fz_levels lv, plan *p,
                          kl_err *err)
{
    kl_buf reason = KL_BUF_INIT;
    const char *dist = m->dist ? m->dist->name : NULL;
    plan_entry *e;
    int r;

    if (kl_buf_setf(&reason, "%s%s%s", plan_why_name(m->why),
                    m->importers ? ": " : "",
                    m->importers ? m->importers : "") < 0)
        return kl_err_oom(err);
    r = plan_add(p, m->kind, m->name, m->rel, reason.s, &e, err);
    kl_buf_free(&reason);
    if (r < 0 || plan_entry_origin(e, m->why, dist, m->importers, err) < 0)
        return -1;
    if (m->kind == BUNDLE_KIND_MODULE || m->kind == BUNDLE_KIND_PACKAGE) {
        /* The bytecode of a module rarely loaded is stored compressed:
         * start-up does not pay for it, and plugin-heavy packages (every
         * pygments lexer) and the codecs stay small. An extension module's
         * standard library is rarely loaded too: only a host without
         * that module of its own gets it (docs/extension.md). */
        int level = lv.data == 0 && (fz_plan_rarely_loaded(m) ||
                                     (g->opt->extension && m->stdlib))
                        ? FZ_COMPRESS_LEVEL
                        : lv.data;

        r = plan_part_copy(&e->data, PyBytes_AS_STRING(m->marshalled),
                           (size_t)PyBytes_GET_SIZE(m->marshalled), level,
                           err);
        if (r == 0)
            r = plan_entry_set_origin(e, m->file, err);
        if (r == 0 && m->source != NULL && !g->opt->no_source)
            r = plan_part_copy(&e->aux, PyBytes_AS_STRING(m->source),
                               (size_t)PyBytes_GET_SIZE(m->source), lv.source,
                               err);
    } else if (m->kind == BUNDLE_KIND_EXTENSION) {
        r = plan_part_file(&e->data, m->file, lv.data, err);
        e->strip = g->opt->strip;
    }
    return r;
}

/* Record in p that module m is left out, and why. */
static int fz_plan_omission(const fz_module *m, plan *p, kl_err *err)
{
    switch (m->state) {
    case FZ_FOUND:
        return m->omit ? plan_omit(p, m->name, m->omit, m->importers,
                                   m->detail, err)
                       : 0;
    case FZ_MISSING:
        return plan_omit(p, m->name, PLAN_OMIT_MISSING, m->importers,
                         "not found", err);
    case FZ_EXCLUDED:
        return plan_omit(p, m->name, PLAN_OMIT_EXCLUDED, m->importers,
                         "--exclude-module", err);
    case FZ_BROKEN:
        return plan_omit(p, m->name, PLAN_OMIT_BROKEN, m->importers,
                         m->detail, err);
    default:
        return 0; /* built into the interpreter */
    }
}

/* How the files of packages and distributions go into the plan. */
typedef struct fz_files {
    int level;           /* storage level */
    kl_strv taken;       /* names --add-data placed already, sorted: the
                            user's file wins over a package's own copy */
} fz_files;

/* Add the files of list (fz_pkgdata.h pairs) to p as entries of `kind`,
 * for `why`, of distribution dist (may be NULL), owned by `owner` (a
 * package or distribution name, for reports), except those f->taken
 * holds. */
static int fz_plan_files(const kl_strv *list, unsigned kind, unsigned why,
                         const char *dist, const char *owner,
                         const fz_files *f, plan *p, kl_err *err)
{
    kl_buf reason = KL_BUF_INIT;
    size_t i;
    int r = 0;

    if (kl_buf_setf(&reason, "%s: %s", plan_why_name(why), owner) < 0)
        return kl_err_oom(err);
    for (i = 0; r == 0 && i < list->n; i++) {
        plan_entry *e;

        if (fz_strv_has(&f->taken, list->v[i]))
            continue;
        r = plan_add(p, kind, list->v[i], list->v[i], reason.s, &e, err);
        if (r == 0)
            r = plan_entry_origin(e, why, dist, owner, err);
        if (r == 0)
            r = plan_part_file(&e->data, fz_pkgdata_src(list->v[i]),
                               f->level, err);
    }
    kl_buf_free(&reason);
    return r;
}

/* True when package `name` lies in a tree --collect or --collect-data
 * asks for whole. */
static int fz_plan_in_tree(const fz_options *o, const char *name)
{
    size_t i;

    for (i = 0; i < o->n_collect; i++)
        if (fz_name_within(name, o->collect[i]))
            return 1;
    for (i = 0; i < o->n_collect_data; i++)
        if (fz_name_within(name, o->collect_data[i]))
            return 1;
    return 0;
}

/* The first of list's files (fz_pkgdata.h pairs) that is a program
 * (an ELF executable, which only runs from a real path), or NULL. A
 * shared library is no reason: the program loads it from memory when
 * code dlopens its path. An ELF file kiln cannot read counts as a
 * program. */
static const char *fz_plan_first_program(const kl_strv *list)
{
    size_t i;

    for (i = 0; i < list->n; i++) {
        elf_info info;
        kl_map m;
        kl_err err;
        int program;

        if (kl_map_file(fz_pkgdata_src(list->v[i]), &m, &err) < 0)
            continue;
        if (m.size < 4 || memcmp(m.data, "\177ELF", 4) != 0) {
            kl_unmap(&m);
            continue;
        }
        if (elf_read(m.data, m.size, &info, &err) < 0) {
            program = 1;
        } else {
            program = info.program;
            elf_info_free(&info);
        }
        kl_unmap(&m);
        if (program)
            return list->v[i];
    }
    return NULL;
}

/* Decide whether package m, plan entry p->entries[at], gets real files at
 * run time: when --files names it, or when its data (list) holds a
 * program, which only runs from a real path. Says which and why. Nothing
 * when at is SIZE_MAX: the package itself is left out. */
static int fz_plan_route(fz_graph *g, const fz_module *m, const kl_strv *list,
                         plan *p, size_t at)
{
    const char *native = NULL;
    size_t i;

    if (at == SIZE_MAX)
        return 0;
    for (i = 0; i < g->opt->n_files; i++)
        if (strcmp(g->opt->files[i], m->name) == 0)
            break;
    if (i == g->opt->n_files &&
        (native = fz_plan_first_program(list)) == NULL)
        return 0;
    assert(at < p->n && strcmp(p->entries[at].name, m->name) == 0);
    p->entries[at].files = 1;
    if (native)
        kl_note("package %s gets real files at run time: its data holds "
                "a program (%s)", m->name, native);
    else
        kl_note("package %s gets real files at run time: --files names it",
                m->name);
    return 0;
}

/* Add the package data of collected package m: its own directory's
 * (without subpackages), or its whole tree when m is a package
 * --collect or --collect-data names and lies in no other such tree. Then
 * decide whether m, plan entry p->entries[at], gets real files (at is
 * SIZE_MAX for a package --keep-only leaves out, whose data stays). */
static int fz_plan_pkgdata(fz_graph *g, const fz_module *m, size_t at,
                           const fz_files *f, plan *p, kl_err *err)
{
    const fz_options *o = g->opt;
    kl_strv list = KL_STRV_INIT;
    const char *dot = strrchr(m->name, '.');
    char *loc;
    int whole = 0, r;

    if (m->kind != BUNDLE_KIND_PACKAGE || m->dirs.n == 0)
        return 0;
    if (fz_plan_in_tree(o, m->name)) {
        if (dot != NULL) {
            char *parent = strndup(m->name, (size_t)(dot - m->name));

            if (parent == NULL)
                return kl_err_oom(err);
            whole = !fz_plan_in_tree(o, parent);
            free(parent);
        } else {
            whole = 1;
        }
        if (!whole)
            return fz_plan_route(g, m, &list, p, at); /* the tree above it
                                                         brings its data */
    }
    loc = strndup(m->rel, strlen(m->rel) - strlen("/__init__.py"));
    if (loc == NULL)
        return kl_err_oom(err);
    r = fz_pkgdata_list(m->dirs.v[0], loc, whole, &g->env->suffixes, &list,
                        err);
    free(loc);
    fz_strv_sort_unique(&list);
    if (r == 0)
        r = fz_plan_route(g, m, &list, p, at);
    if (r == 0)
        r = fz_plan_files(&list, BUNDLE_KIND_PKGDATA,
                          whole ? PLAN_WHY_COLLECT : PLAN_WHY_PKGDATA,
                          m->dist ? m->dist->name : NULL, m->name, f, p, err);
    kl_strv_free(&list);
    return r;
}

/* Add the .dist-info files of every distribution a collected module
 * belongs to (one copy of each directory name). */
static int fz_plan_metadata(fz_graph *g, const fz_files *f, plan *p,
                            kl_err *err)
{
    kl_strv seen = KL_STRV_INIT, list = KL_STRV_INIT;
    fz_dist *d;
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && (d = fz_dists_at(g->dists, i)) != NULL; i++) {
        if (!d->used || fz_strv_has(&seen, d->info_base))
            continue;
        if (kl_strv_push(&seen, d->info_base) < 0) {
            r = kl_err_oom(err);
            break;
        }
        fz_strv_sort_unique(&seen);
        r = fz_pkgdata_dist_info(d->info, d->info_base, &list, err);
        fz_strv_sort_unique(&list);
        if (r == 0)
            r = fz_plan_files(&list, BUNDLE_KIND_METADATA, PLAN_WHY_METADATA,
                              d->name, d->name, f, p, err);
        kl_strv_free(&list);
    }
    kl_strv_free(&seen);
    return r;
}

/* Add the shared libraries the program's extension modules need
 * (fz_libs.h) as entries of kind shlib, named as the modules ask for them
 * and placed as installed when a module's own search path found them
 * (numpy.libs/libscipy_openblas64_-....so), or at the top under that name
 * when the machine's library directories did (libssl.so.3): the program
 * loads them from memory before a module that needs them. A library found
 * nowhere gets a warning: the program will need it where it runs. */
/* Warn about each --system-lib or --bundle-lib pattern (opt) among
 * pats[0, n) that no library name in seen (every library the program's
 * native code needs) matches: it changed nothing. */
static void fz_plan_libs_unused(const char *opt, const char *const *pats,
                                size_t n, const kl_strv *seen)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < seen->n; j++)
            if (fnmatch(pats[i], seen->v[j], 0) == 0)
                break;
        if (j == seen->n)
            kl_warn("%s '%s': no library the program's native code needs "
                    "has that name, so it changes nothing (kiln build -v "
                    "lists the libraries; kiln analyze names what they "
                    "need)", opt, pats[i]);
    }
}

static int fz_plan_libs(fz_graph *g, plan *p, kl_err *err)
{
    fz_libs libs = FZ_LIBS_INIT;
    kl_buf loc = KL_BUF_INIT;
    size_t i;
    int r = 0;

    libs.system_libs = g->opt->system_libs;
    libs.n_system_libs = g->opt->n_system_libs;
    libs.bundle_libs = g->opt->bundle_libs;
    libs.n_bundle_libs = g->opt->n_bundle_libs;
    for (i = 0; r == 0 && i < g->n; i++) {
        const fz_module *m = g->mods[i];
        kl_err bad;

        if (m->state != FZ_FOUND || m->omit || fz_plan_host_has(g, m) ||
            m->kind != BUNDLE_KIND_EXTENSION || m->file == NULL)
            continue;
        if (fz_libs_collect(m->file, &libs, &bad) < 0)
            kl_warn("cannot read the libraries %s needs: %s", m->name,
                    bad.msg);
    }
    fz_plan_libs_unused("--system-lib", libs.system_libs, libs.n_system_libs,
                        &libs.seen);
    fz_plan_libs_unused("--bundle-lib", libs.bundle_libs, libs.n_bundle_libs,
                        &libs.seen);
    for (i = 0; i < libs.missing.n; i++)
        kl_warn("cannot find %s, which %s needs: the program will need it "
                "on the machine it runs on (install it here and build "
                "again, or add its directory to LD_LIBRARY_PATH)",
                libs.missing.v[i], libs.missing_by.v[i]);
    for (i = 0; r == 0 && i < libs.names.n; i++) {
        const char *file = libs.files.v[i], *base = strrchr(file, '/');
        const char *dir = base;
        plan_entry *e;

        while (dir != NULL && dir > file && dir[-1] != '/')
            dir--;
        if (libs.system[i] || base == NULL)
            r = kl_buf_sets(&loc, libs.names.v[i]);
        else
            r = kl_buf_sets(&loc, dir);
        if (r < 0) {
            r = kl_err_oom(err);
            break;
        }
        r = plan_add(p, BUNDLE_KIND_SHLIB, libs.names.v[i], loc.s,
                     "native: a library extension modules need", &e, err);
        if (r == 0)
            r = plan_entry_origin(e, PLAN_WHY_NATIVE, NULL, NULL, err);
        if (r == 0)
            r = plan_part_file(&e->data, file, 0, err);
        if (r == 0)
            e->strip = g->opt->strip;
    }
    kl_buf_free(&loc);
    fz_libs_free(&libs);
    return r;
}

/* Every package --files names is a package the program carries. */
static int fz_plan_check_files(fz_graph *g, kl_err *err)
{
    const fz_options *o = g->opt;
    size_t i;

    for (i = 0; i < o->n_files; i++) {
        const fz_module *m = fz_graph_get(g, o->files[i]);

        if (m == NULL || m->state != FZ_FOUND || m->omit ||
            m->kind != BUNDLE_KIND_PACKAGE || m->dirs.n == 0)
            return kl_err_set(err, "--files %s: the program has no package "
                                   "%s (a package with __init__.py; add "
                                   "--collect %s if nothing imports it)",
                              o->files[i], o->files[i], o->files[i]);
    }
    return 0;
}

int fz_graph_plan(fz_graph *g, plan *p, kl_err *err)
{
    int level = g->opt->compress ? FZ_COMPRESS_LEVEL : 0;
    fz_levels lv = {level, level > FZ_SOURCE_LEVEL ? level : FZ_SOURCE_LEVEL};
    fz_files f = {level ? level : FZ_DATA_LEVEL, KL_STRV_INIT};
    size_t i;
    int r = fz_plan_check_files(g, err);

    for (i = 0; r == 0 && i < p->n; i++)
        if (bundle_kind_ns(p->entries[i].kind) == BUNDLE_NS_FILE &&
            kl_strv_push(&f.taken, p->entries[i].name) < 0)
            r = kl_err_oom(err);
    fz_strv_sort_unique(&f.taken);
    for (i = 0; r == 0 && i < g->n; i++) {
        fz_module *m = g->mods[i];

        if (fz_plan_host_has(g, m)) {
            r = plan_omit(p, m->name, PLAN_OMIT_HOST, m->importers,
                          "an extension module of the standard library: "
                          "the host Python has its own", err);
            continue;
        }
        if (m->state == FZ_FOUND && !m->omit) {
            r = fz_plan_module(g, m, lv, p, err);
            if (r == 0)
                r = fz_plan_pkgdata(g, m, p->n - 1, &f, p, err);
        } else {
            r = fz_plan_omission(m, p, err);
            if (r == 0 && m->state == FZ_FOUND &&
                m->omit == PLAN_OMIT_KEEP_ONLY)
                r = fz_plan_pkgdata(g, m, SIZE_MAX, &f, p, err);
        }
    }
    if (r == 0)
        r = fz_plan_metadata(g, &f, p, err);
    if (r == 0)
        r = fz_plan_libs(g, p, err);
    kl_strv_free(&f.taken);
    return r;
}
