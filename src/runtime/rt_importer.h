/*
 * rt_importer.h: what the importer's files share (rt_importer.c: finding
 * and loading modules; rt_importer_data.c: get_data and the hooks
 * importlib.resources, importlib.metadata and pkgutil ask for;
 * rt_importer_sys.c: where importers go; rt_importer_scope.c: whose
 * imports an extension module's serve). Not part of the runtime's
 * interface (rt.h).
 */
#ifndef KILN_RT_IMPORTER_H
#define KILN_RT_IMPORTER_H

#include "rt.h"

/* The most attributes a ModuleSpec may have for rt_importer_spec.c to
 * make it itself. */
#define RT_SPEC_MAX 16

typedef struct rt_importer {
    PyObject_HEAD
    rt_program *prog;
    PyObject *prefix;       /* "<root>/" */
    PyObject *spec_type;    /* importlib.machinery.ModuleSpec */
    PyObject *imp;          /* the _imp module */
    PyObject *fix_filename; /* _imp._fix_co_filename */
    PyObject *run_code;     /* importlib._bootstrap._call_with_frames_removed */
    PyObject *exec;         /* builtins.exec */
    PyObject *main_alias;   /* module that "__main__" stands for, or NULL */
    PyObject *cache_tail;   /* ".cpython-311[.opt-N].pyc": what importlib's
                               cache_from_source puts after a module's
                               stem, or NULL when it would give none */
    PyObject *aliases;      /* dict: module name -> the name of the entry
                               its parent's __path__ gave it
                               (rt_importer_path.c), or NULL for none */
    PyObject *spec_keys;    /* tuple: a ModuleSpec's attributes in the
                               order its __init__ sets them, or NULL when
                               that ModuleSpec is not one
                               rt_importer_spec.c knows */
    unsigned char spec_fill[RT_SPEC_MAX]; /* what each of them holds */
    PyObject *own_name;     /* an extension module's importer: its name;
                               else NULL */
    int role;               /* enum rt_importer_role */
} rt_importer;

/* Which imports an importer answers (rt_importer_scope.c). */
enum rt_importer_role {
    RT_ROLE_ALL = 0,      /* every import of a module it holds: a
                             program's, or an extension module's last on
                             sys.meta_path when it leaves the host's
                             modules first */
    RT_ROLE_OWN = 1,      /* an extension module's, first on sys.meta_path:
                             what its own code imports, but nothing of the
                             standard library; and the submodules of the
                             packages it loaded, whoever asks */
    RT_ROLE_FALLBACK = 2, /* an extension module's, last on sys.meta_path
                             (in a program kiln built, before PathFinder):
                             the standard library's modules it carries, for
                             a host that has not got them (a program kiln
                             built carries only what it uses) */
    RT_ROLE_INSIDE = 3    /* an extension module's that leaves the host's
                             modules first, before PathFinder: only the
                             submodules of the packages it loaded */
};

/* A new importer for prog (RT_ROLE_ALL), not yet anywhere. NULL with an
 * exception set. */
rt_importer *rt_importer_new(rt_program *prog);

/* Find `name` among the bundle's modules. Sets ImportError (when `raise`
 * is true) and returns NULL when absent. */
const bundle_entry *rt_importer_lookup(rt_importer *self, PyObject *name,
                                       int raise);

/* New reference: "<program>/<rel>", or the real path of rel when it lies
 * in a package given real files (rt_route.c). */
PyObject *rt_importer_location(rt_importer *self, const char *rel);

/* New reference: the origin of entry e, or None for a namespace package. */
PyObject *rt_importer_origin(rt_importer *self, const bundle_entry *e);

/* Put the directory inside the program of package or namespace entry e
 * ("pkg/sub"; "" for a top-level package's root) in dir. -1 with an
 * exception set when out of memory. */
int rt_importer_entry_dir(const bundle_view *v, const bundle_entry *e,
                          kl_buf *dir);

/* Look up module `name` for a loader method: 1 with *e its entry; 0
 * when it is a data directory, whose directory goes to dir when dir is
 * not NULL; -1 with ImportError set when it is neither. */
int rt_importer_find(rt_importer *self, PyObject *name,
                     const bundle_entry **e, kl_buf *dir);

/* find_spec(name, path) of the importer self: a new spec, None when
 * the bundle holds no such module where path says, or NULL with an
 * exception set. */
PyObject *rt_importer_find_spec_in(PyObject *self, PyObject *name,
                                   PyObject *path);

/* exec_module(module) of the importer self: run the module's bytecode in
 * its namespace, or initialize an extension module; nothing for a
 * namespace package. None, or NULL with an exception set. */
PyObject *rt_importer_exec_module(PyObject *self, PyObject *module);

