/*
 * rt_glue.c: importlib's Python-side APIs over the bundle: the
 * distributions a program carries for importlib.metadata (the importer's
 * find_distributions) and its packages' files for importlib.resources (the
 * importer's get_resource_reader in a one-file program). The classes
 * importlib wants subclassed are a few lines of Python, compiled the first
 * time a program asks for either; a program that never does pays nothing,
 * and one that reads resources does not import importlib.metadata.
 * The bundle is listed here, in C; files are read through the importer's
 * get_data and get_source.
 */
#include "rt.h"

#include <string.h>

/* The Distribution subclass and the entry point find(); run after
 * rt_glue_source, in the same namespace. */
static const char rt_glue_metadata_source[] =
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
    "        tree = _tree(self._loader, self._root)\n"
    "        return BundledPath(tree, '').joinpath(str(path))\n"
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

/* The Traversable subclasses and the entry points resource_reader() and
 * path_finder(); run in a namespace of their own. */
static const char rt_glue_source[] =
    "import contextlib as _contextlib\n"
    "import errno as _errno\n"
    "import importlib.resources._common as _common\n"
    "import io as _io\n"
    "import os as _os\n"
    "import pathlib as _pathlib\n"
    "import posixpath as _pp\n"
    "import tempfile as _tempfile\n"
    "from importlib.resources.abc import Traversable as _Traversable\n"
    "from importlib.resources.abc import TraversableResources as _Resources\n"
    "\n"
    "class _Tree:\n"
    "    \"\"\"Every file and directory the program carries, by path.\"\"\"\n"
    "\n"
    "    def __init__(self, loader, root):\n"
    "        self.loader = loader\n"
    "        self.root = root\n"
    "        self.files = files = {}\n"
    "        self.dirs = dirs = {''}\n"
    "        self.children = children = {}\n"
    "        for path, kind, module in loader._kiln_files():\n"
    "            if kind != 'namespace':\n"
    "                files[path] = (kind, module)\n"
    "            elif path in dirs:\n"
    "                continue\n"
    "            else:\n"
    "                dirs.add(path)\n"
    "            while True:\n"
    "                head, _, name = path.rpartition('/')\n"
    "                names = children.get(head)\n"
    "                if names is None:\n"
    "                    names = children[head] = set()\n"
    "                names.add(name)\n"
    "                if head in dirs:\n"
    "                    break\n"
    "                dirs.add(head)\n"
    "                path = head\n"
    "\n"
    "    def error(self, code, rel):\n"
    "        return OSError(code, _os.strerror(code), self.root + rel)\n"
    "\n"
    "    def read(self, rel):\n"
    "        if rel in self.dirs:\n"
    "            raise self.error(_errno.EISDIR, rel)\n"
    "        if rel not in self.files:\n"
    "            raise self.error(_errno.ENOENT, rel)\n"
    "        kind, module = self.files[rel]\n"
    "        if kind in ('module', 'package'):\n"
    "            source = self.loader.get_source(module)\n"
    "            if source is None:\n"
    "                raise self.error(_errno.ENOENT, rel)\n"
    "            return source.encode('utf-8')\n"
    "        return self.loader.get_data(self.root + rel)\n"
    "\n"
    "_trees = {}\n"
    "\n"
    "class BundledPath(_Traversable):\n"
    "    \"\"\"A file or directory inside the program, read-only.\"\"\"\n"
    "\n"
    "    def __init__(self, tree, rel):\n"
    "        self._tree = tree\n"
    "        self._rel = rel\n"
    "\n"
    "    @property\n"
    "    def name(self):\n"
    "        return self._rel.rpartition('/')[2]\n"
    "\n"
    "    def is_dir(self):\n"
    "        return self._rel in self._tree.dirs\n"
    "\n"
    "    def is_file(self):\n"
    "        return self._rel in self._tree.files\n"
    "\n"
    "    def iterdir(self):\n"
    "        if not self.is_dir():\n"
    "            raise self._tree.error(_errno.ENOTDIR if self.is_file()\n"
    "                                   else _errno.ENOENT, self._rel)\n"
    "        names = sorted(self._tree.children.get(self._rel, ()))\n"
    "        prefix = self._rel + '/' if self._rel else ''\n"
    "        return iter([BundledPath(self._tree, prefix + n) for n in names])\n"
    "\n"
    "    def joinpath(self, *descendants):\n"
    "        rel = _pp.normpath(_pp.join(self._rel, *map(str, descendants)))\n"
    "        return BundledPath(self._tree, '' if rel == '.' else rel)\n"
    "\n"
    "    def __truediv__(self, child):\n"
    "        return self.joinpath(child)\n"
    "\n"
    "    def read_bytes(self):\n"
    "        return self._tree.read(self._rel)\n"
    "\n"
    "    def read_text(self, encoding=None, errors=None):\n"
    "        # What open()'s TextIOWrapper reads, without making one: the\n"
    "        # text decoded whole, universal newlines translated. It words a\n"
    "        # LookupError its own way, and picks the default encoding.\n"
    "        if type(encoding) is str and type(errors) in (str, type(None)):\n"
    "            data = self._tree.read(self._rel)\n"
    "            try:\n"
    "                text = data.decode(encoding,\n"
    "                                   'strict' if errors is None else errors)\n"
    "            except LookupError:\n"
    "                pass\n"
    "            else:\n"
    "                if '\\r' in text:\n"
    "                    text = text.replace('\\r\\n', '\\n').replace('\\r', '\\n')\n"
    "                return text\n"
    "        with self.open(encoding=encoding, errors=errors) as f:\n"
    "            return f.read()\n"
    "\n"
    "    def open(self, mode='r', *args, **kwargs):\n"
    "        if set(mode) - set('rbt'):\n"
    "            raise self._tree.error(_errno.EROFS, self._rel)\n"
    "        data = _io.BytesIO(self._tree.read(self._rel))\n"
    "        if 'b' in mode:\n"
    "            return data\n"
    "        return _io.TextIOWrapper(data, *args, **kwargs)\n"
    "\n"
    "    def exists(self):\n"
    "        return self.is_file() or self.is_dir()\n"
    "\n"
    "    def __str__(self):\n"
    "        return self._tree.root + self._rel\n"
    "\n"
    "    def __fspath__(self):\n"
    "        return str(self)\n"
    "\n"
    "    def __repr__(self):\n"
    "        return 'BundledPath(%r)' % str(self)\n"
    "\n"
    "    def __eq__(self, other):\n"
    "        return (isinstance(other, BundledPath) and\n"
    "                (self._tree, self._rel) == (other._tree, other._rel))\n"
    "\n"
    "    def __hash__(self):\n"
    "        return hash(self._rel)\n"
    "\n"
    "class BundledReader(_Resources):\n"
    "    def __init__(self, tree, rel):\n"
    "        self._tree = tree\n"
    "        self._rel = rel\n"
    "\n"
    "    def files(self):\n"
    "        return BundledPath(self._tree, self._rel)\n"
    "\n"
    "def _cache_dir():\n"
    "    base = _os.environ.get('XDG_CACHE_HOME') or _os.path.join(\n"
    "        _os.path.expanduser('~'), '.cache')\n"
    "    d = _os.path.join(base, 'kiln', 'files')\n"
    "    _os.makedirs(d, mode=0o700, exist_ok=True)\n"
    "    st = _os.stat(d)\n"
    "    if st.st_uid != _os.getuid() or st.st_mode & 0o077:\n"
    "        raise OSError(_errno.EACCES, 'kiln file cache is not private '\n"
    "                      'to this user (chmod 700 it)', d)\n"
    "    return d\n"
    "\n"
    "def _cached_file(name, data):\n"
    "    import hashlib as _hashlib\n"
    "    digest = _hashlib.sha256(data).hexdigest()\n"
    "    d = _os.path.join(_cache_dir(), digest)\n"
    "    target = _os.path.join(d, name)\n"
    "    try:\n"
    "        with open(target, 'rb') as f:\n"
    "            if _hashlib.sha256(f.read()).hexdigest() == digest:\n"
    "                return target\n"
    "    except OSError:\n"
    "        pass\n"
    "    _os.makedirs(d, mode=0o700, exist_ok=True)\n"
    "    fd, tmp = _tempfile.mkstemp(dir=d, prefix='.' + name + '.')\n"
    "    try:\n"
    "        with _os.fdopen(fd, 'wb') as f:\n"
    "            f.write(data)\n"
    "        _os.replace(tmp, target)\n"
    "    except BaseException:\n"
    "        _os.unlink(tmp)\n"
    "        raise\n"
    "    return target\n"
    "\n"
    "@_contextlib.contextmanager\n"
    "def _as_file(path):\n"
    "    if not path.is_file():\n"
    "        with _as_file_default(path) as p:\n"
    "            yield p\n"
    "        return\n"
    "    yield _pathlib.Path(_cached_file(path.name, path.read_bytes()))\n"
    "\n"
    "_as_file_default = _common.as_file.dispatch(object)\n"
    "_common.as_file.register(BundledPath)(_as_file)\n"
    "\n"
    "def _tree(loader, root):\n"
    "    tree = _trees.get(root)\n"
    "    if tree is None:\n"
    "        tree = _trees[root] = _Tree(loader, root)\n"
    "    return tree\n"
    "\n"
    "def resource_reader(loader, root, rel):\n"
    "    return BundledReader(_tree(loader, root), rel)\n"
    "\n"
    "class BundledPathFinder:\n"
    "    \"\"\"A path entry finder for a directory inside the program.\"\"\"\n"
    "\n"
    "    def __init__(self, loader, tree, rel):\n"
    "        self._loader = loader\n"
    "        self._tree = tree\n"
    "        self._rel = rel\n"
    "\n"
    "    def find_spec(self, fullname, target=None):\n"
    "        return self._loader.find_spec(fullname)\n"
    "\n"
    "    def invalidate_caches(self):\n"
    "        pass\n"
    "\n"
    "    def iter_modules(self, prefix=''):\n"
    "        found = {}\n"
    "        for path, (kind, module) in self._tree.files.items():\n"
    "            d = _pp.dirname(path)\n"
    "            if kind == 'module' and d == self._rel:\n"
    "                found[_pp.basename(path)[:-3]] = False\n"
    "            elif kind == 'extension' and d == self._rel:\n"
    "                found[module.rpartition('.')[2]] = False\n"
    "            elif kind == 'package' and _pp.dirname(d) == self._rel:\n"
    "                found[_pp.basename(d)] = True\n"
    "        for name in sorted(found):\n"
    "            if name.isidentifier():\n"
    "                yield prefix + name, found[name]\n"
    "\n"
    "def path_finder(loader, root, rel):\n"
    "    tree = _tree(loader, root)\n"
    "    if rel not in tree.dirs:\n"
    "        raise ImportError('no directory %s in the program' % (root + rel))\n"
    "    return BundledPathFinder(loader, tree, rel)\n"
    "\n"
    "def pkg_resources(pr, loader, root, infos):\n"
    "    base = root.rstrip('/')\n"
    "    def finder(importer, path_item, only=False):\n"
    "        if path_item.rstrip('/') != base:\n"
    "            return\n"
    "        for info in infos:\n"
    "            meta = pr.PathMetadata(base, root + info)\n"
    "            yield pr.Distribution.from_location(base, info, metadata=meta)\n"
    "    pr.register_finder(BundledPathFinder, finder)\n"
    "    pr.register_loader_type(type(loader), pr.DefaultProvider)\n"
    "    ws = pr.working_set\n"
    "    for entry in list(ws.entries):\n"
    "        for dist in finder(None, entry):\n"
    "            if dist.key not in ws.by_key:\n"
    "                ws.add(dist, entry, False)\n";

