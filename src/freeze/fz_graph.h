/*
 * fz_graph.h: what the files of src/freeze share: the environment's
 * contents, module records and the graph, the scanner's import records,
 * and the helpers each file offers the ones above it.
 */
#ifndef KILN_FZ_GRAPH_H
#define KILN_FZ_GRAPH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "fz.h"
#include "fz_data.h"
#include "fz_dist.h"
#include "fz_native.h"
#include "fz_pkgdata.h"
#include "fz_names.h"

/* ---- fz_python.c: the embedded interpreter ----------------------------- */

/* Start the embedded CPython the way the Python it was built from starts
 * (same standard library and site-packages), with a fixed hash seed so
 * that builds are reproducible. Does nothing when it runs already. */
int fz_python_start(kl_err *err);

/* Describe the pending Python exception in err, after `context`, and
 * clear it. A SyntaxError reads "file:line:col: SyntaxError: message".
 * Returns -1. */
int fz_python_error(const char *context, kl_err *err);

/* ---- fz_env.c: the environment --------------------------------------- */

/* What the scanner makes of each opcode of the embedded CPython, from the
 * names in its `opcode` module. */
enum fz_op_role {
    FZ_OP_OTHER = 0,
    FZ_OP_CACHE,        /* an inline cache entry, not an instruction */
    FZ_OP_EXTENDED_ARG,
    FZ_OP_IMPORT_NAME,
    FZ_OP_LOAD_CONST,
    FZ_OP_LOAD_SMALL_INT, /* 3.14: the argument is the int itself */
    FZ_OP_LOAD_NAME,    /* these four name a co_names item */
    FZ_OP_LOAD_GLOBAL,
    FZ_OP_LOAD_ATTR,
    FZ_OP_LOAD_METHOD,
    FZ_OP_LOAD,         /* any other load: a local, a cell, ... */
    FZ_OP_PUSH_NULL,
    FZ_OP_CALL,         /* a call */
    FZ_OP_BUILD         /* makes a value out of others (+, %, format) */
};

typedef struct fz_opcodes {
    unsigned char role[256]; /* enum fz_op_role of each opcode */
} fz_opcodes;

struct fz_env {
    kl_strv search;          /* top-level search directories, in order */
    kl_strv suffixes;        /* extension module suffixes */
    kl_strv stdlib_names;    /* sys.stdlib_module_names, sorted */
    char *app_dir;           /* the application's directory, or NULL */
    char *python;            /* the environment's interpreter (messages) */
    char *stdlib_dirs[2];    /* sysconfig's stdlib and platstdlib */
    char *sysconfigdata;     /* the module sysconfig imports by computed
                                name, or NULL */
    PyObject *builtin_names; /* sys.builtin_module_names */
    PyObject *imp;           /* the _imp module */
    fz_opcodes ops;
};


/* ---- module records and the graph ------------------------------------ */

enum fz_state {
    FZ_FOUND = 1,   /* located on disk; kind says what it is */
    FZ_BUILTIN = 2, /* compiled into the interpreter */
    FZ_FROZEN = 3,  /* frozen into the interpreter */
    FZ_MISSING = 4, /* not found; importers says who wanted it */
    FZ_BROKEN = 5,  /* found but could not be compiled (not bundled) */
    FZ_EXCLUDED = 6 /* --exclude-module leaves it out */
};

typedef struct fz_module {
    char *name;
    enum fz_state state;
    unsigned kind;        /* bundle kind when FZ_FOUND */
    int is_package;
    char *file;           /* file on disk; NULL for namespace packages */
    char *rel;            /* its path inside the program */
    kl_strv dirs;         /* a package's search directories */
    char *vendor_dir;     /* found in (or under a package found in) a
                             vendored installation root, which its own
                             top-level imports look in too; else NULL */
    int stdlib;           /* lives in the standard library */
    int app;              /* lives in the application's own directory */
    fz_dist *dist;        /* the distribution that installed it, or NULL
                             (standard library, the app, unknown) */
    unsigned why;         /* enum plan_why: what brought it in */
    unsigned omit;        /* FZ_FOUND, but left out so far: enum plan_omit
                             (optional, developer tool); a request the
                             rules allow brings it in later */
    char *detail;         /* why it is left out (omit, FZ_BROKEN) */
    char *importers;      /* "a, b, c": who asked for it */
    int warn;             /* FZ_MISSING: an importer needs it (warned) */
    int star_imported;    /* `from pkg import *` seen before pkg was compiled */
    int done;             /* its imports were followed */
    int speculative;      /* in only because a computed name may load it,
                             or a module that is imports it: its imports
                             of distributions its own does not require
                             count as optional */
    int tree;             /* its submodules were requested: 1 those
                             directly in it, 2 the whole tree */
    kl_strv needs;        /* with --keep-only: the modules it asks for at
                             module level */
    kl_strv needs_lazy;   /* and those it asks for inside functions */
    PyObject *marshalled; /* FZ_FOUND modules and packages */
    PyObject *source;
} fz_module;

