/*
 * build_graph.h: the import graph's records, shared by the files that fill
 * it: build_graph.c (requests, processing, output), build_locate.c (finding
 * modules on disk) and build_scan.c (following imports in bytecode).
 */
#ifndef KILN_BUILD_GRAPH_H
#define KILN_BUILD_GRAPH_H

#include "build.h"

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
    int star_imported;    /* `from pkg import *` seen before pkg was compiled */
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
    int lazy_import;      /* the import being followed sits in a function */
};

/* Request module `name` for `importer` (a module name, or a description
 * such as "(command line)"). Missing modules are recorded with their
 * importers, unless `optional` (a `from pkg import name` that may be an
 * attribute). Parents are requested first. */
int build_graph_request(build_graph *g, const char *name, const char *importer,
                        int optional, kl_err *err);

/* Record that module `name` is the target of `from name import *`: its
 * __all__ may name submodules, which that statement imports. */
int build_graph_star_import(build_graph *g, const char *name, kl_err *err);

/* ---- build_locate.c ---- */

int build_path_is_dir(const char *path);
int build_path_is_file(const char *path);

/* New malloc'd a + b + c; NULL when out of memory. */
char *build_str_join3(const char *a, const char *b, const char *c);

/* Append a copy of s to the string array *arr of *n items; -1 on ENOMEM. */
int build_strv_push(char ***arr, size_t *n, const char *s);
void build_strv_free(char **arr, size_t n);

/* Append the str items of Python list `list` (only existing directories
 * when dirs_only) to *arr. -1 with a Python exception set on failure. */
int build_strv_from_list(PyObject *list, char ***arr, size_t *n, int dirs_only);

/* True when file lies in the standard library (not in site-packages). */
int build_locate_in_stdlib(build_graph *g, const char *file);

/* Locate module m, whose last name component is `tail`, in directories
 * dirs as importlib's FileFinder would, and fill its location fields.
 * Returns 1 found, 0 not found, -1 out of memory. */
int build_locate(build_graph *g, build_module *m, const char *tail,
                 char **dirs, size_t ndirs);

/* The module name that directory entry `entry` of package directory `dir`
 * stands for, written to child (n bytes); 0 when it is not a module. */
int build_locate_child_name(build_graph *g, const char *dir, const char *entry,
                            char *child, size_t n);

/* ---- build_scan.c ---- */

/* Read the opcode numbers the scanner needs from the `opcode` module. */
int build_scan_load_opcodes(build_graph *g, kl_err *err);

/* Request every module that code object `code` of module m imports,
 * including from nested code objects, leaving out imports inside another
 * module's `if __name__ == "__main__":` block. */
int build_scan_imports(build_graph *g, build_module *m, PyObject *code,
                       kl_err *err);

/* For `from pkg import *` of package m with module code `code`: request,
 * as optional submodules, the strings among its top-level constants (an
 * `__all__` list is stored there). */
int build_scan_star(build_graph *g, build_module *m, PyObject *code,
                    kl_err *err);

#endif
