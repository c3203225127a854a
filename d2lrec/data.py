"""Read, split and load MovieLens 100K (D2L §16.2, "The MovieLens Dataset").

The names, arguments and return values are the book's.  Three fixes: the
split takes a `seed` (``split_mode='book'`` draws the book's own unseeded
split exactly), ``u.data`` is parsed by pandas' C engine and
checked (`d2lrec.movielens`), and the interaction matrix is filled in one
vectorized assignment instead of one element at a time.
`read_items_ml100k` adds the movies' titles from ``u.item``.
`get_dataloader_workers` keeps Gluon's DataLoader in the main process.
`ArrayLoader` batches NumPy arrays as Gluon's DataLoader does, without
fetching them row by row.
"""
import os

import mxnet as mx
import numpy as np
import pandas as pd
from mxnet.util import use_np

from d2lrec.config import FOLDS, check
from d2lrec.download import (DATA_DIR_ENV, DATA_HUB, DataError,
                             download_extract_ml100k, where_to_put)
from d2lrec.movielens import U_DATA_COLUMNS, U_ITEM, read_u_data, read_u_item

#: The seed of MXNet's generators in a fresh process: its first draws
#: are those after ``mx.random.seed(0)``.
MXNET_START_SEED = 0


def read_data_ml100k(data_dir=None):
    """Return ``(data, num_users, num_items)`` for ``u.data`` (D2L §16.2).

    `data_dir` is the data root (see `d2lrec.download.get_data_dir`).
    Unlike the book, the file is checked as it is read (still by pandas'
    C parser): a malformed line, a rating outside 1..5, or an id
    below 1 or beyond the counts of ``u.info`` (without ``u.info``: beyond
    the number of distinct ids, which sizes the rating matrix) raises
    `d2lrec.download.DataError` naming the file, the line and the value;
    see `d2lrec.movielens.read_u_data`.
    """
    folder = download_extract_ml100k(data_dir)
    try:
        data = read_u_data(folder)
    except ValueError as e:
        raise DataError(f'{e}. It was left as it is; fix it or replace it '
                        f'with the real file. ' + where_to_put(
                            'ml-100k', os.path.dirname(folder))) from e
    num_users = data.user_id.unique().shape[0]
    num_items = data.item_id.unique().shape[0]
    return data, num_users, num_items


def read_items_ml100k(data_dir=None):
    """Return the movies of ``u.item`` (MovieLens 100K, D2L §16.2): a
    DataFrame indexed by ``item_id`` with the columns ``title`` and
    ``year`` (see `d2lrec.movielens.read_u_item`).

    `data_dir` is the data root (see `d2lrec.download.get_data_dir`).  A
    missing or garbled ``u.item`` raises `d2lrec.download.DataError`.
    """
    folder = download_extract_ml100k(data_dir)
    path = os.path.join(folder, U_ITEM)
    url = DATA_HUB['ml-100k'][0]
    try:
        return read_u_item(folder)
    except OSError as e:
        raise DataError(
            f'cannot read the movie titles {path}: {e.strerror or e}. '
            f'It ships in ml-100k.zip ({url}); copy u.item from there '
            f'into {folder}, or point {DATA_DIR_ENV} (or data_dir=) at a '
            f'root whose ml-100k/ has it.') from e
    except ValueError as e:
        raise DataError(
            f'{path} is not the MovieLens 100K u.item: {e}. It was left '
            f'as it is; replace it with the u.item of ml-100k.zip '
            f'({url}).') from e


