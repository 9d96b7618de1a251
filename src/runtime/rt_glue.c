/*
 * rt_glue.c: importlib's Python-side APIs over the bundle: the
 * distributions a program carries for importlib.metadata (the importer's
 * find_distributions) and its packages' files for importlib.resources (the
 * importer's get_resource_reader in a one-file program); and
 * ctypes.util.find_library for the libraries it carries. The classes
 * importlib wants subclassed are a few lines of Python (rt_glue.py,
 * rt_glue_metadata.py), compiled when kiln is built and run the first
 * time a program asks for either; a program that never does pays nothing,
 * and one that reads resources does not import importlib.metadata.
 * The bundle is listed here, in C; files are read through the importer's
 * get_data and get_source. Also: the command lines the standard library
 * builds to run sys.executable again (multiprocessing's children), run by
 * rt_reexec.py in a namespace of its own.
 */
#include "rt.h"

#include <marshal.h>
#include <string.h>

/* rt_glue.py and rt_glue_metadata.py, compiled when kiln was built:
 * rt_glue_code and rt_glue_metadata_code (marshalled code objects). */
#include "rt_glue_code.h"

static PyObject *rt_glue_ns;   /* the glue's namespace, once compiled */
static int rt_glue_metadata_ran; /* rt_glue_metadata.py ran in it */

/* Run marshalled code data[0, size) in namespace ns. 0, or -1 with an
 * exception set. */
static int rt_glue_run(const unsigned char *data, size_t size, PyObject *ns)
{
    PyObject *code = PyMarshal_ReadObjectFromString((const char *)data,
                                                    (Py_ssize_t)size);
    PyObject *r = code ? PyEval_EvalCode(code, ns, ns) : NULL;

    Py_XDECREF(code);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* The glue's function `name` (borrowed), running rt_glue.py the first
 * time, and rt_glue_metadata.py too the first time `metadata` is true.
 * NULL with an exception set. */
static PyObject *rt_glue_function(const char *name, int metadata)
{
    PyObject *ns, *modname, *fn;
    int bad;

    if (rt_glue_ns == NULL) {
        ns = PyDict_New();
        modname = ns ? PyUnicode_FromString("_kiln_glue") : NULL;
        bad = modname == NULL ||
              PyDict_SetItemString(ns, "__builtins__",
                                   PyEval_GetBuiltins()) < 0 ||
              PyDict_SetItemString(ns, "__name__", modname) < 0 ||
              rt_glue_run(rt_glue_code, sizeof rt_glue_code, ns) < 0;
        Py_XDECREF(modname);
        if (bad) {
            Py_XDECREF(ns);
            return NULL;
        }
        rt_glue_ns = ns;
    }
    if (metadata && !rt_glue_metadata_ran) {
        if (rt_glue_run(rt_glue_metadata_code, sizeof rt_glue_metadata_code,
                        rt_glue_ns) < 0)
            return NULL;
        rt_glue_metadata_ran = 1;
    }
    fn = PyDict_GetItemString(rt_glue_ns, name);
    if (fn == NULL)
        PyErr_Format(PyExc_RuntimeError, "kiln's importlib glue has no %s",
                     name);
    return fn;
}

/* Whether argv (sys.argv) may be one of the standard library's command
 * lines for sys.executable: its first argument is --multiprocessing-fork,
 * or options (arguments starting with '-', -X taking the next) lead to -c.
 * The exact check is rt_reexec.py's. */
static int rt_glue_reexec_maybe(PyObject *argv)
{
    Py_ssize_t i, n = PyList_Check(argv) ? PyList_GET_SIZE(argv) : 0;

    if (n < 2)
        return 0;
    if (PyUnicode_Check(PyList_GET_ITEM(argv, 1)) &&
        PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(argv, 1),
                                         "--multiprocessing-fork") == 0)
        return 1;
    for (i = 1; i < n; i++) {
        PyObject *a = PyList_GET_ITEM(argv, i);

        if (!PyUnicode_Check(a) || PyUnicode_GET_LENGTH(a) < 2 ||
            PyUnicode_READ_CHAR(a, 0) != '-')
            return 0;
        if (PyUnicode_CompareWithASCIIString(a, "-c") == 0)
            return 1;
        if (PyUnicode_CompareWithASCIIString(a, "-X") == 0)
            i++;
    }
    return 0;
}

int rt_glue_reexec(PyObject *importer)
{
    PyObject *argv = PySys_GetObject("argv"); /* borrowed */
    PyObject *ns, *fn, *r;
    int bad, ran;

    if (argv == NULL || !rt_glue_reexec_maybe(argv))
        return 0;
    ns = PyDict_New();
    bad = ns == NULL ||
          PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0 ||
          rt_glue_run(rt_reexec_code, sizeof rt_reexec_code, ns) < 0;
    fn = bad ? NULL : PyDict_GetItemString(ns, "run");
    r = fn ? PyObject_CallOneArg(fn, importer) : NULL;
    ran = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    Py_XDECREF(ns);
    return ran;
}

