# rt_glue.py: importlib.resources and pkgutil over a program's bundle (the
# Traversable, the resource reader, the path entry finder, as_file's
# per-user cache), pkg_resources' registration and ctypes.util's
# find_library for the libraries a program carries. Compiled by the Python
# kiln embeds when kiln is built (mk/glue_code.py) and run by rt_glue.c in
# a namespace of its own the first time a program needs it.
import errno as _errno
import io as _io
import os as _os
import posixpath as _pp

class _Tree:
    """Every file and directory the program carries, by path."""

    def __init__(self, loader, root):
        self.loader = loader
        self.root = root
        self.files = files = {}
        self.dirs = dirs = {''}
        self.children = children = {}
        for path, kind, module in loader._kiln_files():
            if kind != 'namespace':
                files[path] = (kind, module)
            elif path in dirs:
                continue
            else:
                dirs.add(path)
            while True:
                head, _, name = path.rpartition('/')
                names = children.get(head)
                if names is None:
                    names = children[head] = set()
                names.add(name)
                if head in dirs:
                    break
                dirs.add(head)
                path = head

    def error(self, code, rel):
        return OSError(code, _os.strerror(code), self.root + rel)

    def read(self, rel):
        if rel in self.dirs:
            raise self.error(_errno.EISDIR, rel)
        if rel not in self.files:
            raise self.error(_errno.ENOENT, rel)
        kind, module = self.files[rel]
        if kind in ('module', 'package'):
            source = self.loader.get_source(module)
            if source is None:
                raise self.error(_errno.ENOENT, rel)
            return source.encode('utf-8')
        return self.loader.get_data(self.root + rel)

_trees = {}

_reader = None
BundledPath = None

def _resources():
    """The resource reader class, with the Traversable it gives, defined
    the first time it is needed: importlib.resources imports pathlib, and
    a path entry finder (below) may be made while pathlib itself is being
    imported."""
    global _reader, BundledPath
    if _reader is not None:
        return _reader
    import contextlib as _contextlib
    import importlib.resources._common as _common
    import pathlib as _pathlib
    from importlib.resources.abc import Traversable as _Traversable
    from importlib.resources.abc import TraversableResources as _Resources

    class BundledPath(_Traversable):
        """A file or directory inside the program, read-only."""

        def __init__(self, tree, rel):
            self._tree = tree
            self._rel = rel

        @property
        def name(self):
            return self._rel.rpartition('/')[2]

        def is_dir(self):
            return self._rel in self._tree.dirs

        def is_file(self):
            return self._rel in self._tree.files

        def iterdir(self):
            if not self.is_dir():
                raise self._tree.error(_errno.ENOTDIR if self.is_file()
                                       else _errno.ENOENT, self._rel)
            names = sorted(self._tree.children.get(self._rel, ()))
            prefix = self._rel + '/' if self._rel else ''
            return iter([BundledPath(self._tree, prefix + n) for n in names])

        def joinpath(self, *descendants):
            rel = _pp.normpath(_pp.join(self._rel, *map(str, descendants)))
            return BundledPath(self._tree, '' if rel == '.' else rel)

        def __truediv__(self, child):
            return self.joinpath(child)

        def read_bytes(self):
            return self._tree.read(self._rel)

        def read_text(self, encoding=None, errors=None):
            # What open()'s TextIOWrapper reads, without making one: the
            # text decoded whole, universal newlines translated. It words a
            # LookupError its own way, and picks the default encoding.
            if type(encoding) is str and type(errors) in (str, type(None)):
                data = self._tree.read(self._rel)
                try:
                    text = data.decode(encoding,
                                       'strict' if errors is None else errors)
                except LookupError:
                    pass
                else:
                    if '\r' in text:
                        text = text.replace('\r\n', '\n').replace('\r', '\n')
                    return text
            with self.open(encoding=encoding, errors=errors) as f:
                return f.read()

        def open(self, mode='r', *args, **kwargs):
            if set(mode) - set('rbt'):
                raise self._tree.error(_errno.EROFS, self._rel)
            data = _io.BytesIO(self._tree.read(self._rel))
            if 'b' in mode:
                return data
            return _io.TextIOWrapper(data, *args, **kwargs)

        def exists(self):
            return self.is_file() or self.is_dir()

        def __str__(self):
            return self._tree.root + self._rel

        def __fspath__(self):
            return str(self)

        def __repr__(self):
            return 'BundledPath(%r)' % str(self)

        def __eq__(self, other):
            return (isinstance(other, BundledPath) and
                    (self._tree, self._rel) == (other._tree, other._rel))

        def __hash__(self):
            return hash(self._rel)

    class BundledReader(_Resources):
        def __init__(self, tree, rel):
            self._tree = tree
            self._rel = rel

        def files(self):
            return BundledPath(self._tree, self._rel)

    @_contextlib.contextmanager
    def _as_file(path):
        if not path.is_file():
            with _as_file_default(path) as p:
                yield p
            return
        yield _pathlib.Path(path._tree.loader._kiln_cache_file(
            path.name, path.read_bytes()))

    _as_file_default = _common.as_file.dispatch(object)
    _common.as_file.register(BundledPath)(_as_file)

    _reader = BundledReader
    return _reader

def _tree(loader, root):
    tree = _trees.get(root)
    if tree is None:
        tree = _trees[root] = _Tree(loader, root)
    return tree

def resource_reader(loader, root, rel):
    return _resources()(_tree(loader, root), rel)

class BundledPathFinder:
    """A path entry finder for a directory inside the program."""

    def __init__(self, loader, tree, rel):
        self._loader = loader
        self._tree = tree
        self._rel = rel

    def find_spec(self, fullname, target=None):
        return self._loader.find_spec(fullname)

    def invalidate_caches(self):
        pass

    def iter_modules(self, prefix=''):
        found = {}
        for path, (kind, module) in self._tree.files.items():
            d = _pp.dirname(path)
            if kind == 'module' and d == self._rel:
                found[_pp.basename(path)[:-3]] = False
            elif kind == 'extension' and d == self._rel:
                found[module.rpartition('.')[2]] = False
            elif kind == 'package' and _pp.dirname(d) == self._rel:
                found[_pp.basename(d)] = True
        for name in sorted(found):
            if name.isidentifier():
                yield prefix + name, found[name]

def path_finder(loader, root, rel):
    tree = _tree(loader, root)
    if rel not in tree.dirs:
        raise ImportError('no directory %s in the program' % (root + rel))
    return BundledPathFinder(loader, tree, rel)

def pkg_resources(pr, loader, root, infos):
    base = root.rstrip('/')
    def finder(importer, path_item, only=False):
        if path_item.rstrip('/') != base:
            return
        for info in infos:
            meta = pr.PathMetadata(base, root + info)
            yield pr.Distribution.from_location(base, info, metadata=meta)
    pr.register_finder(BundledPathFinder, finder)
    pr.register_loader_type(type(loader), pr.DefaultProvider)
    ws = pr.working_set
    for entry in list(ws.entries):
        for dist in finder(None, entry):
            if dist.key not in ws.by_key:
                ws.add(dist, entry, False)

def ctypes_util(cu, libs):
    """Make find_library of module ctypes.util (cu) give, for a library the
    program carries (libs: their names, sorted), the name that loads it
    (the program's dlopen answers it); any other, what python's gives."""
    python_find = cu.find_library
    def find_library(name):
        for lib in libs:
            if lib == 'lib%s.so' % name or lib.startswith('lib%s.so.' % name):
                return lib
        return python_find(name)
    find_library.__doc__ = python_find.__doc__
    cu.find_library = find_library
