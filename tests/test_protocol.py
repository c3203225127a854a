"""The evaluation protocols beyond the chapter (d2lrec.protocol):
clipping and a rating for unseen users and items, against NumPy."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from d2lrec.protocol import adjust_predictions, autorec_evaluator


def test_adjust_predictions_against_numpy():
    pred = onp.array([[0.2, 3.3], [6.1, 4.0]])
    unseen = onp.array([[False, True], [False, False]])
    onp.testing.assert_array_equal(
        adjust_predictions(pred, unseen, clip=True, unseen_rating=3),
        [[1, 3], [5, 4]])
    onp.testing.assert_array_equal(adjust_predictions(pred, unseen), pred)


class Constant:
    """A stand-in network that predicts a fixed matrix."""

    def __init__(self, pred):
        self.pred = pred

    def __call__(self, X):
        return np.array(self.pred[:X.shape[0]])


def test_autorec_evaluator_options_against_numpy():
    train = onp.array([[5, 0, 0], [0, 0, 0], [3, 0, 1]], dtype='float32')
    test = onp.array([[0, 4, 2], [5, 0, 0], [0, 1, 0]], dtype='float32')
    pred = onp.array([[4.5, 7.0, 0.0], [2.0, 2.0, 2.0], [1, -1, 1]],
                     dtype='float32')
    inter = [np.array(train)]
    # item 1 (row) and user 1 (column) have no training rating
    unseen = onp.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    expected = onp.clip(onp.where(unseen, 3, pred), 1, 5)
    mask = test != 0
    rmse = onp.sqrt((((test - expected) * mask) ** 2).sum() / mask.sum())
    evaluate = autorec_evaluator(train, clip=True, unseen_rating=3)
    assert evaluate(Constant(pred), inter, np.array(test),
                    [mx.cpu()]) == pytest.approx(rmse, rel=1e-6)
    plain = onp.sqrt((((test - pred) * mask) ** 2).sum() / mask.sum())
    assert autorec_evaluator(train)(Constant(pred), inter, np.array(test),
                                    [mx.cpu()]) == pytest.approx(plain,
                                                                 rel=1e-6)
