"""Reading, splitting and loading MovieLens 100K (d2lrec.data, D2L §16.2),
on synthetic data in the real format: the splits (also the folds), the
interaction matrices and `ArrayLoader`.  Parsing the files:
test_movielens.py."""
import mxnet as mx
import numpy as np
import pandas as pd
import pytest
from mxnet import gluon

from d2lrec.data import (load_data_ml100k, read_data_ml100k,
                         split_data_ml100k)
from d2lrec.datasets import DataError
from d2lrec.mf import ArrayLoader
from support import (FOLDS, NUM_ITEMS, NUM_USERS, make_ratings,
                     ratings_matrix)

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
@pytest.mark.parametrize('mode', ['random', 'book'])
def test_random_split_rejects_bad_ratio(ratings, test_ratio, mode):
    data, nu, ni = ratings
    with pytest.raises(ValueError, match='test_ratio'):
        split_data_ml100k(data, nu, ni, mode, test_ratio)


@pytest.mark.parametrize('test_ratio', [0.1, 0.3])
def test_book_split_is_the_books_draw_from_a_fresh_generator(ratings,
                                                             test_ratio):
    data, nu, ni = ratings
    # The book's random mode (D2L §16.2), from MXNet's generator as a
    # fresh process starts it (test_book.py checks that it starts so).
    mx.random.seed(0)
    mask = [True if x == 1 else False for x in mx.np.random.uniform(
        0, 1, (len(data))) < 1 - test_ratio]
    next_draws = mx.np.random.uniform(0, 1, 5).asnumpy()
    mx.random.seed(42)  # the caller's own seed and draws
    mx.np.random.uniform(0, 1, 3)
    train, test = split_data_ml100k(data, nu, ni, 'book', test_ratio, 7)
    assert rows(train) == rows(data[mask])
    assert rows(test) == rows(data[[not x for x in mask]])
    # The generator is left where the book's split leaves it.
    np.testing.assert_array_equal(mx.np.random.uniform(0, 1, 5).asnumpy(),
                                  next_draws)


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


# Folds --------------------------------------------------------------------

def test_folds_partition_the_ratings(synthetic_folds):
    root, df = synthetic_folds
    tests = [split_data_ml100k(df, 30, 40, fold, data_dir=root)
             for fold in FOLDS]
    for train, test in tests:
        assert len(train) + len(test) == len(df)
        assert not set(train.index) & set(test.index)
    assert sorted(i for _, test in tests for i in test.index) == list(
        df.index)


def test_a_fold_that_does_not_match_the_data_is_refused(synthetic_folds):
    root, df = synthetic_folds
    with pytest.raises(DataError, match='does not belong'):
        split_data_ml100k(df.iloc[:100], 30, 40, 'u1', data_dir=root)
    (root / 'ml-100k' / 'u2.test').unlink()
    with pytest.raises(DataError, match='u2'):
        split_data_ml100k(df, 30, 40, 'u2', data_dir=root)


# ArrayLoader --------------------------------------------------------------

def test_array_loader_rollover_and_keep():
    users = np.arange(10)
    np.random.seed(0)
    loader = ArrayLoader((users, users, users), batch_size=4, shuffle=True,
                         last_batch='rollover')
    first = [b[0].asnumpy() for b in loader]
    second = [b[0].asnumpy() for b in loader]
    assert [len(b) for b in first] == [4, 4]  # 2 left over
    assert [len(b) for b in second] == [4, 4, 4]  # 2 + 10 = 12
    seen = np.concatenate(first + second)
    assert sorted(seen) == sorted(list(range(10)) * 2)
    assert len(set(seen[:8])) == 8
    keep = ArrayLoader((users, users, users.astype('float32')), batch_size=4)
    batches = list(keep)
    assert [len(b[0]) for b in batches] == [4, 4, 2] and len(keep) == 3
    assert batches[0][2].dtype == np.float32
    np.testing.assert_array_equal(batches[2][1].asnumpy(), [8, 9])


@pytest.mark.parametrize('last_batch', ['rollover', 'keep'])
def test_array_loader_gives_the_dataloaders_batches(last_batch):
    """Training on either is the same: same batches, same random draws."""
    rows = ratings_matrix(np.random.RandomState(0), (23, 5))
    batches = {}
    for name, loader in (
            ('gluon', gluon.data.DataLoader(rows, batch_size=4, shuffle=True,
                                            last_batch=last_batch)),
            ('d2lrec', ArrayLoader((rows,), batch_size=4, shuffle=True,
                                   last_batch=last_batch))):
        np.random.seed(3)
        batches[name] = [(len(loader), [b[0] if isinstance(b, list) else b
                                        for b in loader])
                         for _ in range(3)]  # epochs
        batches[name].append(np.random.uniform())  # the generator's state
    gluon_batches, d2lrec_batches = batches['gluon'], batches['d2lrec']
    assert gluon_batches[-1] == d2lrec_batches[-1]
    for (length, ours), (their_length, theirs) in zip(d2lrec_batches[:-1],
                                                      gluon_batches[:-1]):
        assert length == their_length and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype == np.float32
            np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
