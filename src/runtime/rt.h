/*
 * rt.h: the runtime core every output form shares: the program's own file
 * mapped with its bundle, the bundle importer (find and load modules from
 * memory) and native code loaded from memory (or the per-user cache). What only an
 * executable needs (main, interpreter start, run modes, exit) lives in
 * src/stub/ and calls down into this; nothing here calls up.
 */
#ifndef KILN_RT_H
#define KILN_RT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../bundle/bundle.h"
#include "rt_files.h"
#include "rt_natives.h"

/* Exit status when the program or its folder is damaged: the shell's
 * "found but cannot execute". */
#define RT_EXIT_DAMAGED 126

/* ---- rt_options.c: interpreter options fixed at build time ---------------- */

/* The interpreter options a program was built with (bundle_options). */
typedef struct rt_options {
    int optimize;           /* python's -O level, 0 to 2 */
    int unbuffered;         /* -u */
    int environment;        /* PYTHON* variables honoured */
    int meipass;            /* sys._MEIPASS set */
    int full_finalize;      /* exit through Py_FinalizeEx */
    int deps_host;          /* an extension module: the host's modules
                               first, the bundle's after them */
    int utf8_mode;          /* -1: python's default, else -X utf8's 0 or 1 */
    int dev_mode;           /* -X dev */
    int hash_seed_set;      /* hash_seed fixed, as PYTHONHASHSEED=N */
    unsigned long hash_seed;
    kl_strv warnings;       /* -W filters, in order */
    kl_strv xoptions;       /* -X options, in order (those above too) */
    kl_strv hooks;          /* runtime hooks' modules, in the order they
                               run */
} rt_options;

/* Read the options text of a bundle into *o (zeroed first: python's
 * defaults). Fails with a message meant for the user on a line this
 * runtime does not know (*o is then empty). Free with rt_options_free. */
int rt_options_read(rt_options *o, const char *text, kl_err *err);
void rt_options_free(rt_options *o);

/* ---- rt_program.c: the program's own file -------------------------------- */

/* A file that carries a bundle, mapped read-only for the life of the
 * process, and the bundle inside it. */
typedef struct rt_program {
    const uint8_t *map;
    uint64_t map_size;
    char *path;          /* the name it is known by (absolute); malloc'd */
    char *root;          /* where modules' locations are given: path for a
                            one-file program, <path's directory>/<folder>
                            for a folder program (malloc'd); never freed */
    bundle_view bundle;
    rt_options options;  /* what the bundle's options text says */
} rt_program;

/* Map `file` (which may be a /proc/self/... link), open its bundle (its
 * index checked as lookups read it: bundle_open_lazy) and read its
 * interpreter options; `path` is the name it is known by (copied). Call
 * once: prog is then the running program. A folder program's folder
 * must be a directory next to path. On failure err says why in a way
 * meant for the user. The mapping is never unmapped. */
int rt_program_open(rt_program *prog, const char *file, const char *path,
                    kl_err *err);

/* bundle_find and bundle_find_prefix in v, the running program's bundle:
 * damage its index shows on the way ends the program as
 * rt_program_damaged does. */
const bundle_entry *rt_program_find(const bundle_view *v, enum bundle_ns ns,
                                    const char *name, size_t len);
const bundle_entry *rt_program_find_prefix(const bundle_view *v,
                                           enum bundle_ns ns,
                                           const char *prefix, size_t len);

/* Check the whole index of v, the running program's bundle, before
 * walking its entry table; damage ends the program. */
void rt_program_check_index(const bundle_view *v);

/* Map the file <root>/<path> of external entry e (BUNDLE_FLAG_EXTERNAL)
 * into *m and check it against the size and checksum the bundle recorded.
 * The caller unmaps *m. Fails when the file is missing, unreadable,
 * damaged or replaced, with a message naming it. */
int rt_program_map_external(const rt_program *prog, const bundle_entry *e,
                            kl_map *m, kl_err *err);

