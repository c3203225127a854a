"""The one place where d2lrec adapts to, and checks, the stack it runs on
(mxnet 1.9.1 under D2L §16.4's code).

`python_problem`: the Pythons d2lrec is tested on are 3.11 to 3.15
(`PYTHONS`).  An older one is refused at once, naming those; a newer one
is tried, with a warning that it is untested.

`stack_problem`: mxnet 1.9.1 cannot be imported on some stacks, and then
fails with an error that names none of the causes.  ``import d2lrec``
checks them first, from the installed packages' metadata alone (no
numpy, scipy or mxnet is imported), and raises `StackError` naming the
package, its version and the pip command that fixes it, with versions
from ``d2lrec/stack.txt``, the tested numpy 2 stack:

- no numpy, or a numpy newer than 2 (untested: its removals are unknown);
- a package that mxnet or d2l imports and that needs a newer numpy than
  the one installed, such as scipy 1.18 (mxnet imports ``scipy.sparse``
  whenever scipy is installed) or pandas 3.1 on numpy 1;
- Python 3.12 or newer without setuptools, which provides the
  ``distutils`` that mxnet imports and Python 3.12 no longer has;
- no mxnet at all.

`adapt_numpy`: mxnet 1.9.1's pins say numpy < 2, but it talks to libmxnet
through ctypes and needs of numpy only its Python API.  It fails on numpy
1.24 and newer because, at import, it reads names that numpy removed
(`NUMPY_NAMES`), and on numpy 2 with several devices because it writes
numpy scalars into its operators' parameters as numpy 2 prints them.
Before mxnet's first import, d2lrec gives back each name that the
installed numpy lacks, as numpy 1.23 had it, and on numpy 2 prints
scalars as numpy 1 did; on numpy 1.23 (the book's stack) it changes
nothing.

``d2lrec/__init__.py`` calls all three, so importing d2lrec or any of its
modules applies them.  The names must be given back before mxnet is
first imported: ``import d2lrec`` before ``import mxnet`` or ``from d2l
import mxnet``.
"""
import importlib.metadata
import importlib.util
import math
import pathlib
import sys

#: The oldest and newest Python d2lrec is tested on.
PYTHONS = ((3, 11), (3, 15))

#: Packages on mxnet's and d2l's import path that need a given numpy.
NUMPY_USERS = ('scipy', 'pandas', 'matplotlib', 'contourpy')

#: The newest numpy major version tested.
NUMPY_MAJOR = 2

#: numpy's old financial functions, moved to numpy-financial in numpy
#: 1.20; mxnet.numpy.fallback names them and never calls them.
FINANCIAL = ('mirr', 'npv', 'pmt', 'ppmt', 'pv', 'rate')


def _in1d(ar1, ar2, assume_unique=False, invert=False):
    import numpy
    return numpy.isin(ar1, ar2, assume_unique=assume_unique,
                      invert=invert).ravel()


def _msort(a):
    import numpy
    return numpy.sort(a, axis=0)


def _removed(name):
    def removed(*args, **kwargs):
        raise NotImplementedError(
            f'numpy.{name} was removed from numpy in 1.20 (it is in the '
            f'numpy-financial package); d2lrec gives the name back only '
            f'because mxnet 1.9.1 reads it at import')
    removed.__name__ = name
    return removed


#: The numpy names that mxnet 1.9.1 reads at import and numpy 1.24 or 2
#: removed, as numpy 1.23 had them: a value, or the name of the numpy 2
#: function that replaced it (``tests/test_compat.py`` records every
#: name mxnet asks numpy for and fails on any that does not resolve).
NUMPY_NAMES = {
    'bool': bool,  # numpy 1.24 removed it; numpy 2 has it again
    'PZERO': 0.0, 'NZERO': -0.0, 'PINF': math.inf, 'NINF': -math.inf,
    'Inf': math.inf, 'NAN': math.nan, 'NaN': math.nan,
    'alltrue': 'all', 'sometrue': 'any', 'product': 'prod',
    'round_': 'round', 'trapz': 'trapezoid', 'in1d': _in1d,
    'msort': _msort,
    **{name: _removed(name) for name in FINANCIAL},
}


class StackError(ImportError):
    """The installed packages cannot run mxnet 1.9.1; the message says
    which and the pip command that fixes it."""


def stack_pins():
    """Return ``{name: version}`` of ``d2lrec/stack.txt`` for this
    Python (a line's ``; python_version ...`` marker says where it
    applies)."""
    pins = {}
    path = pathlib.Path(__file__).with_name('stack.txt')
    for line in path.read_text().splitlines():
        pin, _, marker = line.partition(';')
        name, sep, version = pin.partition('==')
        if sep and not line.startswith('#') and _applies(marker):
            pins[name.strip().lower()] = version.strip()
    return pins


def _applies(marker):
    """Whether a requirement line's environment marker holds here."""
    if not marker.strip():
        return True
    from packaging.markers import Marker
    return Marker(marker).evaluate()


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _major(version):
    return int(version.split('.')[0])


