/*
 * rt_importer.c: the bundle importer, a meta path finder and loader in C.
 *
 * One instance serves every module of the bundle. Module specs carry a
 * location under the program's root (rt_program), as zipimport does for
 * archives: __file__ of package "pkg.mod" is "<program>/pkg/mod.py" (in a
 * folder program "<folder>/pkg/mod.py", next to the package's real data
 * files) and its code objects carry the same co_filename, so tracebacks,
 * linecache and inspect find their source through get_source().
 */
#include "rt_importer.h"

#include <marshal.h>

#include <assert.h>
#include <stdlib.h>
#include <string.h>


static int rt_importer_no_zipimport; /* rt_importer_hold_zipimport(1) */

/* Find `name` among the bundle's modules. Sets ModuleNotFoundError (when
 * `raise` is true) and returns NULL when absent; *utf8 receives the name. */
const bundle_entry *rt_importer_lookup(rt_importer *self, PyObject *name,
                                              int raise)
{
    const bundle_entry *e;
    const char *s;
    Py_ssize_t n;

    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "module name must be str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    if (self->aliases != NULL) {
        PyObject *alias = PyDict_GetItemWithError(self->aliases, name);

        if (alias != NULL)
            name = alias;
        else if (PyErr_Occurred())
            return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(name, &n);
    if (s == NULL)
        return NULL;
    e = rt_program_find(&self->prog->bundle, BUNDLE_NS_MODULE, s, (size_t)n);
    if (e == NULL && self->main_alias != NULL && strcmp(s, "__main__") == 0)
        return rt_importer_lookup(self, self->main_alias, raise);
    if (e == NULL && raise)
        PyErr_Format(PyExc_ImportError, "%U is not in this program's bundle",
                     name);
    return e;
}

/* New reference: "<program>/<rel>", or the real path of rel when it lies
 * in a package given real files (rt_route.c). */
PyObject *rt_importer_location(rt_importer *self, const char *rel)
{
    PyObject *tail, *full;
    int routed = rt_route_location(rel, &full);

    if (routed != 0)
        return routed > 0 ? full : NULL;
    tail = PyUnicode_DecodeFSDefault(rel);
    if (tail == NULL)
        return NULL;
    full = PyUnicode_Concat(self->prefix, tail);
    Py_DECREF(tail);
    return full;
}

/* New reference: the origin of entry e, or None for a namespace package. */
PyObject *rt_importer_origin(rt_importer *self, const bundle_entry *e)
{
    if (e->kind == BUNDLE_KIND_NAMESPACE)
        Py_RETURN_NONE;
    return rt_importer_location(self, bundle_entry_path(&self->prog->bundle, e));
}

/* Put the directory inside the program of package or namespace entry e
 * ("pkg/sub"; "" for a top-level package's root) in dir. -1 with an
 * exception set when out of memory. */
