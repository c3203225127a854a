"""Evaluation and prediction (D2L §16.3, §16.4): the RMSE over observed
ratings, a net's reconstruction of rows in batches, and the evaluators of
d2lrec's runs, one per model kind, each written once.

The evaluators have two options of the standard rating-prediction
protocols, off in the chapter and on in the tuned preset:

- `unseen_rating`: a test rating whose user or item has no rating in the
  training set is predicted as this constant.  The AutoRec paper (Sedhain
  et al., 2015) uses 3, the middle of the 1-5 scale.
- `clip`: predictions are clipped to the rating range [1, 5].

`autorec_evaluator` gives the test RMSE of the chapter's ``evaluator``
(kept verbatim in `d2lrec.autorec` for the notebook), bit for bit when
both options are off, from the same forward passes and arithmetic
(`observed_rmse`), without copying each of the 1682 rows through Python.
`rmse_evaluator` is MF's (§16.3): the RMSE over every test rating, where
the book's averages the running RMSE over batches.
"""
import functools
import math

import mxnet as mx
import numpy as onp
from mxnet import np
from mxnet.util import use_np

from d2lrec.devices import split_batch
from d2lrec.datasets import RATING_RANGE

#: Rows per forward pass when AutoRec evaluates or predicts: the
#: chapter's test_iter.
EVAL_BATCH_SIZE = 1024


@use_np
def observed_rmse(test_data, pred):
    """The RMSE of `pred` over the observed entries of `test_data` (those
    not 0), as the chapter's evaluator computes it, in the arrays' own
    type (MXNet's or NumPy's) and dtype."""
    xp = np if isinstance(test_data, np.ndarray) else onp
    observed = xp.sign(test_data)
    return float(xp.sqrt(xp.sum(xp.square(test_data - observed * pred))
                         / xp.sum(observed)))


def row_batches(rows, ctx=None):
    """The NumPy matrix `rows` as MXNet arrays of `EVAL_BATCH_SIZE` rows
    on `ctx`: the chapter's test_iter."""
    return [mx.np.array(rows[start:start + EVAL_BATCH_SIZE], ctx=ctx)
            for start in range(0, len(rows), EVAL_BATCH_SIZE)]


def reconstruct(network, inter_matrix, devices, ctx):
    """Return `network`'s reconstruction of the rows of `inter_matrix`
    (batches of rows, as `row_batches` makes them, each split over
    `devices`), as one array on `ctx`."""
    return np.concatenate([network(part).as_in_ctx(ctx)
                           for values in inter_matrix
                           for (part,) in split_batch([values], devices)])


def unseen_entries(train_matrix):
    """The entries of the NumPy rating matrix `train_matrix` (0 where
    unrated) whose row or column has no rating: a user or an item that
    the training set does not show."""
    unrated = train_matrix == 0
    return unrated.all(axis=1)[:, None] | unrated.all(axis=0)[None, :]


def adjust_predictions(pred, unseen, clip=False, unseen_rating=None):
    """Return NumPy `pred` (in float64) with `unseen` entries set to
    `unseen_rating` (if given) and everything clipped to `RATING_RANGE`
    (if `clip`)."""
    pred = onp.array(pred, dtype=onp.float64)
    if unseen_rating is not None:
        pred[unseen] = unseen_rating
    if clip:
        onp.clip(pred, *RATING_RANGE, out=pred)
    return pred


def autorec_evaluator(train_inter_mat, clip=False, unseen_rating=None):
    """Return the evaluator of AutoRec, with the signature of the chapter's
    ``evaluator(network, inter_matrix, test_data, devices)``.

    Without options it computes the chapter's RMSE as the chapter does
    (in float32); with them, from the adjusted predictions in float64.
    `train_inter_mat` (rows x columns, 0 where unrated) tells which rows
    and columns, items and users, have no training rating.
    """
    unrated = unseen_entries(onp.asarray(train_inter_mat))

    @use_np
    def evaluate(network, inter_matrix, test_data, devices):
        recons = reconstruct(network, inter_matrix, devices, test_data.ctx)
        if not clip and unseen_rating is None:
            return observed_rmse(test_data, recons)
        pred = adjust_predictions(recons.asnumpy(), unrated, clip,
                                  unseen_rating)
        return observed_rmse(test_data.asnumpy(), pred)
    return evaluate


@use_np
def rmse_evaluator(net, test_iter, devices, adjust=None):
    """Return the RMSE of MF `net` over every rating in `test_iter`
    (D2L §16.3).  `adjust`, the options of `mf_evaluator`, maps NumPy
    ``(predictions, users, items)`` to adjusted float64 predictions."""
    squared_error, count = 0., 0
    for batch in test_iter:
        for u, i, r in split_batch(batch, devices):
            pred = net(u, i)
            if adjust is None:
                squared_error += float(np.square(pred - r).sum())
            else:
                pred = adjust(pred.asnumpy(), u.asnumpy(), i.asnumpy())
                squared_error += float(((r.asnumpy() - pred) ** 2).sum())
            count += r.shape[0]
    return math.sqrt(squared_error / count)


def mf_evaluator(train_users, train_items, clip=False, unseen_rating=None):
    """Return `rmse_evaluator`, whose users and items not in
    `train_users`/`train_items` get `unseen_rating` and whose predictions
    are clipped if `clip`."""
    if not clip and unseen_rating is None:
        return rmse_evaluator
    seen_users = onp.unique(train_users)
    seen_items = onp.unique(train_items)

    def adjust(pred, users, items):
        unseen = (~onp.isin(users, seen_users)
                  | ~onp.isin(items, seen_items))
        return adjust_predictions(pred, unseen, clip, unseen_rating)
    return functools.partial(rmse_evaluator, adjust=adjust)