def _numpy_requirement(name):
    """The numpy requirement of installed `name` that applies here, as a
    `packaging` Requirement, or None."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # too bare a stack to tell; mxnet will say
        return None
    for text in importlib.metadata.requires(name) or ():
        req = Requirement(text)
        if req.name == 'numpy' and (req.marker is None
                                    or req.marker.evaluate({'extra': ''})):
            return req
    return None


def _dotted(version):
    return '.'.join(map(str, version))


def python_problem():
    """Return why this Python cannot run d2lrec, as one line, or None."""
    if sys.version_info[:2] >= PYTHONS[0]:
        return None
    return (f'Python {_dotted(sys.version_info[:3])} is older than the '
            f'Pythons d2lrec runs on, {_dotted(PYTHONS[0])} to '
            f'{_dotted(PYTHONS[1])}. Use one of those (for example '
            f'`pyenv install 3.13` or `uv venv --python 3.13`); see '
            f'docs/install.md, "Which Python".')


def python_warning():
    """Return a line saying that this Python is newer than those tested,
    or None."""
    if sys.version_info[:2] <= PYTHONS[1]:
        return None
    return (f'Python {_dotted(sys.version_info[:3])} is newer than the '
            f'Pythons d2lrec is tested on, {_dotted(PYTHONS[0])} to '
            f'{_dotted(PYTHONS[1])}: it may work; if mxnet or numpy '
            f'fails, use one of those (docs/install.md, "Which Python").')


def untested_stack():
    """A sentence naming this Python and numpy beside those tested."""
    return (f'This is Python {_dotted(sys.version_info[:3])} with numpy '
            f'{_version("numpy")}; d2lrec is tested on Python '
            f'{_dotted(PYTHONS[0])} to {_dotted(PYTHONS[1])} with numpy 1.23 '
            f'to {NUMPY_MAJOR}.x, with d2lrec/stack.txt\'s versions '
            f'(docs/install.md, "Which Python").')


def stack_problem():
    """Return why mxnet 1.9.1 cannot be imported here, with the fix, as
    one line; or None if the stack looks right."""
    problem = python_problem()
    if problem:
        return problem
    python = _dotted(sys.version_info[:3])
    pins = stack_pins()
    causes, fixes = [], []
    numpy = _version('numpy')
    if numpy is None or _major(numpy) > NUMPY_MAJOR:
        causes.append('numpy is not installed' if numpy is None else
                      f'numpy {numpy} is newer than d2lrec is tested on '
                      f'(numpy {NUMPY_MAJOR})')
        fixes.append('numpy')
        numpy = pins['numpy']  # what the fix installs
    for name in NUMPY_USERS:
        version = _version(name)
        req = version and _numpy_requirement(name)
        if req and not req.specifier.contains(numpy, prereleases=True):
            causes.append(f'{name} {version} requires numpy{req.specifier}')
            newer_numpy = req.specifier.contains(pins['numpy'],
                                                 prereleases=True)
            fixes.append('numpy' if newer_numpy else name)
    if (sys.version_info[:2] >= (3, 12)
            and importlib.util.find_spec('distutils') is None):
        causes.append(f'Python {python} has no distutils, which mxnet '
                      f'1.9.1 imports (setuptools provides it)')
        fixes.append('setuptools')
    if importlib.util.find_spec('mxnet') is None:
        causes.append('mxnet is not installed')
        fixes.append('mxnet')
    if not causes:
        return None
    command = ' '.join(f'{name}=={pins[name]}'
                       for name in dict.fromkeys(fixes))
    return (f'mxnet 1.9.1 cannot be imported on this stack: '
            f'{"; ".join(causes)}. Fix: pip install {command}, then '
            f'restart Python (in Jupyter or Colab, the kernel).')


def check_stack():
    """Raise `StackError` if `stack_problem` finds one."""
    problem = stack_problem()
    if problem:
        raise StackError(problem)


def restore_numpy_names():
    """Give numpy back each of `NUMPY_NAMES` that it lacks; return the
    names given back.

    Reads numpy's module dictionary and its table of deprecated aliases
    instead of ``hasattr``, which would warn on numpy 1.23.
    """
    import numpy
    have = vars(numpy).keys() | vars(numpy).get('__deprecated_attrs__', {})
    restored = []
    for name, value in NUMPY_NAMES.items():
        if name not in have:
            setattr(numpy, name, getattr(numpy, value)
                    if isinstance(value, str) else value)
            restored.append(name)
    return restored


def print_scalars_as_numpy_1():
    """On numpy 2, print numpy scalars as numpy 1 did (``2``, not
    ``np.int64(2)``); return whether it changed numpy's print options.

    mxnet 1.9.1 passes its operators' parameters to libmxnet as text, and
    writes a list with ``str``: ``gluon.utils.split_and_load`` on several
    devices sends ``indices=[0, np.int64(2)]``, which libmxnet refuses.
    numpy keeps print options per context (`contextvars`): a thread that
    trains must run in a copy of the caller's context.
    """
    import numpy
    if _major(numpy.__version__) < 2:
        return False
    numpy.set_printoptions(legacy='1.25')
    return True


def adapt_numpy():
    """Make numpy what mxnet 1.9.1 expects: `restore_numpy_names`, then
    `print_scalars_as_numpy_1`."""
    restore_numpy_names()
    print_scalars_as_numpy_1()


if __name__ == '__main__':
    # The Makefile's first step, before it makes a virtual environment:
    # ``python d2lrec/_compat.py`` runs without d2lrec or numpy installed.
    problem = python_problem()
    if problem:
        sys.exit(f'd2lrec: error: {problem}')
    warning = python_warning()
    if warning:
        print(f'd2lrec: warning: {warning}', file=sys.stderr)
