"""The files of MovieLens 100K parsed and checked (d2lrec.movielens),
through `d2lrec.data` and `d2lrec.download`: malformed ``u.data`` and
``u.info`` give one clear error and leave the files as they were;
``u.item``'s Latin-1 titles and years, also on the real file if
``D2LREC_DATA_DIR`` points at it."""
import os
import re
import time

import numpy as np
import pandas as pd
import pytest

import d2lrec.datasets as DS
import d2lrec.download as DL
import d2lrec.movielens as ML
from d2lrec.data import read_data_ml100k
from d2lrec.lab.recommendations import read_items_ml100k
from d2lrec.datasets import DATA_DIR_ENV
from d2lrec.movielens import split_title
from support import (GOOD, INFO, NUM_ITEMS, NUM_USERS, patch_dataset,
                     sha256, snapshot, u_info_bytes, u_item_bytes,
                     u_item_line)

DataError = DS.DataError
pytestmark = pytest.mark.usefixtures('no_network')


# u.data and u.info --------------------------------------------------------

def with_line(number, line, data=GOOD):
    """`data` with its line `number` (1-based) replaced by `line`."""
    lines = data.split(b'\n')
    lines[number - 1] = line
    return b'\n'.join(lines)


def load_bad_with(how, root, monkeypatch, u_data, u_info=INFO):
    """Write ``root/ml-100k`` and load it by `how`; expect `DataError`,
    check that no file changed and return the message.

    The sha256 expected is that of another file, the real one in effect,
    so `u_data`, even the synthetic `GOOD`, is not it: d2lrec must say
    what is wrong with it rather than only that the hash differs."""
    folder = root / 'ml-100k'
    folder.mkdir()
    (folder / 'u.data').write_bytes(u_data)
    if u_info is not None:
        (folder / 'u.info').write_bytes(u_info)
    before = snapshot(root)
    patch_dataset(monkeypatch,
                  ratings_hash=('sha256', sha256(b'the real u.data')))
    call = (read_data_ml100k if how == 'read_data_ml100k'
            else DL.download_extract_ml100k)
    with pytest.raises(DataError) as info:
        call(root)
    assert snapshot(root) == before  # nothing written or removed
    message = str(info.value)
    assert 'left as it is' in message or 'left as they are' in message
    assert str(root / 'ml-100k.zip') in message  # what to do
    return message


@pytest.fixture(params=['read_data_ml100k', 'download_extract_ml100k'])
def load_bad(request, tmp_path, monkeypatch):
    """``load(u_data, u_info=INFO) -> message`` by both ways."""
    def load(u_data, u_info=INFO):
        return load_bad_with(request.param, tmp_path, monkeypatch, u_data,
                             u_info)
    return load


def u_data_path(tmp_path):
    return str(tmp_path / 'ml-100k' / 'u.data')


@pytest.mark.parametrize('number, line, problem', [
    (3, b'1\t2\t3', 'expected 4 tab-separated fields'),
    (5, b'1\t2\t3\t874724710\t9', 'got 5'),
    (1, b'1\t2\t3\t874724710\t9', 'got 5'),  # pandas: an index column
    (400, b'12\t7', 'got 2'),  # a truncated last line
    (7, b'1\tx\t3\t874724710', "the item id 'x' is not an integer"),
    (9, b'1\t2\t3.5\t874724710', "the rating '3.5' is not an integer"),
    (2, b'1 2 3 874724710', 'got 1'),  # spaces, not tabs
    (8, b'1\t2\t\xff\t874724710', 'is not an integer'),  # not UTF-8
    (4, b'1\t2\t3\t99999999999999999999', 'does not fit in 64 bits'),
])
def test_malformed_line_is_named_and_shown(load_bad, tmp_path, number,
                                           line, problem):
    message = load_bad(with_line(number, line))
    assert message.startswith(f'{u_data_path(tmp_path)}, line {number}: ')
    assert problem in message
    assert repr(line.decode('utf-8', 'replace')) in message


def test_every_line_with_an_extra_field(load_bad, tmp_path):
    extra = GOOD.replace(b'\n', b'\t0\n')
    message = load_bad(extra)
    assert message.startswith(f'{u_data_path(tmp_path)}, line 1: expected '
                              f'4 tab-separated fields')


def test_blank_line(load_bad, tmp_path):
    message = load_bad(with_line(11, b''))
    assert message.startswith(f'{u_data_path(tmp_path)}, line 11 is empty')


