"""d2lrec.lab.evaluation: the RMSE over observed ratings, and the evaluation
protocols' options beyond the chapter (clipping, a rating for unseen
users and items), against NumPy."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from d2lrec.lab.evaluation import (adjust_predictions, autorec_evaluator,
                                   observed_rmse)


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


def test_observed_rmse_counts_the_observed_entries_only(numpy_mode):
    """In MXNet (float32) and NumPy (float64), against the RMSE computed
    rating by rating; the chapter's expression, bit for bit."""
    rng = onp.random.default_rng(0)
    test = rng.integers(1, 6, (20, 30)) * (rng.random((20, 30)) < 0.2)
    pred = rng.normal(3, 1, (20, 30))
    errors = [(pred[i, j] - test[i, j]) ** 2 for i in range(20)
              for j in range(30) if test[i, j]]
    expected = (sum(errors) / len(errors)) ** 0.5
    assert observed_rmse(test.astype(float), pred) == pytest.approx(
        expected, rel=1e-12)
    test_mx, pred_mx = (np.array(test, dtype='float32'),
                        np.array(pred, dtype='float32'))
    chapter = float(np.sqrt(
        np.sum(np.square(test_mx - np.sign(test_mx) * pred_mx))
        / np.sum(np.sign(test_mx))))
    assert observed_rmse(test_mx, pred_mx) == chapter
    assert chapter == pytest.approx(expected, rel=1e-5)