int rt_importer_entry_dir(const bundle_view *v, const bundle_entry *e,
                                 kl_buf *dir)
{
    const char *path = bundle_entry_path(v, e);
    const char *slash = e->kind == BUNDLE_KIND_PACKAGE ? strrchr(path, '/')
                                                       : NULL;

    assert(e->kind == BUNDLE_KIND_PACKAGE || e->kind == BUNDLE_KIND_NAMESPACE);
    dir->len = 0;
    if (kl_buf_add(dir, path, slash ? (size_t)(slash - path) :
                              e->kind == BUNDLE_KIND_PACKAGE ? 0 : strlen(path)) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* New reference: the directory of package entry e inside the program. */
static PyObject *rt_importer_package_dir(rt_importer *self,
                                         const bundle_entry *e)
{
    kl_buf dir = KL_BUF_INIT;
    PyObject *full = NULL;

    if (rt_importer_entry_dir(&self->prog->bundle, e, &dir) == 0)
        full = rt_importer_location(self, dir.s);
    kl_buf_free(&dir);
    return full;
}

/* When module `name` is not in the bundle but names a directory of
 * package data under a bundled package, or under such a directory
 * ("pkg.data" for the files under pkg/data/), as python imports such a
 * directory as a namespace package, put that directory ("pkg/data") in
 * *dir and return 1; 0 when it does not, -1 with an exception set on
 * failure. rt_importer_data_dir_of() takes the name as s[0, n). */
static int rt_importer_data_dir_of(rt_importer *self, const char *s,
                                   size_t n, kl_buf *dir)
{
    const bundle_view *v = &self->prog->bundle;
    const bundle_entry *parent;
    const char *dot = NULL;
    size_t i;

    for (i = n; i > 0 && dot == NULL; i--)
        if (s[i - 1] == '.')
            dot = s + i - 1;
    if (dot == NULL || (size_t)(dot - s) + 1 == n)
        return 0;
    parent = rt_program_find(v, BUNDLE_NS_MODULE, s, (size_t)(dot - s));
    if (parent != NULL && (parent->kind == BUNDLE_KIND_PACKAGE ||
                           parent->kind == BUNDLE_KIND_NAMESPACE)) {
        if (rt_importer_entry_dir(v, parent, dir) < 0)
            return -1;
    } else if (parent != NULL ||
               rt_importer_data_dir_of(self, s, (size_t)(dot - s), dir) <= 0) {
        return parent != NULL ? 0 : (PyErr_Occurred() ? -1 : 0);
    }
    if (kl_buf_adds(dir, "/") < 0 ||
        kl_buf_add(dir, dot + 1, n - (size_t)(dot - s) - 1) < 0 ||
        kl_buf_adds(dir, "/") < 0) {
        PyErr_NoMemory();
        return -1;
    }
    if (rt_program_find_prefix(v, BUNDLE_NS_FILE, dir->s, dir->len) == NULL)
        return 0;
    dir->s[--dir->len] = '\0';
    return 1;
}

static int rt_importer_data_dir(rt_importer *self, PyObject *name,
                                kl_buf *dir)
{
    const char *s;
    Py_ssize_t n;

    s = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &n) : NULL;
    if (s == NULL)
        return PyErr_Occurred() ? -1 : 0;
    return rt_importer_data_dir_of(self, s, (size_t)n, dir);
}

/* Look up module `name` for a loader method: 1 with *e its entry; 0
 * when it is a data directory (rt_importer_data_dir), a namespace package
 * with no entry, whose directory goes to dir when dir is not NULL; -1 with
 * ImportError set when it is neither. */
int rt_importer_find(rt_importer *self, PyObject *name,
                            const bundle_entry **e, kl_buf *dir)
{
    kl_buf own = KL_BUF_INIT;
    int r;

    *e = rt_importer_lookup(self, name, 0);
    if (*e != NULL)
        return 1;
    if (PyErr_Occurred())
        return -1;
    r = rt_importer_data_dir(self, name, dir ? dir : &own);
    kl_buf_free(&own);
    if (r == 0)
        PyErr_Format(PyExc_ImportError, "%U is not in this program's bundle",
                     name);
    return r > 0 ? 0 : -1;
}

/* A new namespace-package spec for data directory dir of module name,
 * served by this importer. */
static PyObject *rt_importer_data_spec(rt_importer *self, PyObject *name,
                                       const char *dir)
{
    PyObject *spec, *loc, *list;

    loc = rt_importer_location(self, dir);
    list = loc ? PyList_New(1) : NULL;
    if (list == NULL) {
        Py_XDECREF(loc);
        return NULL;
    }
    PyList_SET_ITEM(list, 0, loc);
    spec = rt_importer_new_spec(self, name, Py_None, list, NULL);
    Py_DECREF(list);
    return spec;
}

PyObject *rt_importer_find_spec(PyObject *importer, PyObject *name)
{
    rt_importer *self = (rt_importer *)importer;
    const bundle_entry *e;
    PyObject *origin = NULL, *spec = NULL, *locations = NULL, *dir = NULL;
    PyObject *cached = NULL;

    e = rt_importer_lookup(self, name, 0);
    if (e == NULL && !PyErr_Occurred()) {
        kl_buf data = KL_BUF_INIT;
        int r = rt_importer_data_dir(self, name, &data);

        spec = r > 0 ? rt_importer_data_spec(self, name, data.s)
                     : r == 0 ? Py_NewRef(Py_None) : NULL;
        kl_buf_free(&data);
        return spec;
    }
    if (e == NULL)
        return NULL;
    origin = rt_importer_origin(self, e);
    if (origin == NULL)
        goto done;
    if (e->kind == BUNDLE_KIND_MODULE || e->kind == BUNDLE_KIND_PACKAGE) {
        cached = rt_importer_spec_cached(self, origin);
        if (cached == NULL)
            goto done;
    }
    if (e->kind == BUNDLE_KIND_PACKAGE || e->kind == BUNDLE_KIND_NAMESPACE) {
        dir = rt_importer_package_dir(self, e);
        locations = dir ? PyList_New(1) : NULL;
        if (locations == NULL)
            goto done;
        PyList_SET_ITEM(locations, 0, Py_NewRef(dir));
    }
    spec = rt_importer_new_spec(self, name, origin, locations,
                                cached != Py_None ? cached : NULL);
done:
    Py_XDECREF(origin);
    Py_XDECREF(cached);
    Py_XDECREF(locations);
    Py_XDECREF(dir);
    return spec;
}

/* New reference: the code object of entry e (module `name`), with its
 * co_filename set to its path inside the program; None for entries without
 * bytecode. Bytecode that cannot be read (damaged: its checksum, its
 * compression) ends the program as any damage to it does
 * (rt_program_damaged), never as an ImportError a program could catch
 * and go on without the module. NULL with an exception set on failure. */
static PyObject *rt_importer_entry_code(rt_importer *self,
                                        const bundle_entry *e, PyObject *name)
{
    const uint8_t *data;
    uint8_t *owned;
    size_t size;
    kl_err err;
    PyObject *code, *origin, *r;

    if (e->kind != BUNDLE_KIND_MODULE && e->kind != BUNDLE_KIND_PACKAGE)
        Py_RETURN_NONE;
    if (bundle_read(&self->prog->bundle, e, BUNDLE_PART_DATA, &data, &size,
                    &owned, &err) < 0)
        rt_program_damaged(self->prog, &err);
    code = rt_unmarshal_code(data, size);
    rt_program_release(self->prog, data, size);
    free(owned);
    if (code == NULL)
        return NULL;
    if (!PyCode_Check(code)) {
        Py_DECREF(code);
        PyErr_Format(PyExc_ImportError, "cannot load %U: bundled bytecode is "
                     "not a code object", name);
        return NULL;
    }
    origin = rt_importer_origin(self, e);
    if (origin == NULL) {
        Py_DECREF(code);
        return NULL;
    }
    r = PyObject_CallFunctionObjArgs(self->fix_filename, code, origin, NULL);
    Py_DECREF(origin);
    if (r == NULL) {
        Py_DECREF(code);
        return NULL;
    }
    Py_DECREF(r);
    return code;
}

PyObject *rt_importer_get_code(PyObject *importer, PyObject *name)
{
    rt_importer *self = (rt_importer *)importer;
    const bundle_entry *e = rt_importer_lookup(self, name, 1);

    return e ? rt_importer_entry_code(self, e, name) : NULL;
}

PyObject *rt_importer_find_spec_in(PyObject *self, PyObject *name,
                                   PyObject *path)
{
    PyObject *spec;

    if (rt_external_find_spec(name, ((rt_importer *)self)->spec_type,
                              &spec) != 0)
        return spec;
    if (rt_importer_no_zipimport &&
        PyUnicode_CompareWithASCIIString(name, "zipimport") == 0) {
        PyErr_SetString(PyExc_ImportError,
                        "zipimport is not installed while the program starts");
        return NULL;
    }
    if (((rt_importer *)self)->role != RT_ROLE_ALL) {
        /* An entry (1) or a data directory (0) of that name is held. */
        const bundle_entry *e;
        int held = rt_importer_find((rt_importer *)self, name, &e, NULL) >= 0;

        if (!held) {
            if (!PyErr_ExceptionMatches(PyExc_ImportError))
                return NULL;
            PyErr_Clear();
        }
        switch (rt_importer_serves((rt_importer *)self, name, path, held)) {
        case -1:
            return NULL;
        case 0:
            Py_RETURN_NONE;
        }
    }
    switch (path == Py_None ? RT_PATH_ITSELF
                            : rt_importer_follow_path((rt_importer *)self,
                                                      name, path)) {
    case -1:
        return NULL;
    case RT_PATH_NONE:
        Py_RETURN_NONE;
    default:
        return rt_importer_find_spec(self, name);
    }
}

/* find_spec(fullname, path=None, target=None) */
static PyObject *rt_importer_m_find_spec(PyObject *self, PyObject *args,
                                         PyObject *kwargs)
{
    static char *kwlist[] = {"fullname", "path", "target", NULL};
    PyObject *name, *path = Py_None, *target = Py_None;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OO:find_spec", kwlist,
                                     &name, &path, &target))
        return NULL;
    return rt_importer_find_spec_in(self, name, path);
}