/* Damage found while the program runs (an external file missing or not
 * what was built): flush Python's standard streams, print "PATH: MESSAGE"
 * as one line on stderr and end the process with RT_EXIT_DAMAGED, so that
 * no `except ImportError` or `except OSError` falls back to something
 * else. Does not return. */
_Noreturn void rt_program_damaged(const rt_program *prog, const kl_err *err);

/* Tell the kernel that bytes [data, data + size) of the program mapping,
 * just copied or unmarshalled, are not needed any more, so that they stop
 * counting towards the process's resident memory. Pages are only dropped
 * from this process's mapping (they stay in the page cache) and are read
 * again if touched. Pointers outside the mapping are ignored. */
void rt_program_release(const rt_program *prog, const void *data, size_t size);

/* ---- rt_trace.c: import tracing (KILN_TRACE_IMPORTS) ----------------------- */

/* Read KILN_TRACE_IMPORTS once, before Python starts. Set and not empty,
 * it names a file (made absolute against the current directory) to which
 * the names of the bundle modules the program imports are appended, one
 * a line, when the process exits (atexit): a file that cannot be written
 * is then one line on stderr, and the exit status stays the program's.
 * Fails only when out of memory (tracing is then off). */
int rt_trace_setup(const rt_program *prog, kl_err *err);

/* Note that bundle entry e of the traced program is being imported.
 * Nothing when tracing is off. */
void rt_trace_note(const bundle_entry *e);

/* ---- rt_importer.c: the bundle importer ------------------------------------ */

/* Create the importer object for prog and put it at sys.meta_path[0].
 * main_alias, when not NULL, is the module the name "__main__" stands for
 * (it has no entry of its own when the program runs a module). Sets a
 * Python exception and returns -1 on failure. */
int rt_importer_install(rt_program *prog, const char *main_alias);

/* While on, find_spec refuses module zipimport with ImportError. CPython's
 * main phase takes a zipimport that cannot be imported as no zip support
 * and goes on, so a program that looks nothing up on disk does not pay
 * for an importer of zip files on sys.path it would never use; imported
 * later, zipimport comes as always. */
void rt_importer_hold_zipimport(int on);

/* Append the directories of prog's runtime path (bundle_runtime_path;
 * $ORIGIN and ${ORIGIN} become the directory of prog->path) to sys.path,
 * where PathFinder, left in sys.meta_path after the bundle importer,
 * looks for modules on disk as python does. A missing directory is kept,
 * as python keeps one. -1 with an exception set. */
int rt_importer_add_runtime_path(const rt_program *prog);

/* For the extension module `name` (a str) that prog's file is (bundle run
 * mode extension): create its importers and put them on sys.meta_path,
 * `name` standing for the bundle's run target in both. By default one
 * goes first, serving only the imports the extension module's own code
 * asks for, of modules not of the standard library; the other last
 * (before PathFinder when in_program: the host is a program kiln built),
 * serving the standard library's modules it carries to a host that has
 * not got them (rt_importer_scope.c). When prog's options say
 * "dependencies host", one only, last, serving any import the host's own
 * finders leave. Once per process. -1 with an exception set. */
int rt_importer_install_extension(rt_program *prog, PyObject *name,
                                  int in_program);

/* True when module `name` (dotted) belongs to the standard library: its
 * first component is in sys.stdlib_module_names (where the Python has
 * it), or it is importlib or importlib's own bootstrap. Never fails. */
int rt_importer_in_stdlib(const char *name);

/* Put the importer's path hook first on sys.path_hooks, so that
 * pkgutil.iter_modules and walk_packages list bundled modules for paths
 * inside the program (the root, packages' __path__). Call after the
 * interpreter's main phase set up sys.path_hooks. -1 with an exception
 * set. */
int rt_importer_add_path_hook(void);

/* The installed importer (borrowed), or NULL before installation. */
PyObject *rt_importer_get(void);

/* Look up module `name` and return a new ModuleSpec for it, None when the
 * bundle does not hold it, or NULL with an exception set. */
PyObject *rt_importer_find_spec(PyObject *importer, PyObject *name);

/* Return a new code object for bundled module `name`, with co_filename set
 * to its path inside the program. NULL with an exception set. */
