"""Matrix factorization (D2L §16.3) on d2lrec's data path.

`MF` is the book's model; its evaluator is
`d2lrec.lab.evaluation.rmse_evaluator`.  `split_and_load_ml100k`
keeps the book's name and return values, but its loaders are
`ArrayLoader`s, which batch NumPy arrays as Gluon's DataLoader does:
the DataLoader fetches the 90,000 training ratings one at a time, every
epoch.
"""
import numpy as onp
from mxnet import np
from mxnet.gluon import nn
from mxnet.util import use_np

from d2lrec.data import (load_data_ml100k, read_data_ml100k,
                         split_data_ml100k)


class MF(nn.Block):
    def __init__(self, num_factors, num_users, num_items, **kwargs):
        super(MF, self).__init__(**kwargs)
        self.P = nn.Embedding(input_dim=num_users, output_dim=num_factors)
        self.Q = nn.Embedding(input_dim=num_items, output_dim=num_factors)
        self.user_bias = nn.Embedding(num_users, 1)
        self.item_bias = nn.Embedding(num_items, 1)

    def forward(self, user_id, item_id):
        P_u = self.P(user_id)
        Q_i = self.Q(item_id)
        b_u = self.user_bias(user_id)
        b_i = self.item_bias(item_id)
        outputs = (P_u * Q_i).sum(axis=1) + np.squeeze(b_u) + np.squeeze(b_i)
        return outputs.flatten()


MF = use_np(MF)  # the book's class, in its NumPy mode whatever the caller's


@use_np
def split_and_load_ml100k(split_mode='seq-aware', feedback='explicit',
                          test_ratio=0.1, batch_size=256, seed=0,
                          data=None, data_dir=None):
    """Return ``(num_users, num_items, train_iter, test_iter)`` of rating
    triples (D2L §16.2).  `data` is ``read_data_ml100k()``'s result, to
    reuse a loaded dataset; otherwise it is read from `data_dir`."""
    df, num_users, num_items = data or read_data_ml100k(data_dir)
    train_data, test_data = split_data_ml100k(
        df, num_users, num_items, split_mode, test_ratio, seed)
    return (num_users, num_items,
            *rating_loaders(train_data, test_data, num_users, num_items,
                            batch_size, feedback))


def rating_loaders(train_data, test_data, num_users, num_items, batch_size,
                   feedback='explicit'):
    """Return ``(train_iter, test_iter)``, `ArrayLoader`s of the rating
    triples ``[users, items, ratings]`` (int32, int32, float32) of two
    splits (D2L §16.2): the training one shuffled, its last partial batch
    rolled over into the next epoch."""
    loaders = []
    for frame, training in ((train_data, True), (test_data, False)):
        users, items, scores, _ = load_data_ml100k(frame, num_users,
                                                   num_items, feedback)
        loaders.append(ArrayLoader(
            (onp.asarray(users, dtype=onp.int32),
             onp.asarray(items, dtype=onp.int32),
             onp.asarray(scores, dtype=onp.float32)), batch_size,
            shuffle=training, last_batch='rollover' if training else 'keep'))
    return tuple(loaders)


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
        self.arrays = tuple(onp.asarray(a) for a in arrays)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.last_batch = last_batch
        self._leftover = onp.zeros(0, dtype=onp.int64)

    def __iter__(self):
        n = len(self.arrays[0])
        order = onp.random.permutation(n) if self.shuffle else onp.arange(n)
        if self.last_batch == 'rollover':
            order = onp.concatenate([self._leftover, order])
            end = len(order) - len(order) % self.batch_size
            self._leftover = order[end:]
            order = order[:end]
        for start in range(0, len(order), self.batch_size):
            index = order[start:start + self.batch_size]
            yield [np.array(a[index], dtype=a.dtype) for a in self.arrays]

    def __len__(self):
        """The number of batches in the next epoch, as the DataLoader
        counts them."""
        n = len(self.arrays[0])
        if self.last_batch == 'rollover':
            return (len(self._leftover) + n) // self.batch_size
        return -(-n // self.batch_size)
