/*
 * rt_importer_sys.c: the bundle importer's place among sys's import
 * hooks: a program's first on sys.meta_path, an extension module's two
 * where their roles say; its path hook first on sys.path_hooks, the
 * --runtime-path directories on sys.path.
 */
#include "rt_importer.h"
#include "../elf/elf_reader.h"

#include <string.h>

static PyObject *rt_the_importer; /* the installed instance, owned */

PyObject *rt_importer_get(void)
{
    return rt_the_importer;
}

/* Put self at index `at` of sys.meta_path (-1: last) and make it the
 * installed importer, which keeps the reference. -1 with an exception
 * set (self is then released). */
static int rt_importer_place(rt_importer *self, Py_ssize_t at)
{
    PyObject *meta_path = PySys_GetObject("meta_path"); /* borrowed */

    if (meta_path == NULL || !PyList_Check(meta_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.meta_path is not a list");
        Py_DECREF(self);
        return -1;
    }
    if ((at < 0 ? PyList_Append(meta_path, (PyObject *)self)
                : PyList_Insert(meta_path, at, (PyObject *)self)) < 0) {
        Py_DECREF(self);
        return -1;
    }
    rt_the_importer = (PyObject *)self;
    return 0;
}

int rt_importer_install(rt_program *prog, const char *main_alias)
{
    rt_importer *self = rt_importer_new(prog);

    if (self == NULL)
        return -1;
    if (main_alias != NULL &&
        (self->main_alias = PyUnicode_FromString(main_alias)) == NULL) {
        Py_DECREF(self);
        return -1;
    }
    return rt_importer_place(self, 0);
}

/* A new importer of extension module `name` (prog's) in `role`, `name`
 * standing for the bundle's run target. NULL with an exception set. */
static rt_importer *rt_importer_new_extension(rt_program *prog,
                                              PyObject *name, int role)
{
    rt_importer *self = rt_importer_new(prog);
    PyObject *target;

    if (self == NULL)
        return NULL;
    self->role = role;
    Py_INCREF(name);
    self->own_name = name;
    target = PyUnicode_FromString(bundle_run_target(&prog->bundle));
    self->aliases = target ? PyDict_New() : NULL;
    if (self->aliases == NULL ||
        (PyUnicode_Compare(name, target) != 0 &&
         PyDict_SetItem(self->aliases, name, target) < 0)) {
        Py_XDECREF(target);
        Py_DECREF(self);
        return NULL;
    }
    Py_DECREF(target);
    return self;
}

/* Where on sys.meta_path (a list) an importer of an extension module
 * goes when before_path: right before PathFinder (last without one); else
 * last. */
static Py_ssize_t rt_importer_slot(PyObject *meta_path, int before_path)
{
    Py_ssize_t i, n = PyList_GET_SIZE(meta_path);

    for (i = 0; before_path && i < n; i++) {
        PyObject *f = PyList_GET_ITEM(meta_path, i);

        if (PyType_Check(f) &&
            strcmp(((PyTypeObject *)f)->tp_name, "PathFinder") == 0)
            return i;
    }
    return n;
}

/* Put importer self (a new reference, given away) at index `at` of list
 * meta_path. -1 with an exception set. */
static int rt_importer_put(PyObject *meta_path, Py_ssize_t at,
                           rt_importer *self)
{
    int r = PyList_Insert(meta_path, at, (PyObject *)self);

    Py_DECREF(self);
    return r;
}

int rt_importer_install_extension(rt_program *prog, PyObject *name,
                                  int in_program)
{
    PyObject *meta_path = PySys_GetObject("meta_path"); /* borrowed */
    int host = prog->options.deps_host;
    rt_importer *first, *second;

    if (meta_path == NULL || !PyList_Check(meta_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.meta_path is not a list");
        return -1;
    }
    /* The standard library's modules it carries go before PathFinder in a
     * program kiln built: PathFinder there only looks in the directories
     * the program was told to (its standard library is all in its
     * bundle), and the path entry finders it makes need the standard
     * library. The submodules of its packages go before PathFinder
     * always: they lie where its packages' __path__ says, inside it. */
    first = rt_importer_new_extension(prog, name,
                                      host ? RT_ROLE_INSIDE : RT_ROLE_OWN);
    second = first ? rt_importer_new_extension(prog, name,
                                               host ? RT_ROLE_ALL
                                                    : RT_ROLE_FALLBACK)
                   : NULL;
    if (second == NULL) {
        Py_XDECREF(first);
        return -1;
    }
    if (rt_importer_put(meta_path,
                        rt_importer_slot(meta_path, !host && in_program),
                        second) < 0) {
        Py_DECREF(first);
        return -1;
    }
    return rt_importer_place(first, host ? rt_importer_slot(meta_path, 1)
                                         : 0);
}

int rt_importer_add_path_hook(void)
{
    PyObject *hooks = PySys_GetObject("path_hooks"), *hook;
    int r;

    if (rt_importer_get() == NULL || hooks == NULL || !PyList_Check(hooks))
        return 0;
    hook = PyObject_GetAttrString(rt_importer_get(), "_kiln_path_hook");
    if (hook == NULL)
        return -1;
    r = PyList_Insert(hooks, 0, hook);
    Py_DECREF(hook);
    return r;
}

int rt_importer_add_runtime_path(const rt_program *prog)
{
    const char *p = bundle_runtime_path(&prog->bundle);
    const char *slash = strrchr(prog->path, '/');
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    int origin_len = slash ? (int)(slash - prog->path) : 0;
    kl_buf dir = KL_BUF_INIT;
    int r = 0;

    if (path == NULL || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    while (r == 0 && *p != '\0') {
        size_t n = strcspn(p, ":"), k = elf_origin_len(p, n);
        PyObject *s;

        r = kl_buf_setf(&dir, "%.*s%.*s", k ? origin_len : 0, prog->path,
                        (int)(n - k), p + k);
        if (r < 0) {
            PyErr_NoMemory();
            break;
        }
        s = PyUnicode_DecodeFSDefault(dir.s);
        r = s == NULL || PyList_Append(path, s) < 0 ? -1 : 0;
        Py_XDECREF(s);
        p += n + (p[n] == ':');
    }
    kl_buf_free(&dir);
    return r;
}
