/*
 * rt_importer_data.c: what the bundle importer offers besides finding and
 * loading modules: get_data (files by path, from the bundle or a folder
 * program's folder), and the hooks importlib.resources
 * (get_resource_reader), importlib.metadata (find_distributions) and
 * pkgutil (a path hook) ask a finder for, answered with rt_glue.c.
 */
#include "rt_importer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* New reference: the bytes of external entry e (a file of a folder
 * program), checked against the bundle; ends the process when the file
 * is missing or damaged (rt_program_damaged). */
static PyObject *rt_importer_external_bytes(rt_importer *self,
                                            const bundle_entry *e)
{
    kl_map m;
    kl_err err;
    PyObject *bytes;

    if (rt_program_map_external(self->prog, e, &m, &err) < 0)
        rt_program_damaged(self->prog, &err);
    bytes = PyBytes_FromStringAndSize((const char *)m.data,
                                      (Py_ssize_t)m.size);
    kl_unmap(&m);
    return bytes;
}

/* New reference: the bytes of the file at path, read as python's own
 * file loaders read: for a path a folder program's bundle does not index
 * (a real file that is not kiln's to check). */
static PyObject *rt_importer_disk_bytes(PyObject *path)
{
    PyObject *f = PyFile_OpenCodeObject(path), *bytes, *r;

    if (f == NULL)
        return NULL;
    bytes = PyObject_CallMethod(f, "read", NULL);
    r = PyObject_CallMethod(f, "close", NULL);
    Py_DECREF(f);
    if (r == NULL)
        Py_CLEAR(bytes);
    Py_XDECREF(r);
    return bytes;
}

/* get_data(path): the bytes of a bundled file, given its path inside the
 * program (as built from __file__). A folder program serves the files of
 * its folder, and reads any other path from disk, as python's loaders
 * do. A file smaller than a page keeps its page: the page holds its
 * neighbours, which a resources reader reads next, and releasing it costs
 * a system call and a page fault per file. Damaged bytes end the program
 * (rt_program_damaged), as any damage does. */
PyObject *rt_importer_m_get_data(PyObject *obj, PyObject *path)
{
    rt_importer *self = (rt_importer *)obj;
    Py_ssize_t plen = PyUnicode_GET_LENGTH(self->prefix);
    const bundle_entry *e = NULL;
    const uint8_t *data;
    uint8_t *owned;
    size_t size;
    kl_err err;
    PyObject *rel, *bytes;

    if (!PyUnicode_Check(path)) {
        PyErr_SetString(PyExc_TypeError, "get_data() expects a str path");
        return NULL;
    }
    if (PyUnicode_Tailmatch(path, self->prefix, 0, plen, -1) == 1) {
        const char *s;
        Py_ssize_t n;

        rel = PyUnicode_Substring(path, plen, PyUnicode_GET_LENGTH(path));
        if (rel == NULL)
            return NULL;
        s = PyUnicode_AsUTF8AndSize(rel, &n);
        if (s != NULL)
            e = rt_program_find(&self->prog->bundle, BUNDLE_NS_FILE, s,
                                (size_t)n);
        Py_DECREF(rel);
        if (s == NULL)
            return NULL;
    }
    if (e == NULL && bundle_folder(&self->prog->bundle)[0] != '\0')
        return rt_importer_disk_bytes(path);
    if (e == NULL) {
        errno = ENOENT;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        return NULL;
    }
    if (e->flags & BUNDLE_FLAG_EXTERNAL)
        return rt_importer_external_bytes(self, e);
    if (bundle_read(&self->prog->bundle, e, BUNDLE_PART_DATA, &data, &size,
                    &owned, &err) < 0)
        rt_program_damaged(self->prog, &err);
    bytes = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)size);
    if (size >= (size_t)sysconf(_SC_PAGESIZE))
        rt_program_release(self->prog, data, size);
    free(owned);
    return bytes;
}

/* importlib's FileReader over the real directory that folder-program
 * package e lies in (new reference); None when importlib lacks it. */
static PyObject *rt_importer_file_reader(rt_importer *self,
                                         const bundle_entry *e)
{
    PyObject *readers, *types, *origin, *holder = NULL, *reader = NULL;

    origin = rt_importer_origin(self, e);
    readers = PyImport_ImportModule("importlib.resources.readers");
    types = PyImport_ImportModule("types");
    /* FileReader wants a loader with .path: the package's __init__.py */
    if (origin != NULL && types != NULL)
        holder = PyObject_CallMethod(types, "SimpleNamespace", NULL);
    if (holder != NULL && readers != NULL &&
        PyObject_SetAttrString(holder, "path", origin) == 0)
        reader = PyObject_CallMethod(readers, "FileReader", "O", holder);
    Py_XDECREF(origin);
    Py_XDECREF(readers);
    Py_XDECREF(types);
    Py_XDECREF(holder);
    if (reader == NULL) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return reader;
}

/* _kiln_cache_file(name, data): the path of a real file called name (a
 * file name) holding data (bytes), for as_file(): written once to the
 * per-user cache of real files as <cache>/<digest>/<name>, compared with
 * data before each use (rt_cachedir_object); OSError naming the cache
 * when it cannot be used, or naming what could not be written. */
