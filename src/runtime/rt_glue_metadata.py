# rt_glue_metadata.py: importlib.metadata over a program's bundle (a
# Distribution per .dist-info directory it carries). Run by rt_glue.c after
# rt_glue.py, in the same namespace, the first time a program asks for
# distributions; compiled when kiln is built (mk/glue_code.py).
import re as _re
from importlib.metadata import Distribution as _Distribution

def _normalize(name):
    return _re.sub(r'[-_.]+', '-', name).lower()

class BundledDistribution(_Distribution):
    """A distribution whose .dist-info lies in the program."""

    def __init__(self, loader, root, info):
        self._loader = loader
        self._root = root
        self._info = info

    def read_text(self, filename):
        try:
            data = self._loader.get_data(
                self._root + self._info + '/' + filename)
        except OSError:
            return None
        return data.decode('utf-8')

    def locate_file(self, path):
        tree = _tree(self._loader, self._root)
        _resources()
        return BundledPath(tree, '').joinpath(str(path))

    @property
    def _normalized_name(self):
        return _normalize(self._info.rsplit('-', 1)[0]).replace('-', '_')

    def __repr__(self):
        return '<BundledDistribution %s>' % self._info

def find(loader, root, infos, context):
    name = getattr(context, 'name', None)
    want = None if name is None else _normalize(name)
    for info in infos:
        stem = info[:-len('.dist-info')]
        if want is None or _normalize(stem.rsplit('-', 1)[0]) == want:
            yield BundledDistribution(loader, root, info)
