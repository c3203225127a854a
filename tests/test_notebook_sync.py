"""The chapter notebook's AutoRec and evaluator cells are in d2lrec.autorec.

d2l marks such cells ``#@save`` and copies them into its package; here the
copy is checked instead, so a notebook edit that is not carried over to
the library (or the reverse) fails.
"""
import inspect
import pathlib

import nbformat
import pytest

from d2lrec import autorec

NOTEBOOK = (pathlib.Path(__file__).parents[1] / 'notebooks'
            / '02-autorec.ipynb')


def code_cell_defining(name):
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    found = [c.source for c in cells if c.cell_type == 'code'
             and c.source.lstrip().startswith((f'class {name}(',
                                               f'def {name}('))]
    assert len(found) == 1, f'expected one cell defining {name}'
    return found[0]


@pytest.mark.parametrize('obj', [autorec.AutoRec, autorec.evaluator],
                         ids=['AutoRec', 'evaluator'])
def test_notebook_cell_matches_library(obj):
    assert (code_cell_defining(obj.__name__).strip()
            == inspect.getsource(obj).strip())