@pytest.mark.parametrize('rating', [0, 6, -1, 50])
def test_rating_out_of_range(load_bad, tmp_path, rating):
    line = f'3\t4\t{rating}\t874724710'.encode()
    message = load_bad(with_line(17, line))
    assert message.startswith(f'{u_data_path(tmp_path)}, line 17: the '
                              f'rating {rating} is outside 1..5: ')
    assert repr(line.decode()) in message


@pytest.mark.parametrize('line, problem', [
    (b'31\t4\t3\t874724710',
     'the user id 31 is beyond the 30 users counted in'),
    (b'3\t41\t3\t874724710',
     'the item id 41 is beyond the 40 items counted in'),
    (b'0\t4\t3\t874724710', 'the user id 0 is not positive'),
    (b'3\t-2\t3\t874724710', 'the item id -2 is not positive'),
])
def test_id_beyond_the_counts_of_u_info(load_bad, tmp_path, line, problem):
    message = load_bad(with_line(23, line))
    assert message.startswith(f'{u_data_path(tmp_path)}, line 23: {problem}')
    if 'counted in' in problem:
        assert str(tmp_path / 'ml-100k' / 'u.info') in message
    assert repr(line.decode()) in message


def test_id_beyond_the_distinct_ids_without_u_info(load_bad, tmp_path):
    # Without u.info the bound is the number of distinct ids, which sizes
    # the book's rating matrix: here 41 (1..40 and 50).
    message = load_bad(with_line(23, b'3\t50\t3\t874724710'), u_info=None)
    assert message.startswith(
        f'{u_data_path(tmp_path)}, line 23: the item id 50 is beyond the '
        f'41 distinct item ids in the file: the ids must run 1..41')


def test_ids_that_run_1_to_n_are_fine_without_u_info(synthetic_ml100k):
    root, written = synthetic_ml100k
    os.remove(root / 'ml-100k' / 'u.info')
    data = ML.read_u_data(root / 'ml-100k')
    assert (data.user_id.max(), data.item_id.max()) == (NUM_USERS,
                                                        NUM_ITEMS)
    assert len(data) == len(written)


@pytest.mark.parametrize('u_info, problem', [
    (b'30 users\nforty items\n400 ratings\n', 'u.info, line 2: expected'),
    (b'30 users\n', 'u.info gives no count of items'),
    (b'', 'u.info gives no count of users or items'),
    (b'30 users\n40 items\n401 ratings\n',
     'u.data holds 400 ratings, but'),
])
def test_bad_or_disagreeing_u_info(tmp_path, monkeypatch, u_info,
                                   problem):
    # u.info is read only when u.data is not the real one.
    message = load_bad_with('read_data_ml100k', tmp_path, monkeypatch, GOOD,
                            u_info)
    assert problem in message
    assert str(tmp_path / 'ml-100k' / 'u.info') in message


def test_truncated_at_a_line_end_is_caught_by_the_count(load_bad, tmp_path):
    message = load_bad(GOOD[:GOOD.index(b'\n', 1000) + 1])
    assert message.startswith(f'{u_data_path(tmp_path)} holds ')
    assert 'counts 400' in message and 'incomplete' in message


def test_empty_u_data(load_bad, tmp_path):
    message = load_bad(b'')
    assert message.startswith(f'{u_data_path(tmp_path)} is empty (0 bytes)')


def test_good_data_is_read_in_one_pass(tmp_path, monkeypatch):
    """A valid file the size of the real one (100,000 lines) is checked
    by pandas alone: the line-by-line pass runs only on failure."""
    rng = np.random.RandomState(0)
    n = 100_000
    cols = [np.arange(n) % 943 + 1, rng.permutation(n) % 1682 + 1,
            rng.randint(1, 6, n), 874724710 + rng.randint(0, 10**7, n)]
    data = ''.join(f'{u}\t{i}\t{r}\t{t}\n' for u, i, r, t in
                   zip(*cols)).encode()
    (tmp_path / 'ml-100k').mkdir()
    (tmp_path / 'ml-100k' / 'u.data').write_bytes(data)
    (tmp_path / 'ml-100k' / 'u.info').write_bytes(u_info_bytes(943, 1682,
                                                               n))

    def slow(*args):
        raise AssertionError('the slow pass ran on a good file')
    monkeypatch.setattr(ML, '_malformed_line', slow)
    monkeypatch.setattr(ML, '_line', slow)
    start = time.perf_counter()
    frame = ML.read_u_data(tmp_path / 'ml-100k')
    print(f'read 100,000 lines in {time.perf_counter() - start:.3f} s')
    assert len(frame) == n
    np.testing.assert_array_equal(frame.rating.to_numpy(), cols[2])


