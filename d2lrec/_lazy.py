"""Public names imported on first use, for `d2lrec` and `d2lrec.lab`:
``import d2lrec`` loads neither mxnet nor d2l, nor the lab."""
import importlib


def lazy(package, modules, others=()):
    """``(__all__, __getattr__, __dir__)`` of `package`, whose public names
    (``{module: names}``; `others`, ``{name: module}``) load on use."""
    homes = dict(others, **{name: f'{package}.{module}'
                            for module, names in modules.items()
                            for name in names})

    def getattr_(name):
        if name not in homes:
            raise AttributeError(f'module {package!r} has no attribute '
                                 f'{name!r}')
        return getattr(importlib.import_module(homes[name]), name)
    return sorted(homes), getattr_, lambda: sorted(homes)
