"""The one place where d2lrec adapts to, and checks, the stack it runs on
(mxnet 1.9.1 under D2L §16.4's code).

`stack_problem`: mxnet 1.9.1 cannot be imported on many of today's
stacks, and then fails with an error that names none of the causes.
``import d2lrec`` checks them first, from the installed packages'
metadata alone (no numpy, scipy or mxnet is imported), and raises
`StackError` naming the package, its version and the pip command that
fixes it, with versions from ``d2lrec/stack.txt``, the tested stack:

- Python 3.13 or newer: mxnet 1.9.1 needs numpy < 2, which has no wheels
  there; no pip command helps;
- numpy 2 (or none);
- a package that mxnet or d2l imports and that needs numpy 2 while
  numpy 1 is installed, such as scipy 1.18 (mxnet imports
  ``scipy.sparse`` whenever scipy is installed), pandas 3.1 or
  contourpy 1.4;
- Python 3.12 without setuptools, which provides the ``distutils`` that
  mxnet imports and Python 3.12 no longer has;
- no mxnet at all.

``numpy.bool``: mxnet 1.9.1 uses ``numpy.bool``, an alias of the builtin
``bool`` that numpy 1.20 deprecated and 1.24 removed.  With numpy 1.24 to
1.26, ``import mxnet`` fails with "module 'numpy' has no attribute
'bool'".  `alias_numpy_bool` restores the alias, as numpy 1.23 had it,
but only when numpy has neither the name nor its deprecated alias, so on
numpy 1.23 (the pinned stack) it changes nothing and never touches the
deprecated alias (no DeprecationWarning).

``d2lrec/__init__.py`` calls both, so importing d2lrec or any of its
modules applies them.  They must run before mxnet is first imported:
``import d2lrec`` before ``import mxnet`` or ``from d2l import mxnet``.
"""
import importlib.metadata
import importlib.util
import pathlib
import sys

#: The Pythons on which mxnet 1.9.1 and its numpy < 2 install.
PYTHONS = ((3, 11), (3, 12))

#: Packages on mxnet's and d2l's import path that need a given numpy.
NUMPY_USERS = ('scipy', 'pandas', 'matplotlib', 'contourpy')


class StackError(ImportError):
    """The installed packages cannot run mxnet 1.9.1; the message says
    which and the pip command that fixes it."""


def stack_pins():
    """Return ``{name: version}`` of ``d2lrec/stack.txt``."""
    pins = {}
    path = pathlib.Path(__file__).with_name('stack.txt')
    for line in path.read_text().splitlines():
        name, sep, version = line.partition('==')
        if sep and not line.startswith('#'):
            pins[name.strip().lower()] = version.strip()
    return pins


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


def python_problem(oldest=PYTHONS[0]):
    """Return why this Python cannot run the chapter, as one line, or
    None: it is newer than `PYTHONS` allow, or older than `oldest`."""
    version = sys.version_info[:2]
    if PYTHONS[-1] >= version >= oldest:
        return None
    python = '.'.join(map(str, sys.version_info[:3]))
    supported = ' or '.join('.'.join(map(str, v)) for v in PYTHONS)
    why = (f'cannot run mxnet 1.9.1: it needs numpy < 2, which has no '
           f'wheels for Python {version[0]}.{version[1]}'
           if version > PYTHONS[-1] else
           "is older than the Pythons of d2lrec's pinned environments")
    return (f'Python {python} {why}. Use Python {supported} (for example '
            f'`pyenv install 3.12` or `uv venv --python 3.12`); see '
            f'docs/install.md, "Which Python".')


def stack_problem():
    """Return why mxnet 1.9.1 cannot be imported here, with the fix, as
    one line; or None if the stack looks right."""
    problem = python_problem(oldest=(0, 0))  # older ones may still work
    if problem:
        return problem
    python = '.'.join(map(str, sys.version_info[:3]))
    pins = stack_pins()
    causes, fixes = [], []
    numpy = _version('numpy')
    if numpy is None or _major(numpy) >= 2:
        causes.append('numpy is not installed' if numpy is None else
                      f'numpy {numpy} is installed, but mxnet 1.9.1 needs '
                      f'numpy < 2')
        fixes.append('numpy')
        numpy = pins['numpy']  # what the fix installs
    for name in NUMPY_USERS:
        version = _version(name)
        req = version and _numpy_requirement(name)
        if req and not req.specifier.contains(numpy, prereleases=True):
            causes.append(f'{name} {version} requires numpy{req.specifier}')
            fixes.append(name)
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
    command = ' '.join(f'{name}=={pins[name]}' for name in fixes)
    return (f'mxnet 1.9.1 cannot be imported on this stack: '
            f'{"; ".join(causes)}. Fix: pip install {command}, then '
            f'restart Python (in Jupyter or Colab, the kernel).')


def check_stack():
    """Raise `StackError` if `stack_problem` finds one."""
    problem = stack_problem()
    if problem:
        raise StackError(problem)


def alias_numpy_bool():
    """Set ``numpy.bool = bool`` where numpy lacks it (1.24 to 1.26).

    Return True if it set the alias, False if numpy already had the name.
    Reads numpy's module dictionary and its table of deprecated aliases
    instead of ``hasattr``, which would warn on numpy < 1.24.
    """
    import numpy
    if ('bool' in vars(numpy)
            or 'bool' in getattr(numpy, '__deprecated_attrs__', {})):
        return False
    numpy.bool = bool
    return True


if __name__ == '__main__':
    # The Makefile's first step, before it makes a virtual environment:
    # ``python d2lrec/_compat.py`` runs without d2lrec or numpy installed.
    problem = python_problem()
    sys.exit(problem and f'd2lrec: error: {problem}')
