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

/* Opcode numbers of the embedded CPython that the scanner reads. */
typedef struct fz_opcodes {
    int import_name;
    int load_const;
    int extended_arg;
} fz_opcodes;

struct fz_env {
    kl_strv search;          /* top-level search directories, in order */
    kl_strv suffixes;        /* extension module suffixes */
    char *app_dir;           /* the application's directory, or NULL */
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
    FZ_BROKEN = 5   /* found but could not be compiled (not bundled) */
};

typedef struct fz_module {
    char *name;
    enum fz_state state;
    unsigned kind;        /* bundle kind when FZ_FOUND */
    int is_package;
    char *file;           /* file on disk; NULL for namespace packages */
    char *rel;            /* its path inside the program */
    kl_strv dirs;         /* a package's search directories */
    int stdlib;           /* lives in the standard library */
    int app;              /* lives in the application's own directory */
    char *importers;      /* FZ_MISSING: "a, b, c" */
    char *via;            /* the first module that imported this one */
    int importer_outside_stdlib;
    int star_imported;    /* `from pkg import *` seen before pkg was compiled */
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
 * `rel` (its path inside the program). On success *code is a new reference,
 * *marshalled a new bytes object with the marshalled code and *source a
 * new bytes object with the source as UTF-8 (universal newlines). */
int fz_compile(const char *disk_path, const char *rel, int use_cache,
               PyObject **code, PyObject **marshalled, PyObject **source,
               kl_err *err);

/* ---- fz_scan.c: imports in bytecode --------------------------------------- */

/* One import statement found in bytecode. */
typedef struct fz_import {
    char *name;       /* absolute name of the module imported */
    kl_strv from;     /* its fromlist, in order: names that may be
                         submodules, "*" for `from name import *` */
    int lazy;         /* inside a function: runs only when called */
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
 * code holds them. Unless runs_as_main, the module's own
 * `if __name__ == "__main__":` blocks (found in the bytecode) are left
 * out. */
int fz_scan_imports(const fz_opcodes *ops, const char *name, int is_package,
                    int runs_as_main, PyObject *code, fz_imports *out,
                    kl_err *err);

/* Append to out the identifier strings among code's top-level constants:
 * for `from pkg import *`, where pkg's __all__ may name submodules. */
int fz_scan_star_names(PyObject *code, kl_strv *out, kl_err *err);


/* ---- fz_policy.c: what the graph follows -------------------------------- */

/* The modules C code of module `name` imports at run time, which no
 * bytecode shows (NULL-terminated), or NULL. */
const char *const *fz_policy_hidden(const char *name);

/* True when module `name`, asked for from inside a function (lazy) of
 * `importer`, a standard library module (importer_stdlib), is one of the
 * developer tools left out unless the app itself imports them. */
int fz_policy_skip_lazy(const char *name, const char *importer,
                        int importer_stdlib, int lazy);

/* Modules always bundled (NULL-terminated). */
extern const char *const fz_policy_always[];

/* ---- fz_graph.c: the import graph -------------------------------------- */

typedef struct fz_graph fz_graph;

/* A new empty graph collecting from env for opt. */
int fz_graph_new(const fz_options *opt, fz_env *env, fz_graph **out,
                 kl_err *err);
void fz_graph_free(fz_graph *g);

/* Add the script at path as module "__main__". */
int fz_graph_add_script(fz_graph *g, const char *path, kl_err *err);

/* Require module `name` (and its parents); fails if it cannot be found. */
int fz_graph_require(fz_graph *g, const char *name, kl_err *err);

/* True when `name` is a package in the graph. */
int fz_graph_is_package(fz_graph *g, const char *name);

/* Follow the imports of everything added so far until no new module is
 * found; then warn about imports that were not found. */
int fz_graph_resolve(fz_graph *g, kl_err *err);

/* Add every collected module to p, with its storage. */
int fz_graph_plan(fz_graph *g, plan *p, kl_err *err);

#endif
