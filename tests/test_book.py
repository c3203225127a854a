"""The book's own code on d2lrec, and the book's own split.

``tests/book/`` holds the MXNet code of D2L §16.2, §16.3 and §16.4 as
published.  Each chapter runs as a reader would run it with d2lrec: its
cells saved as one ``.py`` file with ``from d2l import mxnet as d2l``
changed to ``import d2lrec as d2l`` and nothing else, in a fresh process,
on the real data (``$D2LREC_DATA_DIR``).  Its training is unseeded, so
only its end is checked, and what it loaded: no module of the lab
(``d2lrec/lab/``), and for §16.4 at most `BOOK_PATH_LINES` lines of
d2lrec.  The cells that d2lrec keeps verbatim must be the book's.

``split_mode='book'`` must give the test set that the book's own
``split_data_ml100k`` draws in a fresh process: 9,849 ratings, whose
sorted ``user item rating`` rows have the sha256 `BOOK_TEST_SET`.
"""
import importlib
import inspect
import json
import re
import subprocess
import sys

import pytest

from support import book_cells, train_json

IMPORT = 'from d2l import mxnet as d2l\n'

#: The book's test set of ML-100K: its size and the sha256 of its sorted
#: rows, one "user<TAB>item<TAB>rating" line each.
BOOK_TEST_SET = (9849, 'ee5cc25f1dcc25c01fd6c8c0cbd0bf6943549cd595640248'
                       'a64d83bc280b43ed')

#: Prints ``digest(test)`` of a test set as the last line.
DIGEST = '''
import hashlib
def digest(test):
    rows = sorted(test[['user_id', 'item_id', 'rating']].itertuples(
        index=False, name=None))
    text = ''.join(f'{u}\\t{i}\\t{r}\\n' for u, i, r in rows)
    print(len(rows), hashlib.sha256(text.encode()).hexdigest())
'''


#: Writes the lines of each d2lrec module the script loaded, by name, to
#: ``loaded.json``.
LOADED = '''
import json, sys
with open('loaded.json', 'w') as f:
    json.dump({name: sum(1 for _ in open(module.__file__, 'rb'))
               for name, module in sys.modules.items()
               if name.split('.')[0] == 'd2lrec'}, f)
'''

#: The most lines of d2lrec that the book's §16.4 code may load.
BOOK_PATH_LINES = 1000


def on_d2lrec(cells):
    """The book's `cells` as one script, its import line changed only."""
    script = '\n\n'.join(cells) + '\n'
    assert script.count(IMPORT) == 1
    return script.replace(IMPORT, 'import d2lrec as d2l\n')


def run(script, folder):
    """Run `script` saved in `folder` in a fresh Python; return stdout."""
    path = folder / 'script.py'
    path.write_text(script)
    out = subprocess.run([sys.executable, path.name], cwd=folder,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    # No traceback, not even an ignored one at exit (DataLoader workers).
    assert 'Traceback' not in out.stderr, out.stderr[-3000:]
    return out.stdout


def test_the_fixtures_are_the_books_cells():
    cells = book_cells('autorec')
    assert len(cells) == 4 and cells[0].startswith(IMPORT)
    assert [len(book_cells(c)) for c in ('movielens', 'mf')] == [7, 6]


@pytest.mark.parametrize('chapter, name', [
    ('mf', 'MF'), ('autorec', 'AutoRec'), ('autorec', 'evaluator')])
def test_d2lrecs_copies_are_the_books_cells(chapter, name):
    """d2lrec keeps these cells verbatim (d2l's ``#@save``)."""
    obj = getattr(importlib.import_module(f'd2lrec.{chapter}'), name)
    assert inspect.getsource(obj).strip() in book_cells(chapter)


@pytest.mark.usefixtures('real_data')
@pytest.mark.parametrize('chapter, end, worst', [
    ('movielens', r'number of users: 943, number of items: 1682', None),
    ('mf', r'train loss [\d.]+, test RMSE ([\d.]+)', 1.1),
    ('autorec', r'train loss [\d.]+, test RMSE ([\d.]+)', 0.93)])
def test_the_books_code_runs_on_d2lrec(tmp_path, chapter, end, worst):
    """It runs, loads no module of the lab, and §16.4's loads at most
    `BOOK_PATH_LINES` lines of d2lrec."""
    out = run(on_d2lrec(book_cells(chapter)) + LOADED, tmp_path)
    found = re.search(end, out)
    assert found, out[-2000:]
    if worst:
        assert float(found[1]) <= worst
        assert out.splitlines()[-1].endswith('examples/sec on [cpu(0)]')
    loaded = json.loads((tmp_path / 'loaded.json').read_text())
    print(chapter, sum(loaded.values()), 'lines:', loaded)
    assert 'd2lrec.download' in loaded  # the data came through d2lrec
    assert not [name for name in loaded if name.startswith('d2lrec.lab')]
    if chapter == 'autorec':
        assert sum(loaded.values()) <= BOOK_PATH_LINES, loaded


@pytest.mark.usefixtures('real_data')
def test_the_books_split_is_the_books_in_any_process(tmp_path):
    # The book's own split_data_ml100k, in a fresh process.
    cells = book_cells('movielens')
    books = on_d2lrec([cells[0], cells[1], cells[4]]) + DIGEST + (
        'data, num_users, num_items = read_data_ml100k()\n'
        'digest(split_data_ml100k(data, num_users, num_items)[1])\n')
    # d2lrec's, after other draws from MXNet's generator.
    d2lrecs = 'import d2lrec\nimport mxnet as mx\n' + DIGEST + (
        'mx.random.seed(7)\n'
        'mx.np.random.uniform(0, 1, 10)\n'
        'data, num_users, num_items = d2lrec.read_data_ml100k()\n'
        "digest(d2lrec.split_data_ml100k(data, num_users, num_items, "
        "'book', seed=3)[1])\n")
    expected = ' '.join(map(str, BOOK_TEST_SET))
    assert run(books, tmp_path).splitlines()[-1] == expected
    assert run(d2lrecs, tmp_path).splitlines()[-1] == expected


@pytest.mark.usefixtures('real_data')
def test_the_chapter_on_the_books_split_gives_the_books_rmse():
    result = train_json('--split', 'book')
    assert result['split'] == 'book'
    assert abs(result['test_rmse'] - 0.898) < 0.005  # the book prints 0.898