/* The spec's name, as a new reference. */
static PyObject *rt_importer_spec_name(PyObject *spec)
{
    return PyObject_GetAttrString(spec, "name");
}

/* create_module(spec): a new extension module, or None to let importlib
 * create a plain module. */
static PyObject *rt_importer_m_create_module(PyObject *obj, PyObject *spec)
{
    rt_importer *self = (rt_importer *)obj;
    const bundle_entry *e;
    PyObject *name = rt_importer_spec_name(spec);
    PyObject *r;
    int found;

    if (name == NULL)
        return NULL;
    found = rt_importer_find(self, name, &e, NULL);
    if (found <= 0) {
        Py_DECREF(name);
        return found == 0 ? Py_NewRef(Py_None) : NULL;
    }
    Py_DECREF(name);
    if (e->kind == BUNDLE_KIND_MODULE || e->kind == BUNDLE_KIND_PACKAGE)
        return rt_importer_new_module(self, spec);
    if (e->kind != BUNDLE_KIND_EXTENSION)
        Py_RETURN_NONE;
    r = rt_extension_create(self->prog, self->imp, e, spec);
    return r;
}

/* Give package e of a one-file program, about to run as `module`, real
 * files (rt_route.c). */
static int rt_importer_route(rt_importer *self, const bundle_entry *e,
                             PyObject *module)
{
    kl_buf dir = KL_BUF_INIT;
    int r = rt_importer_entry_dir(&self->prog->bundle, e, &dir);

    if (r == 0)
        r = rt_route_package(self->prog, dir.s, module);
    kl_buf_free(&dir);
    return r;
}

