/*
 * fz.h: freezing an application: from what the user asked for to a plan.
 *
 * The steps, each calling only the ones below it:
 *   environment (fz_env.c)  the embedded CPython and where modules are
 *                           searched: the app's directory, --paths, the
 *                           interpreter's sys.path;
 *   graph (fz_graph.c,      every module the app and its runtime hooks
 *     fz_graph_follow.c,    (fz_hooks.c) need, found on disk
 *     fz_hooks.c)           (fz_locate.c), compiled (fz_compile.c) and
 *                           scanned for imports (fz_scan.c), with the
 *                           graph's rules for what to follow (fz_policy.c)
 *                           and what installed distributions declare
 *                           (fz_dist.c, fz_native.c);
 *   plan (fz_collect.c)     the graph's modules (those --keep-only
 *                           leaves, fz_keep.c), package data and
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
/* Data files (package data, metadata, --add-data): read whole when read,
 * so stored compressed whenever that makes them smaller; a folder
 * program's are files as they are. */
#define FZ_DATA_LEVEL 3

/* What to freeze and how, as the command line gives it. Strings are
 * borrowed from the caller for the life of the freeze. */
typedef struct fz_options {
    const char *script;            /* SCRIPT, or NULL */
    const char *module;            /* -m MODULE, or NULL */
    const char *entry;             /* --entry pkg.mod:func, or NULL */
    int interpreter;               /* --interpreter: python's command line
                                      instead of a run target */
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
    const char *const *files;      /* --files: packages whose files are to
                                      be real files at run time */
    size_t n_files;
    const char *const *system_libs; /* --system-lib: libraries left to the
                                       machine (fnmatch patterns) */
    size_t n_system_libs;
    const char *const *bundle_libs; /* --bundle-lib: base-system libraries
                                       bundled all the same */
    size_t n_bundle_libs;
    const char *const *runtime_paths; /* --runtime-path: directories the
                                         program searches on disk */
    size_t n_runtime_paths;
    int optimize;                  /* -O: 0, 1 or 2 */
    int unbuffered;                /* -u: unbuffered stdio */
    const char *const *warnings;   /* -W: warning filters */
    size_t n_warnings;
    const char *const *xoptions;   /* -X: interpreter options */
    size_t n_xoptions;
    const char *hash_seed;         /* --hash-seed: a number, "random" or
                                      NULL */
    int python_env;                /* --python-env: PYTHON* variables
                                      honoured at run time */
    int meipass;                   /* --meipass: sys._MEIPASS set */
    int full_finalize;             /* --full-finalize: exit through
                                      Py_FinalizeEx */
    int extension;                 /* --target extension: an extension
                                      module, whose host has the standard
                                      library's extension modules */
    int deps_host;                 /* --dependencies host */
    const char *const *runtime_hooks; /* --runtime-hook: Python files run,
                                         in order, before the app */
    size_t n_runtime_hooks;
    const char *keep_only;         /* --keep-only FILE: the modules to keep
                                      (KILN_TRACE_IMPORTS's list), or
                                      NULL to keep all */
    const char *const *paths;      /* --paths: extra module directories */
    size_t n_paths;
    const char *const *datas;      /* --add-data SRC:DEST */
    size_t n_datas;
    int no_source;                 /* leave sources out */
    int compress;                  /* zstd-compress every payload */
    int strip;                     /* keep only the loadable part of shared
                                      objects (the default) */
    int verbose;                   /* report every missing import */
    int quiet;                     /* print errors only */
    const char *venv;              /* --venv DIR, or NULL */
    const char *python;            /* --python PATH, or NULL */
    const char *const *requirements; /* --requirements FILE: pip -r FILE */
    size_t n_requirements;
    const char *const *pips;       /* --pip ARG: arguments of pip install */
    size_t n_pips;
} fz_options;

/* The environment installed packages are collected from, chosen by
 * fz_site_open(): --python PATH, --venv DIR, the active VIRTUAL_ENV, or
 * else the embedded Python's own site-packages. */