def split_data_ml100k(data, num_users, num_items, split_mode='random',
                      test_ratio=0.1, seed=0, data_dir=None):
    """Split the dataset in random mode or seq-aware mode (D2L §16.2).

    ``random``: each rating goes to the test set with probability
    `test_ratio`, drawn from ``numpy.random.RandomState(seed)``, so the same
    seed gives the same split.  ``book``: the book's random split, drawn
    as the book draws it (MXNet's ``np.random.uniform``) from MXNet's
    generator as a fresh process starts it (`book_split_mask`), so it is
    the test set the book's code gets, whatever was drawn before; `seed`
    is not used.  ``seq-aware``: each user's most recent
    rating is the test set, the rest (oldest first) the training set.
    ``u1`` ... ``u5``: the canonical 80/20 folds shipped with ML-100K
    (``u1.test`` ... under the data root `data_dir`), whose test sets
    partition the ratings.  All return DataFrames with the columns of
    `data`.
    """
    check('split_mode', split_mode)
    if split_mode == 'seq-aware':
        data = data.reset_index(drop=True)  # positions as labels
        # The book keeps, per user, the first rating with the latest time.
        test_index = data.groupby('user_id', sort=False).timestamp.idxmax()
        test_data = data.loc[test_index.to_numpy()]
        train_data = data.drop(index=test_data.index).sort_values(
            ['user_id', 'timestamp'], kind='stable')
    elif split_mode in FOLDS:
        test_data = _fold_test_rows(data, split_mode, data_dir)
        train_data = data.drop(index=test_data.index)
    else:  # random or book
        check('test_ratio', test_ratio)
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
    MXNet on the CPU as D2L §16.2 draws it, from MXNet's generator as a
    fresh process starts it.

    The book does not seed, and a fresh process starts MXNet's generators
    from seed 0 (`MXNET_START_SEED`), so this reseeds them all with it
    first: the caller's own ``mx.random.seed`` is then replaced, and the
    generators stand where the book's split leaves them in a fresh
    process (seed again afterwards to draw from your own seed).
    """
    mx.random.seed(MXNET_START_SEED)
    draws = mx.np.random.uniform(0, 1, (n,), ctx=mx.cpu())
    return (draws < 1 - test_ratio).asnumpy()


def _fold_test_rows(data, fold, data_dir):
    """The rows of `data` that ``<fold>.test`` lists (D2L §16.2 data)."""
    path = os.path.join(download_extract_ml100k(data_dir), f'{fold}.test')
    try:
        test = pd.read_csv(path, sep='\t', names=U_DATA_COLUMNS, dtype='int64')
    except (OSError, ValueError) as e:
        raise DataError(f'cannot read the fold {fold} from {path}: {e}. '
                        f'It ships in ml-100k.zip; re-extract the zip or '
                        f'use another split.') from e
    pairs = pd.MultiIndex.from_frame(data[['user_id', 'item_id']])
    is_test = pairs.isin(pd.MultiIndex.from_frame(test[['user_id',
                                                         'item_id']]))
    if is_test.sum() != len(test):
        raise DataError(f'{path} lists {len(test)} ratings, of which '
                        f'{is_test.sum()} are in the data: it does not '
                        f'belong to this u.data.')
    return data[is_test]


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
    book's ``d2l.get_dataloader_workers``, which returns 4; D2L §16.4).

    MXNet 1.9.1's worker pool prints "Exception ignored" tracebacks when
    the script ends, and for the chapter's 1,682 rows it only adds time;
    where processes start by spawn (macOS, Windows), workers would rerun
    the book's unguarded script.  The batches are the same either way.
    """
    return 0


class ArrayLoader:
    """Batches of the rows of NumPy `arrays`, each batch a list of
    ``mxnet.np`` arrays, one per array (cf. Gluon's ``DataLoader``).

    The batches are those of ``DataLoader`` on the same data, which
    fetches rows one at a time: with `shuffle` the order comes from
    NumPy's global generator, drawn as the DataLoader draws it; with
    ``last_batch='rollover'`` the rows left over from an epoch start the
    next one, with ``'keep'`` the last batch may be smaller.
    """

    def __init__(self, arrays, batch_size, shuffle=False, last_batch='keep'):
        if last_batch not in ('keep', 'rollover'):
            raise ValueError(f"last_batch must be 'keep' or 'rollover', got "
                             f'{last_batch!r}')
        self.arrays = tuple(np.asarray(a) for a in arrays)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.last_batch = last_batch
        self._leftover = np.zeros(0, dtype=np.int64)

    def __iter__(self):
        n = len(self.arrays[0])
        order = np.random.permutation(n) if self.shuffle else np.arange(n)
        if self.last_batch == 'rollover':
            order = np.concatenate([self._leftover, order])
            end = len(order) - len(order) % self.batch_size
            self._leftover = order[end:]
            order = order[:end]
        for start in range(0, len(order), self.batch_size):
            index = order[start:start + self.batch_size]
            yield [mx.np.array(a[index], dtype=a.dtype) for a in self.arrays]

    def __len__(self):
        """The number of batches in the next epoch, as the DataLoader
        counts them."""
        n = len(self.arrays[0])
        if self.last_batch == 'rollover':
            return (len(self._leftover) + n) // self.batch_size
        return -(-n // self.batch_size)
