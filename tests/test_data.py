"""Reading, splitting and loading MovieLens 100K (d2lrec.data, D2L §16.2),
on synthetic data in the real format; ``u.item`` also on the real file if
``D2LREC_DATA_DIR`` points at it."""
import os
import re

import mxnet as mx
import numpy as np
import pandas as pd
import pytest

from conftest import (NUM_ITEMS, NUM_USERS, make_ratings, u_item_bytes,
                      u_item_line)
from d2lrec.data import (load_data_ml100k, read_data_ml100k,
                         read_items_ml100k, split_data_ml100k)
from d2lrec.download import DATA_DIR_ENV, DataError
from d2lrec.movielens import split_title

COLUMNS = ['user_id', 'item_id', 'rating', 'timestamp']


def book_seq_aware_split(data, num_users):
    """The book's seq-aware loop (D2L §16.2), as the reference: per user
    the test rating is the first one with the latest time (strict ``<``),
    the training ratings are the user's others sorted stably by time, and
    the users come in order 1..num_users."""
    train_items, test_items = {}, {}
    for pos, line in enumerate(data.itertuples(index=False)):
        u, i, rating, time = line[0], line[1], line[2], line[3]
        train_items.setdefault(u, []).append((pos, (u, i, rating, time)))
        if u not in test_items or test_items[u][1][3] < time:
            test_items[u] = (pos, (u, i, rating, time))
    train_list = []
    for u in range(1, num_users + 1):
        others = [row for pos, row in train_items[u]
                  if pos != test_items[u][0]]
        train_list.extend(sorted(others, key=lambda k: k[3]))
    test_list = [row for pos, row in test_items.values()]
    return train_list, test_list


def rows(frame):
    return [tuple(int(v) for v in row)
            for row in frame[COLUMNS].itertuples(index=False)]


def test_read_data_ml100k(synthetic_ml100k):
    root, written = synthetic_ml100k
    data, num_users, num_items = read_data_ml100k(root)
    assert list(data.columns) == COLUMNS
    assert all(dtype == np.int64 for dtype in data.dtypes)
    assert (num_users, num_items) == (NUM_USERS, NUM_ITEMS)
    pd.testing.assert_frame_equal(data, written.reset_index(drop=True))


def test_read_data_accepts_str_root(synthetic_ml100k):
    root, written = synthetic_ml100k
    data, _, _ = read_data_ml100k(str(root))
    assert len(data) == len(written)


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


# Splits -------------------------------------------------------------------

def test_random_split_same_seed_same_split(ratings):
    data, nu, ni = ratings
    train1, test1 = split_data_ml100k(data, nu, ni, 'random', 0.1, seed=3)
    train2, test2 = split_data_ml100k(data, nu, ni, 'random', 0.1, seed=3)
    pd.testing.assert_frame_equal(train1, train2)
    pd.testing.assert_frame_equal(test1, test2)


def test_random_split_different_seeds_differ(ratings):
    data, nu, ni = ratings
    tests = [split_data_ml100k(data, nu, ni, 'random', 0.1, seed=s)[1]
             for s in range(3)]
    indexes = [frozenset(t.index) for t in tests]
    assert len(set(indexes)) == 3


def test_random_split_default_seed_is_fixed(ratings):
    data, nu, ni = ratings
    _, test1 = split_data_ml100k(data, nu, ni)
    _, test2 = split_data_ml100k(data, nu, ni)
    pd.testing.assert_frame_equal(test1, test2)


@pytest.mark.parametrize('seed', [0, 7])
def test_random_split_partitions_the_data(ratings, seed):
    data, nu, ni = ratings
    train, test = split_data_ml100k(data, nu, ni, 'random', 0.2, seed)
    assert len(train) > 0 and len(test) > 0
    assert not set(train.index) & set(test.index)
    assert len(train) + len(test) == len(data)
    assert list(train.columns) == list(test.columns) == COLUMNS
    both = pd.concat([train, test]).sort_index()
    pd.testing.assert_frame_equal(both, data)
    # Each part keeps the data's order.
    assert train.index.is_monotonic_increasing
    assert test.index.is_monotonic_increasing