typedef struct fz_site {
    kl_strv dirs;      /* its site directories (with .pth entries), pip's
                          staging directory first; empty when own */
    int own;           /* the embedded Python's own site-packages */
    char *python;      /* the environment's interpreter (it runs pip) */
    char *staging;     /* pip's staging directory, or NULL */
} fz_site;

/* Choose the environment opt asks for, check that its Python is the
 * embedded one's X.Y, and learn its site directories by asking its
 * interpreter (so .pth files count as they do for it). When opt has
 * --requirements or --pip arguments, run the environment's pip to install
 * them into a new staging directory (pip's output on stderr unless
 * opt->quiet; its last line in the error when it fails), searched first;
 * the embedded Python's own site-packages are then not searched. *out is freed,
 * and the staging directory removed, by fz_site_close(). */
int fz_site_open(const fz_options *opt, fz_site **out, kl_err *err);
void fz_site_close(fz_site *site);

/* Check the interpreter options of opt (-W filters with the warnings
 * module's parsers, -X names and values against this Python's, the hash
 * seed) and write them as a bundle's options text into *text (malloc'd;
 * NULL when there is none). Fails with one line naming the option. */
int fz_interp_options(const fz_options *opt, char **text, kl_err *err);

/* True when the program built with opt runs frozen module `name` from
 * the interpreter's own frozen table: always, unless -X frozen_modules=off
 * leaves only importlib's bootstrap modules frozen (the others are then
 * bundled like any module). */
int fz_interp_frozen_used(const fz_options *opt, const char *name);

/* A project's pyproject.toml (fz_project.c). */
enum fz_setting_type {
    FZ_SETTING_BOOL = 1, FZ_SETTING_STR, FZ_SETTING_LIST, FZ_SETTING_INT,
    FZ_SETTING_OTHER
};

/* One key of [tool.kiln]. */
typedef struct fz_setting {
    char *key;
    int line;                  /* 1-based, in pyproject.toml; 0 unknown */
    enum fz_setting_type type;
    int flag;                  /* FZ_SETTING_BOOL */
    char *str;                 /* FZ_SETTING_STR; FZ_SETTING_INT in
                                  decimal */
    kl_strv list;              /* FZ_SETTING_LIST: every item a string */
    const char *type_name;     /* FZ_SETTING_OTHER: Python's type name */
} fz_setting;

/* One [project.scripts] or [project.gui-scripts] entry. */
typedef struct fz_script {
    char *name;                /* the command's name */
    char *entry;               /* "pkg.mod:func", extras removed */
    int gui;
} fz_script;

typedef struct fz_project {
    int has_project;           /* a [project] table is there */
    int has_tool;              /* a [tool.kiln] table is there */
    char *name;                /* [project] name, or NULL */
    fz_script *scripts;
    size_t n_scripts;
    fz_setting *settings;      /* [tool.kiln], in file order */
    size_t n_settings;
} fz_project;

/* Read the pyproject.toml at path with the embedded CPython's tomllib
 * (starting it if needed). Fails with "path: message (at line N, column
 * M)" on a TOML error. *p is freed with fz_project_free(). */
int fz_project_read(const char *path, fz_project *p, kl_err *err);
void fz_project_free(fz_project *p);

/* The environment modules are collected from. */
typedef struct fz_env fz_env;

/* Start the embedded CPython with the standard library of the Python it
 * was built from (fixed hash seed so builds are reproducible) and describe
 * where modules are searched, in python's order: app_dir (may be NULL),
 * opt's --paths, the standard library, then site's directories (the
 * embedded Python's own site-packages when site->own). *out is freed with
 * fz_env_close(); it borrows nothing from site. */
int fz_env_open(const fz_options *opt, const fz_site *site,
                const char *app_dir, fz_env **out, kl_err *err);
void fz_env_close(fz_env *env);

/* Collect everything the application needs into p: every module it
 * imports, transitively, with the bytecode, source and storage of each,
 * every --add-data file, and how the program starts. Warns on stderr about
 * imports it cannot find. p is left unfinished (see plan_finish). */
int fz_collect(const fz_options *opt, fz_env *env, plan *p, kl_err *err);

#endif