PyObject *rt_importer_exec_module(PyObject *obj, PyObject *module)
{
    rt_importer *self = (rt_importer *)obj;
    const bundle_entry *e;
    PyObject *spec, *name, *code, *dict, *r;
    int found;

    spec = PyObject_GetAttrString(module, "__spec__");
    if (spec == NULL)
        return NULL;
    name = rt_importer_spec_name(spec);
    Py_DECREF(spec);
    if (name == NULL)
        return NULL;
    found = rt_importer_find(self, name, &e, NULL);
    if (found <= 0) {
        Py_DECREF(name);
        return found == 0 ? Py_NewRef(Py_None) : NULL;
    }
    rt_trace_note(e);
    if (e->kind == BUNDLE_KIND_EXTENSION) {
        Py_DECREF(name);
        if (rt_extension_exec(self->imp, module) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (e->kind == BUNDLE_KIND_NAMESPACE) {
        Py_DECREF(name);
        Py_RETURN_NONE;
    }
    if ((e->flags & BUNDLE_FLAG_FILES) &&
        bundle_folder(&self->prog->bundle)[0] == '\0' &&
        rt_importer_route(self, e, module) < 0) {
        Py_DECREF(name);
        return NULL;
    }
    code = rt_importer_entry_code(self, e, name);
    if (code == NULL || (e->aux_size > 0 &&
                         rt_linecache_note(obj, name, ((PyCodeObject *)code)
                                                          ->co_filename) < 0)) {
        Py_DECREF(name);
        Py_XDECREF(code);
        return NULL;
    }
    dict = PyModule_GetDict(module);
    if (dict == NULL) {
        Py_DECREF(name);
        Py_DECREF(code);
        return NULL;
    }
    /* As importlib's own loaders do, so that a traceback out of the module
     * body leaves importlib's frames out. exec() also provides
     * __builtins__. */
    r = PyObject_CallFunctionObjArgs(self->run_code, self->exec, code, dict,
                                     NULL);
    Py_DECREF(code);
    /* linecache has just been loaded: every module before it gets its
     * entry now, each later one as it is run (above). pkg_resources has
     * just built its working set, without the program's distributions;
     * ctypes.util's find_library knows nothing of carried libraries. */
    if (r != NULL && PyUnicode_CompareWithASCIIString(name, "linecache") == 0 &&
        rt_linecache_note_all(obj, rt_program_find(&self->prog->bundle,
                                                   BUNDLE_NS_MODULE,
                                                   "__main__", 8) != NULL) < 0)
        Py_CLEAR(r);
    if (r != NULL &&
        PyUnicode_CompareWithASCIIString(name, "pkg_resources") == 0 &&
        rt_glue_pkg_resources(self->prog, module, obj, self->prefix) < 0)
        Py_CLEAR(r);
    if (r != NULL &&
        PyUnicode_CompareWithASCIIString(name, "ctypes.util") == 0 &&
        rt_glue_ctypes_util(self->prog, module) < 0)
        Py_CLEAR(r);
    Py_DECREF(name);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

/* get_code(name): see rt_importer_get_code(). */
static PyObject *rt_importer_m_get_code(PyObject *self, PyObject *name)
{
    return rt_importer_get_code(self, name);
}

/* get_source(name): the bundled source as str, or None when the program
 * carries none. Damaged source ends the program (rt_program_damaged), as
 * any damage does. */
static PyObject *rt_importer_m_get_source(PyObject *obj, PyObject *name)
{
    rt_importer *self = (rt_importer *)obj;
    const bundle_entry *e = rt_importer_lookup(self, name, 1);
    const uint8_t *data;
    uint8_t *owned;
    size_t size;
    kl_err err;
    PyObject *src;

    if (e == NULL)
        return NULL;
    if (e->aux_raw_size == 0)
        Py_RETURN_NONE;
    if (bundle_read(&self->prog->bundle, e, BUNDLE_PART_AUX, &data, &size,
                    &owned, &err) < 0)
        rt_program_damaged(self->prog, &err);
    src = PyUnicode_DecodeUTF8((const char *)data, (Py_ssize_t)size, NULL);
    rt_program_release(self->prog, data, size);
    free(owned);
    return src;
}

/* is_package(name): True for packages and namespace packages. */
static PyObject *rt_importer_m_is_package(PyObject *obj, PyObject *name)
{
    const bundle_entry *e;
    int found = rt_importer_find((rt_importer *)obj, name, &e, NULL);

    if (found <= 0)
        return found == 0 ? Py_NewRef(Py_True) : NULL;
    return PyBool_FromLong(e->kind == BUNDLE_KIND_PACKAGE ||
                           e->kind == BUNDLE_KIND_NAMESPACE);
}

/* get_filename(name): the module's __file__ inside the program;
 * ImportError for a namespace package, which has none. */
static PyObject *rt_importer_m_get_filename(PyObject *obj, PyObject *name)
{
    rt_importer *self = (rt_importer *)obj;
    const bundle_entry *e = rt_importer_lookup(self, name, 1);

    if (e == NULL)
        return NULL;
    if (e->kind == BUNDLE_KIND_NAMESPACE) {
        PyErr_Format(PyExc_ImportError, "%U is a namespace package", name);
        return NULL;
    }
    return rt_importer_origin(self, e);
}

/* invalidate_caches(): the bundle never changes; nothing to do. */
static PyObject *rt_importer_m_invalidate_caches(PyObject *self,
                                                 PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

/* "<kiln.BundleImporter PROGRAM>" */
static PyObject *rt_importer_repr(PyObject *obj)
{
    rt_importer *self = (rt_importer *)obj;

    return PyUnicode_FromFormat("<kiln.BundleImporter %s>", self->prog->path);
}

static PyMethodDef rt_importer_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))rt_importer_m_find_spec,
     METH_VARARGS | METH_KEYWORDS, "Return a spec for a bundled module."},
    {"create_module", rt_importer_m_create_module, METH_O,
     "Create an extension module; None for other modules."},
    {"exec_module", rt_importer_exec_module, METH_O, "Run a module."},
    {"get_code", rt_importer_m_get_code, METH_O, "Code object of a module."},
    {"get_source", rt_importer_m_get_source, METH_O, "Source of a module."},
    {"is_package", rt_importer_m_is_package, METH_O, "Is it a package."},
    {"get_filename", rt_importer_m_get_filename, METH_O, "__file__ value."},
    {"get_data", rt_importer_m_get_data, METH_O, "Bytes of a bundled file."},
    {"get_resource_reader", rt_importer_m_get_resource_reader, METH_O,
     "A folder program's package data reader, or None."},
    {"find_distributions",
     (PyCFunction)(void (*)(void))rt_importer_m_find_distributions,
     METH_VARARGS | METH_KEYWORDS, "Distributions the program carries."},
    {"_kiln_path_hook", rt_importer_m_path_hook, METH_O,
     "Path entry finder for a directory inside the program."},
    {"_kiln_cache_file", rt_importer_m_kiln_cache_file, METH_VARARGS,
     "A real file in the per-user cache holding the bytes given."},
    {"_kiln_files", rt_importer_m_kiln_files, METH_NOARGS,
     "Every file the program carries: (path, kind, module or None)."},
    {"invalidate_caches", rt_importer_m_invalidate_caches, METH_NOARGS,
     "Nothing to invalidate."},
    {NULL, NULL, 0, NULL},
};

