"""The evaluators of d2lrec's runs, one per model kind, with two options
of the standard rating-prediction protocols, off in the chapter (D2L
§16.4) and on in the tuned preset.

- `unseen_rating`: a test rating whose user or item has no rating in the
  training set is predicted as this constant.  The AutoRec paper (Sedhain
  et al., 2015) uses 3, the middle of the 1-5 scale.
- `clip`: predictions are clipped to the rating range [1, 5].

`autorec_evaluator` gives the test RMSE of the chapter's ``evaluator``
(kept verbatim in `d2lrec.autorec` for the notebook), bit for bit when
both options are off, from the same forward passes and arithmetic,
without copying each of the 1682 rows through Python.  `mf_evaluator` is
`d2lrec.mf.rmse_evaluator` with the options.
"""
import functools
import math

import numpy as onp
from mxnet import np
from mxnet.util import use_np

from d2lrec.devices import split_batch
from d2lrec.mf import rmse_evaluator
from d2lrec.movielens import RATING_RANGE


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


def reconstruct(network, inter_matrix, devices, ctx):
    """Return `network`'s reconstruction of the rows of `inter_matrix`
    (the batches of rows that the chapter's evaluator reads, each split
    over `devices`), as one array on `ctx`."""
    return np.concatenate([network(part).as_in_ctx(ctx)
                           for values in inter_matrix
                           for (part,) in split_batch([values], devices)])


def autorec_evaluator(train_inter_mat, clip=False, unseen_rating=None):
    """Return the evaluator of AutoRec, with the signature of the chapter's
    ``evaluator(network, inter_matrix, test_data, devices)``.

    Without options it computes the chapter's RMSE as the chapter does
    (in float32); with them, from the adjusted predictions in float64.
    `train_inter_mat` (rows x columns, 0 where unrated) tells which rows
    and columns, items and users, have no training rating.
    """
    train = onp.asarray(train_inter_mat)
    unseen = ((train == 0).all(axis=1)[:, None]
              | (train == 0).all(axis=0)[None, :])

    @use_np
    def evaluate(network, inter_matrix, test_data, devices):
        recons = reconstruct(network, inter_matrix, devices, test_data.ctx)
        if not clip and unseen_rating is None:
            return float(np.sqrt(
                np.sum(np.square(test_data - np.sign(test_data) * recons))
                / np.sum(np.sign(test_data))))
        pred = adjust_predictions(recons.asnumpy(), unseen, clip,
                                  unseen_rating)
        test = test_data.asnumpy()
        observed = test != 0
        return math.sqrt(((test - pred)[observed] ** 2).sum()
                         / observed.sum())
    return evaluate


def mf_evaluator(train_users, train_items, clip=False, unseen_rating=None):
    """Return `d2lrec.mf.rmse_evaluator`, whose users and items not in
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