/* ---- fz_locate.c: modules on disk -------------------------------------- */

/* True when file lies in the standard library (not in site-packages). */
int fz_locate_in_stdlib(const fz_env *env, const char *file);

/* Locate module m, whose last name component is `tail`, in directories
 * dirs as importlib's FileFinder would (package, extension module, source
 * file, then namespace portions), and fill its location fields. *found
 * says whether it was. */
int fz_locate(const fz_env *env, fz_module *m, const char *tail,
              const kl_strv *dirs, int *found, kl_err *err);

/* The module name that directory entry `entry` of package directory `dir`
 * stands for: *child is a new malloc'd name, or NULL when the entry is no
 * module. */
int fz_locate_child(const fz_env *env, const char *dir, const char *entry,
                    char **child, kl_err *err);

/* ---- fz_compile.c: bytecode ---------------------------------------------- */

/* Compile the source file at disk_path, or with use_cache take the code
 * from the embedded Python's __pycache__ when that is current. Either way
 * the code is the one a .pyc loads (compiled code passes once through
 * marshal), so the bytes do not depend on whether a cache was there. The
 * cache is used for the standard library only, whose .pyc files are
 * installed with it: code being edited can keep its mtime and size and
 * leave a stale .pyc that looks current. The code object's co_filename is
 * `rel` (its path inside the program). optimize is python's -O level (0,
 * 1 or 2), for the compiler and the cache's .opt-N.pyc files. On success
 * *code is a new reference,
 * *marshalled a new bytes object with the marshalled code and *source a
 * new bytes object with the source as UTF-8 (universal newlines). */
int fz_compile(const char *disk_path, const char *rel, int use_cache,
               int optimize,
               PyObject **code, PyObject **marshalled, PyObject **source,
               kl_err *err);

/* ---- fz_scan.c: imports in bytecode --------------------------------------- */

/* What kind of import a record is. */
enum fz_import_kind {
    FZ_IMPORT_STATEMENT = 0, /* an import statement */
    FZ_IMPORT_CALL,          /* importlib.import_module, __import__ or
                                importlib.util.find_spec with a literal
                                name */
    FZ_IMPORT_COMPUTED       /* import_module or __import__ with a name
                                computed at run time: `name` is the package
                                whose submodules it may import (the string
                                the name starts with, when it names one;
                                else the module's own package) */
};

/* One import found in bytecode. */
typedef struct fz_import {
    char *name;       /* absolute name of the module imported */
    kl_strv from;     /* its fromlist, in order: names that may be
                         submodules, "*" for `from name import *` */
    unsigned kind;    /* enum fz_import_kind */
    int lazy;         /* inside a function: runs only when called */
    int guarded;      /* the importer copes without the module: inside a
                         function, inside a try block (an exception table
                         entry covers it), or a find_spec probe */
} fz_import;

/* A growable list of import records. */
typedef struct fz_imports {
    fz_import *v;
    size_t n;
    size_t cap;
} fz_imports;

void fz_imports_free(fz_imports *l);

/* Append to out every import in code object `code` of module `name` (a
 * package when is_package), nested code objects included, in the order the
 * code holds them: import statements, and calls of import_module,
 * __import__ and find_spec (by the name they are called by). Unless
 * runs_as_main, the module's own `if __name__ == "__main__":` blocks
 * (found in the bytecode) are left out. */
int fz_scan_imports(const fz_opcodes *ops, const char *name, int is_package,
                    int runs_as_main, PyObject *code, fz_imports *out,
                    kl_err *err);

/* Append a record of `kind` for module `name` (absolute, taken over by
 * the list, freed on failure) with `fromlist` (a tuple, or anything else
 * for none) to out. */
int fz_imports_add(fz_imports *out, char *name, PyObject *fromlist,
                   unsigned kind, int lazy, int guarded, kl_err *err);

/* One instruction, with its EXTENDED_ARG prefixes folded into arg. */
typedef struct fz_instr {
    Py_ssize_t off;        /* byte offset in co_code */
    unsigned char role;    /* enum fz_op_role */
    long arg;
} fz_instr;

/* A code object as the scanner reads it (fz_scan.c decodes it). */
typedef struct fz_code {
    fz_instr *v;           /* its instructions, inline caches left out */
    size_t n;
    long *guard;           /* [start, end) byte ranges exception table
                              entries cover, in pairs */
    size_t n_guard;
    PyObject *consts;      /* co_consts and co_names (borrowed) */
    PyObject *names;
    const char *module;    /* the module it belongs to */
    int is_package;
} fz_code;