/* Set self->cache_tail from sys.implementation.cache_tag and
 * sys.flags.optimize as importlib's cache_from_source reads them; NULL
 * without a cache tag (importlib then computes nothing either). -1 with
 * an exception set. */
static int rt_importer_cache_tail(rt_importer *self)
{
    PyObject *impl = PySys_GetObject("implementation"); /* borrowed */
    PyObject *flags = PySys_GetObject("flags");         /* borrowed */
    PyObject *tag, *opt;
    long level;
    int is_str;

    if (impl == NULL || flags == NULL)
        return 0;
    tag = PyObject_GetAttrString(impl, "cache_tag");
    opt = tag ? PyObject_GetAttrString(flags, "optimize") : NULL;
    if (opt == NULL) {
        Py_XDECREF(tag);
        return -1;
    }
    level = PyLong_AsLong(opt);
    is_str = PyUnicode_Check(tag);
    if (is_str)
        self->cache_tail = level > 0
                               ? PyUnicode_FromFormat(".%U.opt-%ld.pyc", tag,
                                                      level)
                               : PyUnicode_FromFormat(".%U.pyc", tag);
    Py_DECREF(tag);
    Py_DECREF(opt);
    return is_str && self->cache_tail == NULL ? -1 : 0;
}

/* Release the importer's references. */
static void rt_importer_dealloc(PyObject *obj)
{
    rt_importer *self = (rt_importer *)obj;

    Py_XDECREF(self->prefix);
    Py_XDECREF(self->spec_type);
    Py_XDECREF(self->imp);
    Py_XDECREF(self->fix_filename);
    Py_XDECREF(self->run_code);
    Py_XDECREF(self->exec);
    Py_XDECREF(self->main_alias);
    Py_XDECREF(self->aliases);
    Py_XDECREF(self->cache_tail);
    Py_XDECREF(self->spec_keys);
    Py_XDECREF(self->own_name);
    PyObject_Free(self);
}

