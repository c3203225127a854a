"""The chapter notebook's code cells: the book's, and d2lrec's copy.

Notebook 02's cells tagged ``book`` are D2L §16.4's published cells
(``tests/book/autorec.py``), changed only as docs/book.md lists: each
change is a ```diff block there, with its reason, and each block is a
change the notebook makes.

Its AutoRec and evaluator cells are also in d2lrec.autorec.  d2l marks
such cells ``#@save`` and copies them into its package; here the copy is
checked instead, so a notebook edit that is not carried over to the
library (or the reverse) fails.
"""
import difflib
import inspect
import pathlib
import re

import nbformat
import pytest

from d2lrec import autorec
from support import book_cells

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOK = ROOT / 'notebooks' / '02-autorec.ipynb'


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


def changes(book, ours):
    """Each hunk of the diff from cell `book` to cell `ours`: its removed
    (``-``) and added (``+``) lines, as text."""
    hunks = []
    for line in difflib.unified_diff(book.splitlines(), ours.splitlines(),
                                     n=0, lineterm=''):
        if line.startswith('@@'):
            hunks.append([])
        elif hunks:  # not the ---/+++ header
            hunks[-1].append(line)
    return ['\n'.join(hunk) for hunk in hunks]


def test_chapter_cells_are_the_books_but_for_the_listed_changes():
    ours = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
            if 'book' in c.metadata.get('tags', [])]
    book = book_cells('autorec')
    assert len(ours) == len(book), 'one notebook cell per book cell'
    made = [hunk for b, o in zip(book, ours) for hunk in changes(b, o)]
    listed = [block.rstrip('\n') for block in re.findall(
        r'^```diff\n(.*?)^```$', (ROOT / 'docs' / 'book.md').read_text(),
        re.DOTALL | re.MULTILINE)]
    unlisted = [hunk for hunk in made if hunk not in listed]
    assert not unlisted, ('changes to the book\'s cells that docs/book.md '
                          'does not list:\n\n' + '\n\n'.join(unlisted))
    assert sorted(made) == sorted(listed), 'a listed change is not made'
