"""d2lrec: a runnable companion to D2L §16.4, AutoRec, in MXNet/Gluon.

The public names are the book's, so that the book's code runs with
``import d2lrec as d2l``; ``plt``, ``Timer``, ``Animator`` and
``Accumulator`` are d2l's own.  They are imported on first use, so
``import d2lrec`` loads neither mxnet nor d2l.  Each runs in MXNet's
NumPy mode (``npx.set_np()``, as the book's notebooks set it) and leaves
the caller's mode as it was, so they work from a plain script too.

Today's stacks (see `d2lrec._compat`): ``import d2lrec`` first checks
that the installed packages can run mxnet 1.9.1, and if not raises
`StackError` naming the package at fault and the pip command that fixes
it (``python -m d2lrec`` prints that as one error line); on a Python
newer than those tested it warns.  Then it imports numpy, gives back
the names that mxnet 1.9.1 reads at import and numpy 1.24 or 2 removed,
and on numpy 2 prints numpy scalars as numpy 1 did, as mxnet writes
them into its operators' parameters (nothing changes on the book's
numpy 1.23).  That is its one change to global state, and it must come
first: ``import d2lrec`` before ``import mxnet`` or ``from d2l import
mxnet``.  Every ``d2lrec.*`` module import runs this file first, so they
apply it too.

With mxnet-cu112, the book's GPU build, it then loads the CUDA 11
libraries that ``d2lrec/stack-cu112.txt`` installs from pip, so that
mxnet finds them (`d2lrec._cuda`; with CPU mxnet it does nothing), or
raises `StackError` saying which are missing, or that the NVIDIA driver
is.
"""
import sys
import warnings

# ``python -m d2lrec``: sys.argv[0] is '-m' while Python imports this
# package to find d2lrec.__main__; errors and Ctrl-C (numpy takes a
# while to load) end it as the command line ends them.
try:
    from d2lrec._compat import (StackError, adapt_numpy, check_stack,
                                python_warning)
    from d2lrec._cuda import load_cuda_libraries

    try:
        check_stack()
        load_cuda_libraries()
    except StackError as e:
        if sys.argv[:1] == ['-m']:
            sys.exit(f'd2lrec: error: {e}')
        raise
    warning = python_warning()
    if warning:
        warnings.warn(warning, stacklevel=2)
    adapt_numpy()
except KeyboardInterrupt:
    if sys.argv[:1] == ['-m']:
        from d2lrec.lab.cli import interrupted
        sys.exit(interrupted())
    raise

#: Where each public name lives, in the book's order: §16.2's data,
#: §16.3's MF and training loop, §16.4's AutoRec.  The lab's are
#: `d2lrec.lab`'s, and answer here too (``d2lrec.train_and_evaluate``).
_MODULES = {
    'datasets': ('DATA_HUB', 'DataError', 'get_data_dir'),
    'download': ('download_extract', 'download_extract_ml100k'),
    'data': ('read_data_ml100k', 'split_data_ml100k', 'load_data_ml100k',
             'get_dataloader_workers', 'read_data'),
    'mf': ('MF', 'split_and_load_ml100k'),
    'train': ('train_recsys_rating', 'DivergenceError'),
    'devices': ('try_gpu', 'try_all_gpus'),
    'plot': ('LivePlot',),
    'autorec': ('AutoRec', 'evaluator'),
    '_compat': ('StackError',),
}
#: The other names that §16.2-§16.4's published code calls, d2l's own
#: (``d2l.mxnet``'s), imported on first use: they work here as they are.
_D2L = ('plt', 'Timer', 'Animator', 'Accumulator')

from d2lrec._lazy import lazy  # noqa: E402 (after the stack check)

__all__, __getattr__, __dir__ = lazy(
    __name__, _MODULES, dict.fromkeys(_D2L, 'd2l.mxnet'), 'd2lrec.lab')
