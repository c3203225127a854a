"""Read, split and load MovieLens 100K (D2L §16.2, "The MovieLens Dataset").

The names, arguments and return values are the book's.  Three fixes: the
split takes a `seed` (``split_mode='book'`` draws the book's own unseeded
split exactly), ``u.data`` is read only once its sha256 says it is the
real file (`d2lrec.download`), by pandas' C engine, and the interaction
matrix is filled in one vectorized assignment instead of one element at
a time.  `get_dataloader_workers` keeps Gluon's DataLoader in the main process.
"""
import os

import mxnet as mx
import numpy as np
import pandas as pd
from mxnet.util import use_np

from d2lrec.datasets import FOLDS, SPLIT_MODES, U_DATA, U_DATA_COLUMNS
from d2lrec.download import download_extract_ml100k

#: The seed of MXNet's generators as a fresh process starts them.
MXNET_START_SEED = 0


def read_data_ml100k(data_dir=None):
    """Return ``(data, num_users, num_items)`` for ``u.data`` (D2L §16.2).

    `data_dir` is the data root (see `d2lrec.datasets.get_data_dir`).
    Unlike the book, the file is verified first: one that is not the
    real ``u.data`` raises `d2lrec.datasets.DataError` naming its first
    malformed line or value, else its hash (`d2lrec.download`).
    """
    path = os.path.join(download_extract_ml100k(data_dir), U_DATA)
    data = pd.read_csv(path, sep='\t', names=U_DATA_COLUMNS, dtype='int64',
                       engine='c')
    num_users = data.user_id.unique().shape[0]
    num_items = data.item_id.unique().shape[0]
    return data, num_users, num_items


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
            data, download_extract_ml100k(data_dir), split_mode)
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
    ratings: ``np.random.uniform(0, 1, n) < 1 - test_ratio``, drawn by
    MXNet on the CPU as D2L §16.2 draws it.  The book does not seed, and
    a fresh process starts MXNet's generators from `MXNET_START_SEED`, so
    this reseeds them all with it: they then stand where the book's split
    leaves them (seed again afterwards to draw from your own seed).
    """
    mx.random.seed(MXNET_START_SEED)
    draws = mx.np.random.uniform(0, 1, (n,), ctx=mx.cpu())
    return (draws < 1 - test_ratio).asnumpy()


@use_np
def load_data_ml100k(data, num_users, num_items, feedback='explicit'):
    """Return ``(users, items, scores, inter)`` with 0-based ids (D2L §16.2).

    For explicit feedback `inter` is the items x users rating matrix, an
    ``mxnet.np`` float32 array with 0 where unrated, as in the book; for
    implicit feedback it is a dict from user to the list of items that
    user rated, and every score is 1.
    """
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
    """Return 0: Gluon's DataLoader then loads in the main process (the
    book's ``d2l.get_dataloader_workers`` returns 4; D2L §16.4), as
    MXNet 1.9.1's workers print tracebacks at exit, only add time for
    1,682 rows, and rerun the book's unguarded script where processes
    start by spawn.  The batches are the same either way."""
    return 0