static PyObject *rt_glue_ns;   /* the glue's namespace, once compiled */
static int rt_glue_metadata_ran; /* rt_glue_metadata_source ran in it */

/* Compile source and run it in namespace ns. 0, or -1 with an exception
 * set. */
static int rt_glue_run(const char *source, PyObject *ns)
{
    PyObject *code = Py_CompileString(source, "<kiln importlib glue>",
                                      Py_file_input);
    PyObject *r = code ? PyEval_EvalCode(code, ns, ns) : NULL;

    Py_XDECREF(code);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* The glue's function `name` (borrowed), compiling rt_glue_source the
 * first time, and rt_glue_metadata_source too the first time `metadata`
 * is true. NULL with an exception set. */
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
              rt_glue_run(rt_glue_source, ns) < 0;
        Py_XDECREF(modname);
        if (bad) {
            Py_XDECREF(ns);
            return NULL;
        }
        rt_glue_ns = ns;
    }
    if (metadata && !rt_glue_metadata_ran) {
        if (rt_glue_run(rt_glue_metadata_source, rt_glue_ns) < 0)
            return NULL;
        rt_glue_metadata_ran = 1;
    }
    fn = PyDict_GetItemString(rt_glue_ns, name);
    if (fn == NULL)
        PyErr_Format(PyExc_RuntimeError, "kiln's importlib glue has no %s",
                     name);
    return fn;
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