# u.item -------------------------------------------------------------------

#: What `read_items_ml100k` makes of `SPECIAL_ITEMS` and item 8.
EXPECTED_ITEMS = {
    1: ('Misérables, Les', 1995), 2: ('unknown', None),
    3: ('No Year In Title', 1996), 4: ('Seven (Se7en)', 1995),
    5: ('Land Before Time III (V)', 1995),
    6: ('Heidi Fleiss: Hollywood Madam', 1995),
    7: ('Ellipsis\x85 Movie', 1990), 8: ('Movie 8', 1938),
}


def test_read_items_parses_latin1_titles_and_years(synthetic_titles):
    path = synthetic_titles / 'ml-100k' / 'u.item'
    assert 'é'.encode('latin-1') in path.read_bytes()
    items = read_items_ml100k(synthetic_titles)
    assert list(items.columns) == ['title', 'year']
    assert items.index.name == 'item_id'
    assert list(items.index) == list(range(1, NUM_ITEMS + 1))
    assert str(items.year.dtype) == 'Int64'
    for item_id, (title, year) in EXPECTED_ITEMS.items():
        assert items.at[item_id, 'title'] == title
        if year is None:
            assert items.at[item_id, 'year'] is pd.NA
        else:
            assert items.at[item_id, 'year'] == year


def test_read_items_accepts_crlf_and_unsorted_lines(synthetic_titles):
    lines = u_item_bytes().decode('latin-1').rstrip('\n').split('\n')
    text = '\r\n'.join(reversed(lines)) + '\r\n'
    path = synthetic_titles / 'ml-100k' / 'u.item'
    path.write_bytes(text.encode('latin-1'))
    items = read_items_ml100k(synthetic_titles)
    assert list(items.index) == list(range(1, NUM_ITEMS + 1))
    assert items.at[1, 'title'] == 'Misérables, Les'


@pytest.mark.parametrize('text,expected', [
    ('Toy Story (1995)', ('Toy Story', 1995)),
    ('unknown', ('unknown', None)),
    ('1-900 (1994)', ('1-900', 1994)),
    ('Two Friends (1986) ', ('Two Friends', 1986)),
    ('Foo (Bar) (1990) (V)', ('Foo (Bar) (V)', 1990)),
    ('Remake (1950) (1990)', ('Remake (1950)', 1990)),
])
def test_split_title(text, expected):
    assert split_title(text) == expected


def test_read_items_missing_file_says_where_and_what_to_do(
        synthetic_titles):
    path = synthetic_titles / 'ml-100k' / 'u.item'
    os.remove(path)
    with pytest.raises(DataError) as info:
        read_items_ml100k(synthetic_titles)
    message = str(info.value)
    assert str(path) in message
    assert 'ml-100k.zip' in message and DATA_DIR_ENV in message


@pytest.mark.parametrize('content,problem', [
    (b'', 'no movies'),
    (b'1|Toy Story (1995)|01-Jan-1995\n', "fields, expected 24"),
    (u_item_line('x', 'Toy Story (1995)', '').encode(), 'not a positive'),
    (u_item_line(0, 'Toy Story (1995)', '').encode(), 'not a positive'),
    (b'\x00\xff garbage', "fields, expected 24"),
    (u_item_bytes(3) + u_item_line(2, 'Again (1990)', '').encode(),
     'item id 2 appears twice'),
])
def test_read_items_garbled_file_is_a_data_error(synthetic_titles, content,
                                                 problem):
    path = synthetic_titles / 'ml-100k' / 'u.item'
    path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape(problem)) as info:
        read_items_ml100k(synthetic_titles)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content  # left as it is


def test_read_items_real_file():
    data_dir = os.environ.get(DATA_DIR_ENV)
    if not data_dir or not os.path.isfile(
            os.path.join(data_dir, 'ml-100k', 'u.item')):
        pytest.skip(f'{DATA_DIR_ENV} does not point at MovieLens 100K')
    items = read_items_ml100k(data_dir)
    assert len(items) == 1682
    assert list(items.index) == list(range(1, 1683))
    assert (items.at[1, 'title'], items.at[1, 'year']) == ('Toy Story',
                                                           1995)
    assert items.at[267, 'title'] == 'unknown'
    assert items.at[267, 'year'] is pd.NA
    assert items.at[543, 'title'] == 'Misérables, Les'
    assert items.year.isna().sum() == 1
    assert items.year.dropna().between(1900, 1999).all()
    assert not items.title.str.contains(r'\(\d{4}\)').any()