PyObject *rt_importer_get_code(PyObject *importer, PyObject *name);

/* ---- rt_importer_load.c: importlib's import protocol in C ---------------- */

/* Put the C path for importing a bundled module (rt_importer_load.c) in
 * place of importlib._bootstrap._find_and_load, for importer, the bundle
 * importer (borrowed; it outlives the interpreter). Nothing under
 * python's -v, whose messages only importlib's functions print. Once,
 * after rt_importer_install. -1 with an exception set. */
int rt_importer_load_install(PyObject *importer);

/* ---- rt_external.c: importlib's path-based importers, set up when asked -- */

/* Call between the core and the main phase of a program that looks
 * nothing up on disk: the main phase then leaves importlib's path-based
 * importers (_frozen_importlib_external) to be set up the first time
 * anything asks for them, with PathFinder then taken off sys.meta_path and
 * FileFinder's hook put right after that of `importer` (the bundle
 * importer, borrowed; it outlives the interpreter) on sys.path_hooks.
 * Once. -1 with an exception set. */
int rt_external_defer(PyObject *importer);

/* find_spec(name) for _frozen_importlib_external while it is deferred:
 * 1 with *spec a new ModuleSpec (made by spec_type) whose loader sets the
 * importers up; 0 with *spec NULL for any other name or once they are set
 * up; -1 with an exception set. */
int rt_external_find_spec(PyObject *name, PyObject *spec_type,
                          PyObject **spec);

/* ---- rt_glue.c: importlib.metadata and importlib.resources over the bundle,
 * and the standard library's own re-executions of sys.executable */

/* When sys.argv is a command line the standard library builds to start
 * sys.executable again (multiprocessing: `--multiprocessing-fork
 * NAME=N...`, or interpreter flags then `-c` with its spawn, forkserver or
 * resource tracker program; rt_reexec.py lists them exactly), run it as
 * python would, with the program's main script given to multiprocessing
 * from the bundle (importer's get_code("__main__")): 1. 0 for any other
 * command line, which is the program's, with nothing done (the glue is not
 * even run unless the command line starts like one). -1 with an exception
 * set, SystemExit included. */
int rt_glue_reexec(PyObject *importer);

/* find_distributions(context) for the importer `loader` of prog, whose
 * modules' locations start with `root` ("<root>/"): a new iterator of
 * importlib.metadata.Distribution objects, one per .dist-info directory
 * the bundle holds (only those named context.name, normalised as
 * importlib does, when it is not None), reading their files through
 * loader.get_data. NULL with an exception set. */
PyObject *rt_glue_find_distributions(const rt_program *prog,
                                     PyObject *loader, PyObject *root,
                                     PyObject *context);

/* pkg_resources (module pr, just loaded) for the importer `loader` of
 * prog: find the distributions the program carries under root ("<root>/")
 * and read packages' files through their paths, which rt_files.c serves
 * (a folder program's are files). 0, or -1 with an exception set. */
int rt_glue_pkg_resources(const rt_program *prog, PyObject *pr,
                          PyObject *loader, PyObject *root);

/* ctypes.util (module cu, just loaded) in a program that carries shared
 * libraries: find_library("foo") gives the name of a carried libfoo.so
 * (libfoo.so.N), which the program's dlopen loads (rt_natives.h); other
 * names what python's gives. Nothing when the program carries none. 0, or
 * -1 with an exception set. */
int rt_glue_ctypes_util(const rt_program *prog, PyObject *cu);

/* A new list of (path, kind name, module name or None), one per entry of
 * prog's bundle but shared libraries: what importlib.resources lists. */
PyObject *rt_glue_files(const rt_program *prog);

/* A new importlib.resources reader (TraversableResources) of directory
 * `dir` ("pkg/sub", relative to root) of the program whose importer is
 * loader: its files are listed with loader._kiln_files() and read with
 * loader.get_data and get_source. NULL with an exception set. */
PyObject *rt_glue_resource_reader(PyObject *loader, PyObject *root,
                                  const char *dir);

