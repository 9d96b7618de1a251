/*
 * build.h: the `kiln` command: `kiln build` collects an application's
 * modules by following its import graph, compiles them with the embedded
 * CPython and writes one executable (the runtime stub followed by a
 * bundle); `kiln inspect` lists and verifies a built program.
 */
#ifndef KILN_BUILD_H
#define KILN_BUILD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../bundle/bundle.h"

/* Exit statuses of the kiln command. */
#define BUILD_EXIT_OK 0
#define BUILD_EXIT_FAIL 1   /* the build or check failed */
#define BUILD_EXIT_USAGE 2  /* bad command line */

/* zstd levels: --compress, and sources (always compressed: they are read
 * only for tracebacks and inspect, never at start-up). */
#define BUILD_COMPRESS_LEVEL 10
#define BUILD_SOURCE_LEVEL 3

typedef struct build_options {
    const char *script;     /* SCRIPT, or NULL */
    const char *module;     /* -m MODULE, or NULL */
    const char *entry;      /* --entry pkg.mod:func, or NULL */
    const char *output;     /* -o PATH, or NULL for dist/NAME */
    const char *name;       /* --name, or NULL to derive one */
    const char **hidden;    /* --hidden-import, n_hidden of them */
    size_t n_hidden;
    const char **excludes;  /* --exclude-module, n_excludes of them */
    size_t n_excludes;
    const char **paths;     /* --paths: extra module search directories */
    size_t n_paths;
    const char **datas;     /* --add-data SRC:DEST, n_datas of them */
    size_t n_datas;
    int no_source;          /* leave sources out of the bundle */
    int compress;           /* zstd-compress payloads */
    int strip;              /* cut non-loadable parts off shared objects
                               (the default; --no-strip turns it off) */
    int verbose;            /* list every module and every missing import */
} build_options;

/* ---- build_python.c: the embedded interpreter used for building ---- */

/* Start the embedded CPython the way the Python it was built from starts
 * (same stdlib and site-packages), with a fixed hash seed so that builds
 * are reproducible. */
int build_python_start(kl_err *err);

/* Describe the pending Python exception in err and clear it. Returns -1. */
int build_python_error(kl_err *err, const char *context);

/* Compile the source file at disk_path, or with use_cache take the code
 * from the embedded Python's __pycache__ when that is current. The cache
 * is used for the standard library only, whose .pyc files are installed
 * with it: marshal output differs slightly between a compiled and a loaded
 * code object, so a cache that comes and goes (the app's, a package's)
 * would make builds depend on it. The code
 * object's co_filename is `rel` (its path inside the program). On success
 * *code is a new
 * reference, *marshalled a new bytes object with the marshalled code and
 * *source a new bytes object with the source as UTF-8 (universal newlines).
 * A syntax error gives "file:line:col: SyntaxError: message". */
int build_compile(const char *disk_path, const char *rel, int use_cache,
                  PyObject **code, PyObject **marshalled, PyObject **source,
                  kl_err *err);

/* ---- build_graph.c: the import graph ---- */

typedef struct build_graph build_graph;

/* A new graph searching the app's own directory `app_dir` (may be NULL)
 * and then the embedded interpreter's sys.path. */
build_graph *build_graph_new(const build_options *opt, const char *app_dir,
                             kl_err *err);
void build_graph_free(build_graph *g);

/* Add the script at path as module "__main__". */
int build_graph_add_script(build_graph *g, const char *path, kl_err *err);

/* Require module `name` (and its parents); fails if it cannot be found. */
int build_graph_require(build_graph *g, const char *name, kl_err *err);

/* True when `name` is a package in the graph. */
int build_graph_is_package(build_graph *g, const char *name);

/* Follow the imports of everything added so far until no new module is
 * found; then print warnings for imports that were not found. */
int build_graph_resolve(build_graph *g, kl_err *err);

/* Add every collected module to the bundle writer. */
int build_graph_emit(build_graph *g, bundle_writer *w, kl_err *err);

/* ---- build_data.c: data files ---- */

/* Add the files named by one --add-data SRC:DEST argument to w: DEST is a
 * directory inside the program; file SRC is stored as DEST/basename(SRC),
 * a directory's files (recursively, sorted) below DEST/. */
int build_data_add(bundle_writer *w, const char *spec, int compress_level,
                   kl_err *err);

/* ---- build_elf.c: shared objects ---- */

/* For a 64-bit little-endian ELF image of `size` bytes: the size of its
 * loadable part (up to the end of its last segment), after clearing the
 * section header fields in image so that the cut image is consistent.
 * Returns size unchanged for anything else, or when nothing can be cut. */
size_t build_elf_loadable_size(uint8_t *image, size_t size);

/* ---- build_output.c: writing the program ---- */

/* Write to out (size bytes) the path of the runtime stub that sits next to
 * this kiln (or in ../lib/kiln/ after make install). */
int build_find_stub(char *out, size_t size, kl_err *err);

/* Write stub + bundle to `path` atomically: a temporary file in the same
 * directory, made executable, then renamed over path. Creates the parent
 * directory when missing. Nothing is left at path on failure. */
int build_write_program(const char *path, const char *stub_path,
                        bundle_writer *w, kl_err *err);

/* ---- commands ---- */

int build_cmd_build(int argc, char **argv);
int build_cmd_inspect(int argc, char **argv);

#endif