/* ---- rt_importer_scope.c: whose imports an extension module serves ---- */

/* Whether the import being made now is one self serves: 1 always but for
 * an RT_ROLE_OWN importer, which serves 1 when the Python code asking,
 * found by walking back from the running frame past the standard
 * library's (importlib and what calls it on a caller's behalf), is the
 * extension module's own or a module self loaded, 0 when it is the
 * host's or there is none. -1 with an exception set. */
int rt_importer_serves_caller(rt_importer *self);

/* Whether self answers find_spec(name, path) now: as its role says (by
 * where path, the parent package's __path__ or None, lies, by name, then,
 * when held (self's bundle holds the module or a data directory of that
 * name), by rt_importer_serves_caller). 1 or 0; -1 with an exception set. */
int rt_importer_serves(rt_importer *self, PyObject *name, PyObject *path,
                       int held);

/* ---- rt_importer_spec.c: specs and modules made in C -------------------- */

/* Learn, from one ModuleSpec made by self->spec_type, which attributes a
 * new spec gets and in what order (self->spec_keys, self->spec_fill);
 * leaves spec_keys NULL, so that specs are made by the constructor, when
 * one holds something rt_importer_spec.c does not know. -1 with an
 * exception set. */
int rt_importer_spec_init(rt_importer *self);

/* A new ModuleSpec(name, self, origin=origin) as the constructor makes
 * it, with has_location true when origin is not None, `cached` set to
 * cached (a str, or NULL for none) and, for a package, locations (a list)
 * as submodule_search_locations: all references borrowed. NULL with an
 * exception set. */
PyObject *rt_importer_new_spec(rt_importer *self, PyObject *name,
                               PyObject *origin, PyObject *locations,
                               PyObject *cached);

/* New reference: what importlib's cache_from_source gives for source
 * origin ("<dir>/__pycache__/<stem>.cpython-311.pyc"), None for an origin
 * that is not a .py file or without a cache tag; NULL with an exception
 * set. */
PyObject *rt_importer_spec_cached(rt_importer *self, PyObject *origin);

/* create_module(spec) for a bundled source or bytecode module: a new
 * module with every attribute importlib's _init_module_attrs would give it
 * from spec already set (it then finds them all and changes none); None
 * when spec is not a ModuleSpec made as rt_importer_new_spec makes them,
 * for importlib to make the module itself. NULL with an exception set. */
PyObject *rt_importer_new_module(rt_importer *self, PyObject *spec);

/* ---- rt_importer_path.c: submodules where their parent's __path__ says */

/* What rt_importer_follow_path makes of a submodule. */
enum rt_path_answer {
    RT_PATH_ITSELF = 0, /* the bundle's module of that name, as ever */
    RT_PATH_ALIAS = 1,  /* another bundled module (recorded) */
    RT_PATH_NONE = 2    /* none: the bundle's module of that name lies
                           elsewhere than path says, and path's
                           directories hold none of the name */
};

/* Before find_spec(name, path) of a submodule: when the bundle's module
 * `name` does not lie in one of path's directories but a bundled module
 * named after such a directory does ("distutils.core" asked for with
 * path [<root>/setuptools/_distutils] is "setuptools._distutils.core"),
 * record that `name` stands for it from now on (self->aliases, which
 * rt_importer_lookup consults). An alias recorded before for a name that
 * is itself now is forgotten. A path with no directory inside the program
 * leaves the name itself. -1 with an exception set. */
int rt_importer_follow_path(rt_importer *self, PyObject *name,
                            PyObject *path);

/* ---- rt_importer_data.c: the methods it offers besides loading ---------- */

/* get_data(path), get_resource_reader(name), find_distributions(context),
 * _kiln_path_hook(path), _kiln_files(), _kiln_cache_file(name, data): see
 * their comments there. */
PyObject *rt_importer_m_get_data(PyObject *obj, PyObject *path);
PyObject *rt_importer_m_get_resource_reader(PyObject *obj, PyObject *name);
PyObject *rt_importer_m_find_distributions(PyObject *obj, PyObject *args,
                                           PyObject *kwargs);
PyObject *rt_importer_m_path_hook(PyObject *obj, PyObject *path);
PyObject *rt_importer_m_kiln_files(PyObject *obj, PyObject *unused);
PyObject *rt_importer_m_kiln_cache_file(PyObject *obj, PyObject *args);

/* ---- rt_unmarshal.c: a module's code object from its marshal bytes ----- */

/* New reference: the object marshal makes from data[0, size) (a bundled
 * module's code), read with the process's interned names shared where
 * the Python allows (KILN_OWN_UNMARSHAL). NULL with marshal's exception
 * set when the bytes are not marshal data. */
PyObject *rt_unmarshal_code(const uint8_t *data, size_t size);

#endif
