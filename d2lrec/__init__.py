"""d2lrec: a runnable companion to D2L §16.4, AutoRec, in MXNet/Gluon.

The public names are the book's.  They are imported on first use, so
``import d2lrec`` loads neither mxnet nor d2l; call ``mxnet.npx.set_np()``
before using them, as the book's notebooks do.

Newer stacks (see `d2lrec._compat`): ``import d2lrec`` first checks that
the installed packages can run mxnet 1.9.1, and if not raises
`StackError` naming the package at fault and the pip command that fixes
it (``python -m d2lrec`` prints that as one error line).  Then it imports
numpy and, on numpy 1.24 to 1.26 only, sets ``numpy.bool = bool``, the
alias that mxnet 1.9.1 needs and those versions removed.  That is its one
change to global state, and it must come first: ``import d2lrec`` before
``import mxnet`` or ``from d2l import mxnet``.  Every ``d2lrec.*``
module import runs this file first, so they apply it too.
"""
import importlib
import sys

from d2lrec._compat import StackError, alias_numpy_bool, check_stack

try:
    check_stack()
except StackError as e:
    # ``python -m d2lrec``: sys.argv[0] is '-m' while Python imports this
    # package to find d2lrec.__main__; say it as the CLI says errors.
    if sys.argv[:1] == ['-m']:
        sys.exit(f'd2lrec: error: {e}')
    raise
alias_numpy_bool()

_HOMES = {
    'AutoRec': 'autorec', 'evaluator': 'autorec',
    'DeepAutoRec': 'autorec', 'MF': 'mf',
    'split_and_load_ml100k': 'mf',
    'DATA_HUB': 'download', 'DataError': 'download',
    'download_extract_ml100k': 'download', 'get_data_dir': 'download',
    'L2Loss': 'loss', 'LivePlot': 'plot',
    'load_data_ml100k': 'data', 'read_data_ml100k': 'data',
    'read_items_ml100k': 'data', 'split_data_ml100k': 'data',
    'train_and_evaluate': 'experiment', 'compare': 'experiment',
    'coordinate_search': 'tune',
    'Config': 'config', 'TUNED': 'config', 'use_all_cores': 'config',
    'build_net': 'experiment',
    'recommend': 'recommend', 'top_rated': 'recommend',
    'predict_ratings': 'recommend',
    'save_model': 'modelfile', 'load_model': 'modelfile',
    'train_recsys_rating': 'train', 'DivergenceError': 'train',
    'try_all_gpus': 'devices', 'try_gpu': 'devices',
    'choose_devices': 'devices', 'StackError': '_compat',
}

__all__ = sorted(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'd2lrec.{_HOMES[name]}'), name)


def __dir__():
    return __all__