/* A new list of the .dist-info directory names the bundle holds files of,
 * in bundle order, each once. */
static PyObject *rt_glue_dist_infos(const rt_program *prog)
{
    const bundle_view *v = &prog->bundle;
    PyObject *list = PyList_New(0);
    const char *last = NULL;
    size_t last_len = 0;
    uint32_t i;

    rt_program_check_index(v);
    for (i = 0; list != NULL && i < v->header->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];
        const char *path, *slash;
        PyObject *s;

        if (e->kind != BUNDLE_KIND_METADATA)
            continue;
        path = bundle_entry_name(v, e);
        slash = strchr(path, '/');
        if (slash == NULL)
            continue;
        if (last != NULL && (size_t)(slash - path) == last_len &&
            memcmp(path, last, last_len) == 0)
            continue;
        last = path;
        last_len = (size_t)(slash - path);
        s = PyUnicode_DecodeUTF8(path, (Py_ssize_t)last_len, "surrogateescape");
        if (s == NULL || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
    }
    return list;
}

PyObject *rt_glue_find_distributions(const rt_program *prog,
                                     PyObject *loader, PyObject *root,
                                     PyObject *context)
{
    PyObject *fn = rt_glue_function("find", 1), *infos, *r;

    if (fn == NULL || (infos = rt_glue_dist_infos(prog)) == NULL)
        return NULL;
    r = PyObject_CallFunctionObjArgs(fn, loader, root, infos, context, NULL);
    Py_DECREF(infos);
    return r;
}

PyObject *rt_glue_files(const rt_program *prog)
{
    const bundle_view *v = &prog->bundle;
    PyObject *list = PyList_New(0);
    uint32_t i;

    rt_program_check_index(v);
    for (i = 0; list != NULL && i < v->header->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];
        int module = bundle_kind_ns(e->kind) == BUNDLE_NS_MODULE;
        PyObject *t;

        if (e->kind == BUNDLE_KIND_SHLIB)
            continue;
        t = Py_BuildValue("(sss)", bundle_entry_path(v, e),
                          bundle_kind_name(e->kind),
                          module ? bundle_entry_name(v, e) : NULL);
        if (t == NULL || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

int rt_glue_pkg_resources(const rt_program *prog, PyObject *pr,
                          PyObject *loader, PyObject *root)
{
    PyObject *fn = rt_glue_function("pkg_resources", 0);
    PyObject *infos = fn ? rt_glue_dist_infos(prog) : NULL, *r;

    if (infos == NULL)
        return -1;
    r = PyObject_CallFunctionObjArgs(fn, pr, loader, root, infos, NULL);
    Py_DECREF(infos);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

PyObject *rt_glue_path_finder(PyObject *loader, PyObject *root,
                              PyObject *rel)
{
    PyObject *fn = rt_glue_function("path_finder", 0);

    if (fn == NULL)
        return NULL;
    return PyObject_CallFunctionObjArgs(fn, loader, root, rel, NULL);
}

PyObject *rt_glue_resource_reader(PyObject *loader, PyObject *root,
                                  const char *dir)
{
    PyObject *fn = rt_glue_function("resource_reader", 0);

    if (fn == NULL)
        return NULL;
    return PyObject_CallFunction(fn, "OOs", loader, root, dir);
}

int rt_glue_ctypes_util(const rt_program *prog, PyObject *cu)
{
    const bundle_view *v = &prog->bundle;
    PyObject *fn, *libs, *r = NULL;
    uint32_t i;

    if (rt_program_find_prefix(v, BUNDLE_NS_LIB, "", 0) == NULL)
        return 0;
    if ((fn = rt_glue_function("ctypes_util", 0)) == NULL ||
        (libs = PyList_New(0)) == NULL)
        return -1;
    rt_program_check_index(v);
    for (i = 0; i < v->header->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];
        PyObject *name;

        if (e->kind != BUNDLE_KIND_SHLIB)
            continue;
        name = PyUnicode_DecodeFSDefault(bundle_entry_name(v, e));
        if (name == NULL || PyList_Append(libs, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(libs);
            return -1;
        }
        Py_DECREF(name);
    }
    if (PyList_Sort(libs) == 0)
        r = PyObject_CallFunctionObjArgs(fn, cu, libs, NULL);
    Py_DECREF(libs);
    Py_XDECREF(r);
    return r ? 0 : -1;
}