/* A new path entry finder (for pkgutil.iter_modules and friends) of
 * directory `rel` ("" for the root, "pkg/sub") of the program whose
 * importer is loader; ImportError when the program holds no such
 * directory. */
PyObject *rt_glue_path_finder(PyObject *loader, PyObject *root,
                              PyObject *rel);

/* ---- rt_linecache.c: linecache entries for bundled modules ---------------- */

/* When linecache is loaded, give it a lazy entry for bundled module
 * `name` at path `file` (its co_filename), read through loader's
 * get_source when a line is asked for, unless it has an entry for file.
 * Does nothing before linecache is loaded. -1 with an exception set. */
int rt_linecache_note(PyObject *loader, PyObject *name, PyObject *file);

/* The same for every module in sys.modules that loader loaded (and the
 * script running as __main__ when main_bundled: the bundle holds a
 * "__main__" entry): called once linecache itself has been loaded. */
int rt_linecache_note_all(PyObject *loader, int main_bundled);

/* ---- rt_route.c: packages given real files -------------------------------- */

/* Give package directory rel ("pkg/sub") of one-file program prog real
 * files in the per-user cache (rt_cache_tree), once per process, and
 * point package `module` (about to run) there: __file__, __path__, its
 * spec's origin and search locations. ImportError saying why when the
 * files cannot be written. */
int rt_route_package(const rt_program *prog, const char *rel,
                     PyObject *module);

/* Where path rel (below the program's root) lies when it is inside a
 * package given real files: 1 with *out a new string, the real path; 0
 * when it is not; -1 with an exception set. */
int rt_route_location(const char *rel, PyObject **out);

/* ---- rt_natives.c: native objects the program carries (rt_natives.h) --- */

/* Answer rt_natives_dlopen() for prog from now on. Call once, before
 * Python starts. */
void rt_natives_mount(const rt_program *prog);

/* Load the libraries the program carries (kind shlib) that the shared
 * object image[0, size) (named what) needs, each after the carried
 * libraries it needs itself, once per process: placed by rt_dlpath_open
 * (memory or the cache), or a folder program's file. The dynamic loader
 * then finds them by soname when it loads the object. Damage ends the
 * process (rt_program_damaged); a library that does not load fails with
 * the loader's message. Nothing is read when the program carries none. */
int rt_natives_preload(const rt_program *prog, const void *image,
                       size_t size, const char *what, kl_err *err);

/* Get extension module e of a one-file program ready for CPython's
 * loader: the carried libraries it needs loaded (rt_natives_preload), and
 * p set to where its bytes are placed (rt_dlpath_open; in a copy whose
 * DT_NEEDED entries naming carried libraries without a DT_SONAME are
 * hidden), or, when dlopen() loaded it already, to the path it was loaded
 * by. The caller loads
 * p->path, calls rt_natives_staged once that worked, then
 * rt_dlpath_close. Damaged bytes (the module's or a library's it needs)
 * end the program (rt_program_damaged), as any damage to it does; other
 * failures come back with a message. */
int rt_natives_stage(const rt_program *prog, const bundle_entry *e,
                     rt_dlpath *p, kl_err *err);

/* Extension module e was loaded from p->path: a later dlopen() of its
 * path in the program returns it. */
void rt_natives_staged(const rt_program *prog, const bundle_entry *e,
                       const rt_dlpath *p);

/* ---- rt_extension.c: extension modules from memory -------------------------- */

/* Create an extension module from bundle entry e for spec, after the
 * libraries it needs that the program carries: the shared object is
 * placed in memory or the cache (rt_natives_stage) and loaded from there
 * by CPython's own extension loader (imp is the _imp module); its
 * __file__ is then spec's origin, the path it has in the program. New
 * reference, or NULL with an exception set. */
PyObject *rt_extension_create(const rt_program *prog, PyObject *imp,
                              const bundle_entry *e, PyObject *spec);

/* Run the second phase of an extension module's initialization through
 * _imp (imp). Returns 0, or -1 with an exception set. */
int rt_extension_exec(PyObject *imp, PyObject *module);

#endif