/* ---- fz_scan_call.c: try blocks and import calls ------------------------- */

/* Read the ranges of code's exception table (co_exceptiontable) into
 * c->guard. A code object without one (or a table that does not parse,
 * or whose table was not read) guards nothing. Fails only when out of
 * memory. */
int fz_scan_guards(PyObject *code, fz_code *c, kl_err *err);

/* True when the instruction at byte offset off lies in a try block. */
int fz_scan_guarded(const fz_code *c, Py_ssize_t off);

/* True when code c names import_module, __import__ or find_spec at all
 * (else no instruction of it can call them). */
int fz_scan_may_call(const fz_code *c);

/* When c->v[k] loads import_module, __import__ or find_spec and a call
 * of it follows, append its record to out: a literal first argument is an
 * import (a relative one with a literal package, __name__ or __package__
 * as second argument; a find_spec probe is guarded); a computed one marks
 * a package (FZ_IMPORT_COMPUTED) for import_module and __import__. lazy:
 * the code is a function body. */
int fz_scan_call_at(const fz_code *c, size_t k, int lazy, fz_imports *out,
                    kl_err *err);

/* Append to out the identifier strings among code's top-level constants:
 * for `from pkg import *`, where pkg's __all__ may name submodules. */
int fz_scan_star_names(PyObject *code, kl_strv *out, kl_err *err);


/* ---- fz_policy.c: what the graph follows -------------------------------- */

/* What asks for a module, as the rules see it. */
enum fz_from {
    FZ_FROM_APP = 0,  /* the app's own modules, modules no distribution
                         installed, the command line, kiln itself */
    FZ_FROM_STDLIB,   /* the standard library */
    FZ_FROM_DIST      /* a module of an installed distribution */
};

/* One request for a module, with what the rules need to know. */
typedef struct fz_policy_case {
    const char *name;          /* the module asked for */
    int stdlib;                /* it lies in the standard library */
    const fz_dist *dist;       /* its distribution, or NULL */
    const char *importer;      /* who asks (a module name) */
    enum fz_from from;
    const fz_dist *from_dist;  /* FZ_FROM_DIST: the importer's */
    int lazy;                  /* the import is inside a function */
    int guarded;               /* the importer copes without it */
    int speculative;           /* the importer is in only because a
                                  computed name may load it (or a module
                                  that is) */
    int dist_in;               /* another module of its distribution is
                                  in the program already */
} fz_policy_case;

/* Whether the graph leaves out the module c asks for: *omit becomes 0 to
 * follow it, or PLAN_OMIT_OPTIONAL / PLAN_OMIT_DEV_TOOL with one line in
 * detail saying why ("rich does not require ipython"). */
int fz_policy_leave_out(const fz_policy_case *c, unsigned *omit,
                        kl_buf *detail, kl_err *err);

/* The modules C code of module `name` imports at run time, which no
 * bytecode shows (NULL-terminated), or NULL. */
const char *const *fz_policy_hidden(const char *name);

/* True when module `name`, found among an extension module's strings, is
 * one compiled code names for a lookup made only on demand: not followed
 * on that evidence. */
int fz_policy_native_skip(const char *name);

/* Modules always bundled (NULL-terminated). */
extern const char *const fz_policy_always[];

/* The modules a program's interpreter imports from its bundle when it
 * starts, whatever the app does: the codecs package and the codecs of
 * the file system and standard streams' encodings. NULL-terminated. */
extern const char *const fz_policy_startup[];

/* What python's own modes import, bundled in an interpreter program
 * (NULL-terminated), and the package whose whole tree its REPL runs, or
 * NULL. */
extern const char *const fz_policy_interpreter[];
extern const char *const fz_policy_interpreter_repl;

/* ---- fz_graph.c: the import graph -------------------------------------- */

/* An entry point of a distribution in the program, followed once its
 * group's host is in. */
typedef struct fz_plugin {
    const fz_dist *dist;
    const char *entry;  /* "MODULE GROUP" (the dist's) */
    int done;
} fz_plugin;

struct fz_graph {
    const fz_options *opt;
    fz_env *env;
    fz_dists *dists;  /* distributions, read as modules need them */
    fz_module **mods;
    size_t n;
    size_t cap;
    size_t next;      /* first module whose imports are not followed yet */
    fz_module **late; /* modules whose imports are followed (again)
                         after the rest: brought in after being left
                         out, or needed for sure after being speculative */
    size_t n_late;
    size_t cap_late;
    fz_plugin *plugins; /* entry points of the distributions followed */
    size_t n_plugins;
    size_t cap_plugins;
    PyObject *index;  /* dict: name -> index into mods */
};
typedef struct fz_graph fz_graph;

