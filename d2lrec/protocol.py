"""Two options of the standard rating-prediction protocols, off in the
chapter (D2L §16.4) and on in the tuned preset.

- `unseen_rating`: a test rating whose user or item has no rating in the
  training set is predicted as this constant.  The AutoRec paper (Sedhain
  et al., 2015) uses 3, the middle of the 1-5 scale.
- `clip`: predictions are clipped to the rating range [1, 5].

With both off the chapter's evaluators are used unchanged.
"""
import math

import numpy as onp

from d2lrec.devices import split_batch
from d2lrec.movielens import RATING_RANGE
from d2lrec.mf import rmse_evaluator
from d2lrec.autorec import evaluator


def adjust_predictions(pred, unseen, clip=False, unseen_rating=None):
    """Return NumPy `pred` with `unseen` entries set to `unseen_rating`
    (if given) and everything clipped to `RATING_RANGE` (if `clip`)."""
    pred = onp.array(pred, dtype=onp.float64)
    if unseen_rating is not None:
        pred[unseen] = unseen_rating
    if clip:
        onp.clip(pred, *RATING_RANGE, out=pred)
    return pred


def autorec_evaluator(train_inter_mat, clip=False, unseen_rating=None):
    """Return an evaluator with the signature of the chapter's
    ``evaluator(network, inter_matrix, test_data, devices)``.

    `train_inter_mat` (rows x columns, 0 where unrated) tells which rows
    and columns, items and users, have no training rating.
    """
    if not clip and unseen_rating is None:
        return evaluator
    train = onp.asarray(train_inter_mat.asnumpy()
                        if hasattr(train_inter_mat, 'asnumpy')
                        else train_inter_mat)
    unseen = ((train == 0).all(axis=1)[:, None]
              | (train == 0).all(axis=0)[None, :])

    def evaluate(network, inter_matrix, test_data, devices):
        parts = [network(part).asnumpy() for values in inter_matrix
                 for (part,) in split_batch([values], devices)]
        pred = adjust_predictions(onp.concatenate(parts), unseen, clip,
                                  unseen_rating)
        test = test_data.asnumpy()
        observed = test != 0
        return math.sqrt(((test - pred)[observed] ** 2).sum()
                         / observed.sum())
    return evaluate


def mf_evaluator(train_users, train_items, clip=False, unseen_rating=None):
    """Return an evaluator like `d2lrec.mf.rmse_evaluator` whose users
    and items not in `train_users`/`train_items` get `unseen_rating`."""
    if not clip and unseen_rating is None:
        return rmse_evaluator
    seen_users = onp.unique(train_users)
    seen_items = onp.unique(train_items)

    def evaluate(net, test_iter, devices):
        squared_error, count = 0., 0
        for batch in test_iter:
            for u, i, r in split_batch(batch, devices):
                unseen = (~onp.isin(u.asnumpy(), seen_users)
                          | ~onp.isin(i.asnumpy(), seen_items))
                pred = adjust_predictions(net(u, i).asnumpy(), unseen, clip,
                                          unseen_rating)
                squared_error += float(((r.asnumpy() - pred) ** 2).sum())
                count += len(pred)
        return math.sqrt(squared_error / count)
    return evaluate
