"""Matrix factorization (D2L §16.3) on d2lrec's data path.

`MF` is the book's model.  `rmse_evaluator` computes the RMSE over all
test ratings: the book's evaluator averages the running RMSE over
batches, which is not the RMSE of the test set.  `split_and_load_ml100k`
keeps the book's name and return values, but its loaders are
`RatingLoader`s: Gluon's DataLoader fetches the 90,000 training ratings
one at a time, every epoch.
"""
import math

import numpy as onp
from mxnet import np
from mxnet.gluon import nn

from d2lrec.data import load_data_ml100k, read_data_ml100k, split_data_ml100k
from d2lrec.devices import split_batch


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


def rmse_evaluator(net, test_iter, devices):
    """Return the RMSE of `net` over every rating in `test_iter`
    (D2L §16.3)."""
    squared_error, count = 0., 0
    for batch in test_iter:
        for u, i, r in split_batch(batch, devices):
            squared_error += float(np.square(net(u, i) - r).sum())
            count += r.shape[0]
    return math.sqrt(squared_error / count)


class RatingLoader:
    """Batches of ``[users, items, ratings]`` (cf. Gluon's DataLoader).

    Shuffles with NumPy's global generator, as the DataLoader does; with
    ``last_batch='rollover'`` the samples left over from an epoch start
    the next one, with ``'keep'`` the last batch may be smaller.
    """

    def __init__(self, users, items, scores, batch_size, shuffle=False,
                 last_batch='keep'):
        if last_batch not in ('keep', 'rollover'):
            raise ValueError(f"last_batch must be 'keep' or 'rollover', got "
                             f'{last_batch!r}')
        self.arrays = (onp.asarray(users, dtype=onp.int32),
                       onp.asarray(items, dtype=onp.int32),
                       onp.asarray(scores, dtype=onp.float32))
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
        return math.ceil(len(self.arrays[0]) / self.batch_size)


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
    """Return ``(train_iter, test_iter)``, `RatingLoader`s of the rating
    triples of two splits (D2L §16.2): the training one shuffled, its
    last partial batch rolled over into the next epoch."""
    loaders = []
    for frame, training in ((train_data, True), (test_data, False)):
        users, items, scores, _ = load_data_ml100k(frame, num_users,
                                                   num_items, feedback)
        loaders.append(RatingLoader(
            users, items, scores, batch_size, shuffle=training,
            last_batch='rollover' if training else 'keep'))
    return tuple(loaders)