PyObject *rt_importer_m_kiln_cache_file(PyObject *obj, PyObject *args)
{
    kl_buf base = KL_BUF_INIT, path = KL_BUF_INIT;
    PyObject *name, *r = NULL;
    Py_buffer data;
    kl_err err;
    int no_base;

    (void)obj;
    if (!PyArg_ParseTuple(args, "O&y*:_kiln_cache_file", PyUnicode_FSConverter,
                          &name, &data))
        return NULL;
    no_base = rt_cachedir_base("files", &base, &err) < 0;
    if (!no_base &&
        rt_cachedir_object("files", PyBytes_AS_STRING(name), data.buf,
                           (size_t)data.len, 0600, &path, &err) == 0) {
        r = PyUnicode_DecodeFSDefault(path.s);
    } else {
        int code = errno;
        PyObject *e;

        e = no_base && code == EACCES && base.s != NULL
                ? PyObject_CallFunction(PyExc_OSError, "iss", code,
                                        "kiln file cache is not private to "
                                        "this user (chmod 700 it)", base.s)
                : PyObject_CallFunction(PyExc_OSError, "is", code, err.msg);
        if (e != NULL) {
            PyErr_SetObject(PyExc_OSError, e);
            Py_DECREF(e);
        }
    }
    PyBuffer_Release(&data);
    Py_DECREF(name);
    kl_buf_free(&base);
    kl_buf_free(&path);
    return r;
}

/* _kiln_files(): every file the bundle holds, for rt_glue.c's listing. */
PyObject *rt_importer_m_kiln_files(PyObject *obj, PyObject *unused)
{
    (void)unused;
    return rt_glue_files(((rt_importer *)obj)->prog);
}


/* get_resource_reader(name): for a package of a folder program, a reader
 * of the real directory <folder>/pkg that its data files lie in
 * (importlib's FileReader), so that importlib.resources serves them from
 * disk; for a package of a one-file program, a reader of the files the
 * bundle holds under the package's directory (rt_glue.c). None for a
 * module that is not a package; a data directory (a namespace package
 * with no entry) gets a reader of its files too. */
PyObject *rt_importer_m_get_resource_reader(PyObject *obj,
                                                   PyObject *name)
{
    rt_importer *self = (rt_importer *)obj;
    const bundle_view *v = &self->prog->bundle;
    const bundle_entry *e;
    PyObject *reader = NULL;
    kl_buf dir = KL_BUF_INIT;
    int found = rt_importer_find(self, name, &e, &dir);

    if (found < 0)
        return NULL;
    if (found > 0 && e->kind != BUNDLE_KIND_PACKAGE &&
        e->kind != BUNDLE_KIND_NAMESPACE)
        Py_RETURN_NONE;
    if (found > 0 && e->kind == BUNDLE_KIND_PACKAGE &&
        (bundle_folder(v)[0] != '\0' || (e->flags & BUNDLE_FLAG_FILES)))
        return rt_importer_file_reader(self, e);
    if (found == 0 || rt_importer_entry_dir(v, e, &dir) == 0)
        reader = rt_glue_resource_reader(obj, self->prefix, dir.s);
    kl_buf_free(&dir);
    return reader;
}

/* find_distributions(context=None): importlib.metadata's hook for meta
 * path finders; the distributions the bundle carries (rt_glue.c). */
PyObject *rt_importer_m_find_distributions(PyObject *obj,
                                                  PyObject *args,
                                                  PyObject *kwargs)
{
    static char *kwlist[] = {"context", NULL};
    rt_importer *self = (rt_importer *)obj;
    PyObject *context = Py_None;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:find_distributions",
                                     kwlist, &context))
        return NULL;
    switch (self->role == RT_ROLE_FALLBACK || self->role == RT_ROLE_INSIDE
                ? 0
                : rt_importer_serves_caller(self)) {
    case -1:
        return NULL;
    case 0: {
        PyObject *none = PyTuple_New(0), *it;

        it = none ? PyObject_GetIter(none) : NULL;
        Py_XDECREF(none);
        return it;
    }
    }
    return rt_glue_find_distributions(self->prog, obj, self->prefix, context);
}

/* Set while _kiln_path_hook makes a finder: the glue it runs the first
 * time imports modules, and a program with --runtime-path lets PathFinder
 * look for those through the same entries. */
static int rt_importer_hook_busy;

/* _kiln_path_hook(path): the importer's entry on sys.path_hooks: a path
 * entry finder for a directory inside the program (rt_glue.c);
 * ImportError for any other path, so that the next hook is asked, and
 * for a path asked for while a finder is being made (that lookup then
 * finds nothing there; the finder being made replaces PathFinder's
 * cached None when it is done). */
PyObject *rt_importer_m_path_hook(PyObject *obj, PyObject *path)
{
    rt_importer *self = (rt_importer *)obj;
    Py_ssize_t plen = PyUnicode_GET_LENGTH(self->prefix);
    PyObject *rel, *finder;

    if (rt_importer_hook_busy) {
        PyErr_SetString(PyExc_ImportError, "a path entry finder is being "
                                           "made");
        return NULL;
    }
    if (!PyUnicode_Check(path)) {
        PyErr_SetString(PyExc_ImportError, "not a path inside the program");
        return NULL;
    }
    if (PyUnicode_GET_LENGTH(path) == plen - 1 &&
        PyUnicode_Tailmatch(self->prefix, path, 0, plen - 1, -1) == 1)
        rel = PyUnicode_FromString("");
    else if (PyUnicode_Tailmatch(path, self->prefix, 0, plen, -1) == 1)
        rel = PyUnicode_Substring(path, plen, PyUnicode_GET_LENGTH(path));
    else {
        PyErr_SetString(PyExc_ImportError, "not a path inside the program");
        return NULL;
    }
    if (rel == NULL)
        return NULL;
    rt_importer_hook_busy = 1;
    finder = rt_glue_path_finder(obj, self->prefix, rel);
    rt_importer_hook_busy = 0;
    Py_DECREF(rel);
    return finder;
}
