"""Read, split and load MovieLens (D2L §16.2, "The MovieLens Dataset").

The names, arguments and return values are the book's; `read_data` reads
any dataset of `d2lrec.datasets`.  Three fixes: the split takes a `seed`
(``split_mode='book'`` draws the book's own split exactly), the ratings
are read once their hash says they are the real ones, and the rating
matrix is filled in one vectorized assignment.
"""
import collections
import io
import os

import mxnet as mx
import numpy as np
import pandas as pd
from mxnet.util import use_np

from d2lrec.datasets import COLUMNS, DATASETS, DEFAULT, FOLDS, SPLIT_MODES
from d2lrec.download import download_extract

#: The seed of MXNet's generators as a fresh process starts them.
MXNET_START_SEED = 0

#: A dataset's ratings (`d2lrec.datasets.COLUMNS`), users and items.
Ratings = collections.namedtuple('Ratings', 'data num_users num_items')


def read_data(name=DEFAULT, data_dir=None):
    """Return the `Ratings` of the dataset `name` under the data root
    `data_dir`, verified first (`d2lrec.download.download_extract`); ids
    run 1..n, as the book's rating matrix needs."""
    dataset = DATASETS[name]
    path = os.path.join(download_extract(name, data_dir=data_dir),
                        dataset.ratings)
    with open(path, 'rb') as f:
        text = f.read().replace(dataset.sep.encode(), b'\t')
    data = pd.read_csv(io.BytesIO(text), sep='\t', names=COLUMNS,
                       dtype='int64', engine='c')
    for column in ('user_id', 'item_id'):  # ids with gaps: 1..n, in order
        ids = np.unique(data[column].to_numpy())
        if ids[-1] > len(ids):
            data[column] = np.searchsorted(ids, data[column]) + 1
    num_users = data.user_id.unique().shape[0]
    num_items = data.item_id.unique().shape[0]
    return Ratings(data, num_users, num_items)


def read_data_ml100k(data_dir=None):
    """Return ``(data, num_users, num_items)`` of MovieLens 100K (D2L
    §16.2), a `Ratings`."""
    return read_data('ml-100k', data_dir)


def split_data_ml100k(data, num_users, num_items, split_mode='random',
                      test_ratio=0.1, seed=0, data_dir=None):
    """Split the dataset in random mode or seq-aware mode (D2L §16.2).

    ``random``: each rating goes to the test set with probability
    `test_ratio`, drawn from ``numpy.random.RandomState(seed)``.
    ``book``: the book's random split, as its code draws it in a fresh
    process (`book_split_mask`); `seed` is not used.  ``seq-aware``: each
    user's most recent rating is the test set, the rest (oldest first)
    the training set.  ``u1`` ... ``u5``: the canonical 80/20 folds
    (``u1.test`` ... under the data root `data_dir`).  All return
    DataFrames with the columns of `data`.
    """
    if split_mode not in SPLIT_MODES:
        raise ValueError(f'split_mode must be one of {SPLIT_MODES}, got '
                         f'{split_mode!r}')
    if split_mode == 'seq-aware':
        data = data.reset_index(drop=True)  # positions as labels
        # The book keeps, per user, the first rating with the latest time.
        test_index = data.groupby('user_id', sort=False).timestamp.idxmax()
        test_data = data.loc[test_index.to_numpy()]
        train_data = data.drop(index=test_data.index).sort_values(
            ['user_id', 'timestamp'], kind='stable')
    elif split_mode in FOLDS:
        from d2lrec.movielens import fold_test_rows
        test_data = fold_test_rows(
            data, download_extract(DEFAULT, data_dir=data_dir), split_mode)
        train_data = data.drop(index=test_data.index)
    else:  # random or book
        if not 0 < test_ratio < 1:
            raise ValueError(f'test_ratio must be in (0, 1), got '
                             f'{test_ratio!r}')
        if split_mode == 'book':
            mask = book_split_mask(len(data), test_ratio)
        else:
            rng = np.random.RandomState(seed)
            mask = rng.uniform(0, 1, len(data)) < 1 - test_ratio
        train_data, test_data = data[mask], data[~mask]
    return train_data, test_data


def book_split_mask(n, test_ratio):
    """Return the training mask of the book's random split of `n`
    ratings, drawn by MXNet as D2L §16.2 draws it, unseeded: from
    `MXNET_START_SEED`, with which it reseeds MXNet's generators."""
    mx.random.seed(MXNET_START_SEED)
    draws = mx.np.random.uniform(0, 1, (n,), ctx=mx.cpu())
    return (draws < 1 - test_ratio).asnumpy()


@use_np
def load_data_ml100k(data, num_users, num_items, feedback='explicit'):
    """Return ``(users, items, scores, inter)`` with 0-based ids (D2L
    §16.2): `inter` is the items x users rating matrix (float32, 0 where
    unrated), or for implicit feedback a dict from user to items."""
    users = (data.user_id.to_numpy() - 1).tolist()
    items = (data.item_id.to_numpy() - 1).tolist()
    if feedback == 'explicit':
        scores = data.rating.to_numpy().tolist()
        inter = np.zeros((num_items, num_users), dtype=np.float32)
        inter[items, users] = scores
        inter = mx.np.array(inter)
    elif feedback == 'implicit':
        scores = [1] * len(users)
        inter = {}
        for u, i in zip(users, items):
            inter.setdefault(u, []).append(i)
    else:
        raise ValueError(f"feedback must be 'explicit' or 'implicit', got "
                         f'{feedback!r}')
    return users, items, scores, inter


def get_dataloader_workers():
    """Return 0, not the book's 4 (D2L §16.4): MXNet 1.9.1's DataLoader
    workers print tracebacks at exit, add time, and rerun the book's
    unguarded script where processes start by spawn."""
    return 0
