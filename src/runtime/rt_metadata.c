/*
 * rt_metadata.c: importlib.metadata over the distributions a program
 * carries: the importer's find_distributions() lists the bundle's
 * .dist-info directories (metadata entries) and yields one
 * importlib.metadata.Distribution for each, whose files are read through
 * the importer's get_data. The Distribution subclass is a few lines of
 * Python, compiled the first time a program asks for metadata; a program
 * that never does pays nothing.
 */
#include "rt.h"

#include <string.h>

/* The Distribution subclass and the finder function; run in a namespace
 * of their own. */
static const char rt_metadata_glue[] =
    "import pathlib as _pathlib\n"
    "import re as _re\n"
    "from importlib.metadata import Distribution as _Distribution\n"
    "\n"
    "def _normalize(name):\n"
    "    return _re.sub(r'[-_.]+', '-', name).lower()\n"
    "\n"
    "class BundledDistribution(_Distribution):\n"
    "    \"\"\"A distribution whose .dist-info lies in the program.\"\"\"\n"
    "\n"
    "    def __init__(self, loader, root, info):\n"
    "        self._loader = loader\n"
    "        self._root = root\n"
    "        self._info = info\n"
    "\n"
    "    def read_text(self, filename):\n"
    "        try:\n"
    "            data = self._loader.get_data(\n"
    "                self._root + self._info + '/' + filename)\n"
    "        except OSError:\n"
    "            return None\n"
    "        return data.decode('utf-8')\n"
    "\n"
    "    def locate_file(self, path):\n"
    "        return _pathlib.Path(self._root, path)\n"
    "\n"
    "    @property\n"
    "    def _normalized_name(self):\n"
    "        return _normalize(self._info.rsplit('-', 1)[0]).replace('-', '_')\n"
    "\n"
    "    def __repr__(self):\n"
    "        return '<BundledDistribution %s>' % self._info\n"
    "\n"
    "def find(loader, root, infos, context):\n"
    "    name = getattr(context, 'name', None)\n"
    "    want = None if name is None else _normalize(name)\n"
    "    for info in infos:\n"
    "        stem = info[:-len('.dist-info')]\n"
    "        if want is None or _normalize(stem.rsplit('-', 1)[0]) == want:\n"
    "            yield BundledDistribution(loader, root, info)\n";

static PyObject *rt_metadata_find_fn; /* glue's find(), once compiled */

/* Compile the glue and keep its find(). -1 with an exception set. */
static int rt_metadata_load(void)
{
    PyObject *code, *ns, *name, *r;
    int bad;

    if (rt_metadata_find_fn != NULL)
        return 0;
    code = Py_CompileString(rt_metadata_glue, "<kiln metadata>",
                            Py_file_input);
    ns = code ? PyDict_New() : NULL;
    name = ns ? PyUnicode_FromString("_kiln_metadata") : NULL;
    bad = name == NULL ||
          PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0 ||
          PyDict_SetItemString(ns, "__name__", name) < 0;
    Py_XDECREF(name);
    if (bad) {
        Py_XDECREF(code);
        Py_XDECREF(ns);
        return -1;
    }
    r = PyEval_EvalCode(code, ns, ns);
    Py_DECREF(code);
    if (r != NULL) {
        rt_metadata_find_fn = PyDict_GetItemString(ns, "find");
        Py_XINCREF(rt_metadata_find_fn);
        Py_DECREF(r);
    }
    Py_DECREF(ns);
    if (r == NULL)
        return -1;
    if (rt_metadata_find_fn == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "kiln metadata glue has no find");
        return -1;
    }
    return 0;
}

/* A new list of the .dist-info directory names the bundle holds files of,
 * in bundle order, each once. */
static PyObject *rt_metadata_infos(const rt_program *prog)
{
    const bundle_view *v = &prog->bundle;
    PyObject *list = PyList_New(0);
    const char *last = NULL;
    size_t last_len = 0;
    uint32_t i;

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

PyObject *rt_metadata_find(const rt_program *prog, PyObject *loader,
                           PyObject *root, PyObject *context)
{
    PyObject *infos, *r;

    if (rt_metadata_load() < 0 || (infos = rt_metadata_infos(prog)) == NULL)
        return NULL;
    r = PyObject_CallFunctionObjArgs(rt_metadata_find_fn, loader, root, infos,
                                     context, NULL);
    Py_DECREF(infos);
    return r;
}
