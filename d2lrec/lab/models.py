"""The kinds of model d2lrec trains, each in one place (D2L §16.3/§16.4).

`DeepAutoRec` is AutoRec of any depth, with a choice of activations
(the chapter's exercises 1-3).  ``DeepAutoRec((500,), n)`` with the
defaults is the chapter's `d2lrec.autorec.AutoRec`: same layers, same
parameter order, so the same seed gives the same run
(``tests/test_autorec.py`` checks it).  Fed the rows of the items x
users matrix it is item-based AutoRec (I-AutoRec); fed the rows of the
users x items matrix (its transpose) it is user-based AutoRec
(U-AutoRec).

A `Config`'s ``model`` names one of `KINDS`:

- ``'autorec'``: the chapter's item-based AutoRec.  Its rows are the
  items: each row of the items x users rating matrix is one example.
- ``'uautorec'``: user-based AutoRec, fed the rows of the users x items
  matrix (the transpose).
- ``'mf'``: §16.3's matrix factorization, fed (user, item, rating)
  triples.

Each kind knows its net (`build_net`), how its data is loaded and
scored (`setup`: loaders and evaluator) and how it fills in the whole
rating matrix (`predict`).  A new kind is four additions:

- a class here, with the methods of the kinds below;
- its entry in `KINDS`;
- its name in `d2lrec.lab.config.MODELS`;
- its default epochs and batch size in `d2lrec.lab.config.DEFAULT_EPOCHS`
  and `d2lrec.lab.config.DEFAULT_BATCH_SIZE`.

tests/test_models.py adds one so, and trains it.
"""
import mxnet as mx
import numpy as onp
from mxnet import autograd, np, npx
from mxnet.base import MXNetError
from mxnet.gluon import nn
from mxnet.util import use_np

from d2lrec.data import load_data_ml100k
from d2lrec.lab.config import check
from d2lrec.lab.evaluation import (autorec_evaluator, mf_evaluator,
                                   reconstruct, row_batches)
from d2lrec.mf import MF, ArrayLoader, rating_loaders

#: (user, item) pairs per forward pass when MF predicts.
BATCH_PAIRS = 1 << 16


def rating_matrix(data, num_users, num_items):
    """The items x users NumPy rating matrix of the ratings `data`, 0
    where unrated: the ``inter`` of `load_data_ml100k` (D2L §16.2)."""
    return load_data_ml100k(data, num_users, num_items)[3].asnumpy()


def decoder_activation(name, x):
    """Apply decoder activation `name` to `x`, mapped onto ratings 1..5.

    A bounded activation cannot reach ratings above 1, so ``sigmoid`` is
    ``1 + 4 sigmoid(x)`` and ``tanh`` is ``3 + 2 tanh(x)``; ``relu`` and
    ``identity`` are used as they are.
    """
    if name == 'sigmoid':
        return 1 + 4 * npx.sigmoid(x)
    if name == 'tanh':
        return 3 + 2 * np.tanh(x)
    if name == 'relu':
        return npx.relu(x)
    return x


@use_np
class DeepAutoRec(nn.Block):
    """AutoRec with hidden layers `hidden_layers` (e.g. ``(500, 250, 500)``).

    Every hidden layer uses `encoder_act` and is followed by dropout; the
    output layer has `num_outputs` units and `decoder_act` (see
    `decoder_activation`).  As in the chapter, the output is masked by the
    sign of the input during training, so only observed ratings count.

    >>> net = DeepAutoRec((500, 250, 500), num_outputs=943)
    >>> net.initialize()
    >>> net(np.ones((2, 943))).shape
    (2, 943)
    """

    def __init__(self, hidden_layers, num_outputs, encoder_act='sigmoid',
                 decoder_act='identity', dropout=0.05):
        super().__init__()
        hidden_layers = check('hidden_layers', hidden_layers)
        check('encoder_act', encoder_act)
        check('decoder_act', decoder_act)
        self.encoder = nn.Sequential()
        for num_hidden in hidden_layers:
            self.encoder.add(nn.Dense(
                num_hidden, use_bias=True,
                activation=None if encoder_act == 'identity'
                else encoder_act))
            self.encoder.add(nn.Dropout(dropout))
        self.decoder = nn.Dense(num_outputs, use_bias=True)
        self.decoder_act = decoder_act

    def forward(self, input):
        pred = decoder_activation(self.decoder_act,
                                  self.decoder(self.encoder(input)))
        if autograd.is_training():  # Mask the gradient during training
            return pred * np.sign(input)
        return pred


