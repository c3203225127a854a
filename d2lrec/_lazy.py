"""Public names imported on first use, for `d2lrec` and `d2lrec.lab`:
``import d2lrec`` loads neither mxnet nor d2l, nor the lab."""
import importlib


def lazy(package, modules, others=(), more=None):
    """``(__all__, __getattr__, __dir__)`` of `package`, whose public names
    (``{module: names}``; `others`, ``{name: module}``) load on use, and
    whose other public names are those of the package `more`, if given."""
    homes = dict(others, **{name: f'{package}.{module}'
                            for module, names in modules.items()
                            for name in names})

    def getattr_(name):
        home = homes.get(name) or (more if name[:1] != '_' else None)
        if home is None:
            raise AttributeError(f'module {package!r} has no attribute '
                                 f'{name!r}')
        return getattr(importlib.import_module(home), name)
    return sorted(homes), getattr_, lambda: sorted(homes)
