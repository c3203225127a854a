"""d2lrec: a runnable companion to D2L §16.4, AutoRec, in MXNet/Gluon.

The public names are the book's.  They are imported on first use, so
``import d2lrec`` loads nothing heavy and changes no global state; call
``mxnet.npx.set_np()`` before using them, as the book's notebooks do.
"""
import importlib

_HOMES = {
    'AutoRec': 'models', 'evaluator': 'models',
    'DATA_HUB': 'download', 'DataError': 'download',
    'download_extract_ml100k': 'download', 'get_data_dir': 'download',
    'LivePlot': 'plot',
    'load_data_ml100k': 'data', 'read_data_ml100k': 'data',
    'split_data_ml100k': 'data',
    'train_autorec': 'chapter',
    'train_recsys_rating': 'train',
    'try_all_gpus': 'devices', 'try_gpu': 'devices',
}

__all__ = sorted(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'd2lrec.{_HOMES[name]}'), name)


def __dir__():
    return __all__