class AutoRecKind:
    """AutoRec whose rows are the items (item-based, the chapter) or the
    users (user-based, `by_user`)."""

    def __init__(self, by_user=False):
        self.by_user = by_user

    def build_net(self, config, num_users, num_items):
        """A `DeepAutoRec` (D2L §16.4) with one output per column."""
        outputs = num_items if self.by_user else num_users
        return DeepAutoRec(config.hidden_layers, outputs, config.encoder_act,
                           config.decoder_act, config.dropout)

    def rows(self, data, num_users, num_items):
        """The rating matrix of `data` as this kind reads it, in NumPy:
        items x users, or users x items for user-based AutoRec."""
        inter = rating_matrix(data, num_users, num_items)
        return onp.ascontiguousarray(inter.T if self.by_user else inter)

    def setup(self, config, batch_size, train_data, test_data, num_users,
              num_items):
        """Return ``(train_iter, test_iter, evaluator, kwargs)`` for
        `d2lrec.train.train_recsys_rating`: the chapter's batches of rows
        and its evaluator, which scores against ``kwargs['inter_mat']``."""
        rows = self.rows(train_data, num_users, num_items)
        test_rows = self.rows(test_data, num_users, num_items)
        if batch_size > len(rows):
            raise ValueError(f'batch size {batch_size} is larger than the '
                             f'{len(rows)} rows of the matrix, so no batch '
                             f'would be full')
        train_iter = ArrayLoader((rows,), batch_size, shuffle=True,
                                 last_batch='rollover')
        test_iter = row_batches(rows)
        evaluate = autorec_evaluator(rows, config.clip, config.unseen_rating)
        return (train_iter, test_iter, evaluate,
                {'inter_mat': mx.np.array(test_rows)})

    def predict(self, net, num_users, num_items, data, device):
        """The net's reconstruction of every row of `data`'s matrix, as
        an items x users NumPy array; ValueError if the net does not take
        and give rows of that width."""
        rows = self.rows(data, num_users, num_items)
        try:
            pred = reconstruct(net, row_batches(rows, device), [device],
                               device).asnumpy()
        except MXNetError as e:
            pred = e
        if not isinstance(pred, onp.ndarray) or pred.shape != rows.shape:
            got = ('fails on them' if not isinstance(pred, onp.ndarray)
                   else f'predicts {pred.shape[1]} ratings per row')
            model = 'uautorec' if self.by_user else 'autorec'
            column = 'item' if self.by_user else 'user'
            raise ValueError(
                f'the {model} model reads and predicts rows of '
                f'{rows.shape[1]} ratings, one per {column}, but the net '
                f'{got}: it was built for other data')
        return pred.T if self.by_user else pred


class MFKind:
    """§16.3's matrix factorization, on (user, item, rating) triples."""

    def build_net(self, config, num_users, num_items):
        return MF(config.num_factors, num_users, num_items)

    def setup(self, config, batch_size, train_data, test_data, num_users,
              num_items):
        """Return ``(train_iter, test_iter, evaluator, {})``: loaders of
        rating triples and the RMSE over every test rating."""
        train_iter, test_iter = rating_loaders(
            train_data, test_data, num_users, num_items, batch_size)
        train_users, train_items, _ = train_iter.arrays
        evaluate = mf_evaluator(train_users, train_items, config.clip,
                                config.unseen_rating)
        return train_iter, test_iter, evaluate, {}

    def predict(self, net, num_users, num_items, data, device):
        """The net's score of every (user, item) pair, items x users;
        `data` is not needed."""
        for name, count in (('P', num_users), ('Q', num_items)):
            layer = getattr(net, name, None)  # absent: not an MF
            rows = count if layer is None else layer.weight.shape[0]
            if rows != count:
                raise ValueError(
                    f'the MF net has {rows} rows in {name}, but there are '
                    f'{count} {"users" if name == "P" else "items"}: it '
                    f'was built for other data')
        items_per_batch = max(1, BATCH_PAIRS // num_users)
        users = onp.arange(num_users, dtype=onp.int32)
        parts = []
        for start in range(0, num_items, items_per_batch):
            items = onp.arange(start, min(start + items_per_batch,
                                          num_items), dtype=onp.int32)
            u = mx.np.array(onp.tile(users, len(items)), ctx=device,
                            dtype='int32')
            i = mx.np.array(onp.repeat(items, num_users), ctx=device,
                            dtype='int32')
            parts.append(net(u, i).asnumpy().reshape(len(items), num_users))
        return onp.concatenate(parts)


#: Every kind of model, by the name a `Config` gives it.
KINDS = {'autorec': AutoRecKind(), 'uautorec': AutoRecKind(by_user=True),
         'mf': MFKind()}


@use_np
def build_net(config, num_users, num_items):
    """Return the uninitialized net of a `Config`: a `DeepAutoRec`
    (D2L §16.4) with one output per user (``'autorec'``) or per item
    (``'uautorec'``), or §16.3's `MF` (``'mf'``)."""
    return KINDS[config.model].build_net(config, num_users, num_items)


@use_np
def predict(net, model, num_users, num_items, data, device):
    """The items x users ratings that `net`, of kind `model`, predicts
    from `data`, in inference mode on `device` (see
    `d2lrec.lab.recommendations.predict_ratings`)."""
    with mx.autograd.pause(train_mode=False):
        return KINDS[model].predict(net, num_users, num_items, data, device)
