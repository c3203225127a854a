"""The one place where d2lrec adapts other packages to newer stacks.

``numpy.bool``: mxnet 1.9.1 uses ``numpy.bool``, an alias of the builtin
``bool`` that numpy 1.20 deprecated and 1.24 removed (numpy 2 brought the
name back, as ``numpy.bool_``, but mxnet 1.9.1 needs numpy < 2).  With
numpy 1.24 to 1.26, ``import mxnet`` fails with "module 'numpy' has no
attribute 'bool'".  `alias_numpy_bool` restores the alias, as numpy 1.23
had it (the builtin ``bool``), but only when numpy has neither the name
nor its deprecated alias, so on numpy 1.23 (the pinned stack) and numpy 2
it changes nothing, and it never touches the deprecated alias (no
DeprecationWarning).

``d2lrec/__init__.py`` calls it, so importing d2lrec or any of its
modules applies it.  It must run before mxnet is first imported:
``import d2lrec`` before ``import mxnet`` or ``from d2l import mxnet``.
It imports numpy, never mxnet.
"""
import numpy


def alias_numpy_bool():
    """Set ``numpy.bool = bool`` where numpy lacks it (1.24 to 1.26).

    Return True if it set the alias, False if numpy already had the name.
    Reads numpy's module dictionary and its table of deprecated aliases
    instead of ``hasattr``, which would warn on numpy < 1.24.
    """
    if ('bool' in vars(numpy)
            or 'bool' in getattr(numpy, '__deprecated_attrs__', {})):
        return False
    numpy.bool = bool
    return True