/* One request for a module: who asks, and how. */
typedef struct fz_req {
    const char *importer;     /* a module name, or "(command line)" and the
                                 like */
    const fz_dist *from_dist; /* the distribution asking when no module of
                                 it does (its entry points), else NULL */
    unsigned why;             /* enum plan_why of what it brings in */
    int maybe_attr;           /* `from pkg import name`: name may be an
                                 attribute, so not found is no import */
    int lazy;                 /* inside a function */
    int guarded;              /* the importer copes without the module */
    int speculative;          /* the importer is in only because a
                                 computed name may load it */
} fz_req;

/* A new empty graph collecting from env for opt. */
int fz_graph_new(const fz_options *opt, fz_env *env, fz_graph **out,
                 kl_err *err);
void fz_graph_free(fz_graph *g);

/* Add the application's Python file at path as module `name` (a compile
 * error in it stops the build), at path rel inside the program, in the
 * program for `why` (enum plan_why). A missing file, or a name taken
 * already, fails naming `what` the file is ("the script to build"). */
int fz_graph_add_file(fz_graph *g, const char *name, const char *path,
                      const char *rel, unsigned why, const char *what,
                      kl_err *err);

/* Require module `name` (and its parents) for `why` (enum plan_why);
 * fails if it cannot be found. */
int fz_graph_require(fz_graph *g, const char *name, unsigned why,
                     kl_err *err);

/* True when `name` is a package in the graph. */
int fz_graph_is_package(fz_graph *g, const char *name);

/* The record of module `name` (owned by the graph), or NULL. */
fz_module *fz_graph_get(fz_graph *g, const char *name);

/* Request module `name` for q: its package first, then it is located,
 * assigned its distribution and, by the rules, put in the program (its
 * imports are followed later) or left out with why. Missing modules are
 * recorded with their importers, unless q->maybe_attr. */
int fz_graph_request(fz_graph *g, const char *name, const fz_req *q,
                     kl_err *err);

/* Request each module in the NULL-terminated list for q. */
int fz_graph_request_all(fz_graph *g, const char *const *names,
                         const fz_req *q, kl_err *err);

/* Request every module and subpackage directly in package `name`'s
 * directories, in sorted order, for q; the whole tree when whole. */
int fz_graph_request_tree(fz_graph *g, const char *name, int whole,
                          const fz_req *q, kl_err *err);

/* Whether the interpreter provides `name` itself: *builtin, *frozen. */
int fz_graph_is_internal(fz_graph *g, const char *name, int *builtin,
                         int *frozen, kl_err *err);

/* ---- fz_graph_follow.c: what each module asks for ------------------------- */

/* Follow the imports of everything added so far (and of the roots every
 * program and the command line add) until no new module is found; then
 * warn about imports that were not found. */
int fz_graph_resolve(fz_graph *g, kl_err *err);

/* ---- fz_hooks.c: runtime hooks ------------------------------------------ */

/* Add each --runtime-hook file of opt to g as module "_kiln_hook_N_STEM"
 * (N from 1, in order; fz_graph_add_file) and append a "runtime-hook
 * MODULE" line for it to p's options text, after fz_interp_options. */
int fz_hooks_add(const fz_options *opt, fz_graph *g, plan *p, kl_err *err);

/* ---- fz_keep.c: --keep-only ---------------------------------------------- */

/* Read the module names of --keep-only file path into names (sorted, each
 * once): one a line; blank lines and lines starting with '#' are passed
 * over. A file that cannot be read, or a line that is no module name,
 * fails in one line naming the file (and the line). */
int fz_keep_read(const char *path, kl_strv *names, kl_err *err);

/* Leave out of resolved graph g (PLAN_OMIT_KEEP_ONLY, detail "not in
 * --keep-only PATH") every module in the program that names does not
 * hold and start-up does not need (fz_keep.c says what that is); say in
 * one note how many and how many bytes. g must have been built with
 * opt->keep_only set, which records what each module asks for. */
int fz_keep_apply(fz_graph *g, const char *path, const kl_strv *names,
                  kl_err *err);

/* ---- fz_graph_plan.c: the graph into the plan ---------------------------- */

/* Add every collected module to p, with its storage and origin, the
 * package data of collected packages and of --collect/--collect-data
 * trees, the metadata of every distribution a collected module belongs
 * to, and every module left out with why. */
int fz_graph_plan(fz_graph *g, plan *p, kl_err *err);

#endif