@pytest.mark.parametrize('test_ratio', [0.1, 0.25, 0.5])
@pytest.mark.parametrize('seed', [0, 1])
def test_random_split_test_share(test_ratio, seed):
    data = make_ratings(num_users=200, num_items=150, num_ratings=20000,
                        seed=1)
    train, test = split_data_ml100k(data, 200, 150, 'random', test_ratio,
                                    seed)
    assert len(train) + len(test) == 20000
    assert abs(len(test) / len(data) - test_ratio) <= 0.01


@pytest.mark.parametrize('test_ratio', [0, 1, -0.1, 1.5, float('nan')])
def test_random_split_rejects_bad_ratio(ratings, test_ratio):
    data, nu, ni = ratings
    with pytest.raises(ValueError, match='test_ratio'):
        split_data_ml100k(data, nu, ni, 'random', test_ratio)


@pytest.mark.parametrize('mode', ['foo', 'seq_aware', 'Random', None])
def test_split_rejects_unknown_mode(ratings, mode):
    data, nu, ni = ratings
    with pytest.raises(ValueError, match='split_mode'):
        split_data_ml100k(data, nu, ni, mode)


def test_seq_aware_matches_the_books_loop(ratings):
    data, nu, ni = ratings
    # The synthetic data must exercise the tie-breaking and the sort.
    latest = data.groupby('user_id').timestamp.transform('max')
    ties = (data.timestamp == latest).groupby(data.user_id).sum()
    assert (ties > 1).sum() >= 5
    assert not data.timestamp.is_monotonic_increasing

    train, test = split_data_ml100k(data, nu, ni, 'seq-aware')
    ref_train, ref_test = book_seq_aware_split(data, nu)
    assert rows(train) == ref_train
    assert rows(test) == ref_test
    assert len(test) == nu
    assert len(train) + len(test) == len(data)
    assert list(train.columns) == list(test.columns) == COLUMNS


def test_seq_aware_on_a_shuffled_frame(ratings):
    data, nu, ni = ratings
    shuffled = data.sample(frac=1, random_state=5).reset_index(drop=True)
    train, test = split_data_ml100k(shuffled, nu, ni, 'seq-aware')
    ref_train, ref_test = book_seq_aware_split(shuffled, nu)
    assert rows(train) == ref_train
    assert rows(test) == ref_test


def explicit_reference(data, num_users, num_items):
    inter = np.zeros((num_items, num_users), dtype=np.float32)
    for u, i, r, _ in data[COLUMNS].itertuples(index=False):
        inter[i - 1, u - 1] = r
    return inter


@pytest.mark.parametrize('part', ['all', 'train', 'test'])
def test_load_explicit(ratings, part):
    data, nu, ni = ratings
    if part != 'all':
        train, test = split_data_ml100k(data, nu, ni, 'random', 0.3, 1)
        data = train if part == 'train' else test
    users, items, scores, inter = load_data_ml100k(data, nu, ni)
    assert isinstance(inter, mx.np.ndarray)
    assert inter.dtype == np.float32
    assert inter.shape == (ni, nu)
    np.testing.assert_array_equal(inter.asnumpy(),
                                  explicit_reference(data, nu, ni))
    assert users == [u - 1 for u in data.user_id]
    assert items == [i - 1 for i in data.item_id]
    assert scores == list(data.rating)
    assert all(type(v) is int for v in users + items + scores)


def test_load_explicit_is_the_default_and_counts_ratings(ratings):
    data, nu, ni = ratings
    _, _, _, inter = load_data_ml100k(data, nu, ni, 'explicit')
    counts = (inter.asnumpy() > 0).sum()
    assert counts == len(data)
    assert float(inter.sum()) == data.rating.sum()


def test_load_implicit(ratings):
    data, nu, ni = ratings
    users, items, scores, inter = load_data_ml100k(data, nu, ni,
                                                   'implicit')
    assert isinstance(inter, dict)
    assert scores == [1] * len(data)
    assert users == [u - 1 for u in data.user_id]
    assert items == [i - 1 for i in data.item_id]
    expected = {}
    for u, i in zip(data.user_id, data.item_id):
        expected.setdefault(u - 1, []).append(i - 1)
    assert inter == expected
    assert list(inter) == list(expected)  # users in order of appearance
    assert sorted(inter) == list(range(nu))


@pytest.mark.parametrize('feedback', ['Explicit', 'foo', None])
def test_load_rejects_unknown_feedback(ratings, feedback):
    data, nu, ni = ratings
    with pytest.raises(ValueError, match='feedback'):
        load_data_ml100k(data, nu, ni, feedback)
