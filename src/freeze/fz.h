/*
 * fz.h: freezing an application: from what the user asked for to a plan.
 *
 * The steps, each calling only the ones below it:
 *   environment (fz_env.c)  the embedded CPython and where modules are
 *                           searched: the app's directory, --paths, the
 *                           interpreter's sys.path;
 *   graph (fz_graph.c,      every module the app needs, found on disk
 *     fz_graph_follow.c)    (fz_locate.c), compiled (fz_compile.c) and
 *                           scanned for imports (fz_scan.c), with the
 *                           graph's rules for what to follow (fz_policy.c)
 *                           and what installed distributions declare
 *                           (fz_dist.c, fz_native.c);
 *   plan (fz_collect.c)     the graph's modules, package data and
 *                           distribution metadata (fz_graph_plan.c,
 *                           fz_pkgdata.c) and the --add-data files
 *                           (fz_data.c) as plan entries, and the run mode.
 * The emitters (src/emit/) take it from there.
 */
#ifndef KILN_FZ_H
#define KILN_FZ_H

#include <stddef.h>

#include "../common/kl_common.h"
#include "../plan/plan.h"

/* zstd levels: --compress, and sources (always compressed: they are read
 * only for tracebacks and inspect, never at start-up). */
#define FZ_COMPRESS_LEVEL 10
#define FZ_SOURCE_LEVEL 3

/* What to freeze and how, as the command line gives it. Strings are
 * borrowed from the caller for the life of the freeze. */
typedef struct fz_options {
    const char *script;            /* SCRIPT, or NULL */
    const char *module;            /* -m MODULE, or NULL */
    const char *entry;             /* --entry pkg.mod:func, or NULL */
    const char *const *hidden;     /* --hidden-import */
    size_t n_hidden;
    const char *const *excludes;   /* --exclude-module */
    size_t n_excludes;
    const char *const *collect;    /* --collect: a package with all its
                                      submodules and package data */
    size_t n_collect;
    const char *const *collect_data; /* --collect-data: a package's data,
                                        subpackages' included */
    size_t n_collect_data;
    const char *const *paths;      /* --paths: extra module directories */
    size_t n_paths;
    const char *const *datas;      /* --add-data SRC:DEST */
    size_t n_datas;
    int no_source;                 /* leave sources out */
    int compress;                  /* zstd-compress every payload */
    int strip;                     /* keep only the loadable part of shared
                                      objects (the default) */
    int verbose;                   /* report every missing import */
} fz_options;

/* The environment modules are collected from. */
typedef struct fz_env fz_env;

/* Start the embedded CPython the way the Python it was built from starts
 * (same standard library and site-packages, fixed hash seed so builds are
 * reproducible) and describe where modules are searched: app_dir (may be
 * NULL), opt's --paths, then the interpreter's sys.path. *out is freed with
 * fz_env_close(). */
int fz_env_open(const fz_options *opt, const char *app_dir, fz_env **out,
                kl_err *err);
void fz_env_close(fz_env *env);

/* Collect everything the application needs into p: every module it
 * imports, transitively, with the bytecode, source and storage of each,
 * every --add-data file, and how the program starts. Warns on stderr about
 * imports it cannot find. p is left unfinished (see plan_finish). */
int fz_collect(const fz_options *opt, fz_env *env, plan *p, kl_err *err);

#endif