static PyTypeObject rt_importer_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kiln.BundleImporter",
    .tp_basicsize = sizeof(rt_importer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Finds and loads modules from the program's own bundle.",
    .tp_methods = rt_importer_methods,
    .tp_repr = rt_importer_repr,
    .tp_dealloc = rt_importer_dealloc,
};

rt_importer *rt_importer_new(rt_program *prog)
{
    rt_importer *self = NULL;
    PyObject *bootstrap = NULL;
    char *prefix = NULL;
    size_t n = strlen(prog->root);

    if (PyType_Ready(&rt_importer_type) < 0)
        return NULL;
    self = PyObject_New(rt_importer, &rt_importer_type);
    if (self == NULL)
        return NULL;
    self->prog = prog;
    self->prefix = NULL;
    self->spec_type = NULL;
    self->imp = NULL;
    self->fix_filename = NULL;
    self->run_code = NULL;
    self->exec = NULL;
    self->main_alias = NULL;
    self->aliases = NULL;
    self->cache_tail = NULL;
    self->spec_keys = NULL;
    self->own_name = NULL;
    self->role = RT_ROLE_ALL;
    if (rt_importer_cache_tail(self) < 0)
        goto fail;
    prefix = malloc(n + 2);
    if (prefix == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    memcpy(prefix, prog->root, n);
    prefix[n] = '/';
    prefix[n + 1] = '\0';
    self->prefix = PyUnicode_DecodeFSDefault(prefix);
    free(prefix);
    if (self->prefix == NULL)
        goto fail;
    bootstrap = PyImport_ImportModule("_frozen_importlib");
    if (bootstrap == NULL)
        goto fail;
    self->spec_type = PyObject_GetAttrString(bootstrap, "ModuleSpec");
    if (self->spec_type == NULL || !PyType_Check(self->spec_type) ||
        rt_importer_spec_init(self) < 0)
        goto fail;
    self->run_code = PyObject_GetAttrString(bootstrap,
                                            "_call_with_frames_removed");
    self->exec = PyDict_GetItemString(PyEval_GetBuiltins(), "exec");
    Py_XINCREF(self->exec);
    if (self->run_code == NULL || self->exec == NULL)
        goto fail;
    self->imp = PyImport_ImportModule("_imp");
    if (self->imp == NULL)
        goto fail;
    self->fix_filename = PyObject_GetAttrString(self->imp, "_fix_co_filename");
    if (self->fix_filename == NULL)
        goto fail;
    Py_DECREF(bootstrap);
    return self;

fail:
    Py_XDECREF(bootstrap);
    Py_DECREF(self);
    return NULL;
}

void rt_importer_hold_zipimport(int on)
{
    rt_importer_no_zipimport = on;
}
