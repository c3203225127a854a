"""The chapter's squared loss, ``gluon.loss.L2Loss()``, computed faster
(D2L §16.3/§16.4).

d2lrec replaces gluon's `L2Loss` in its own runs because MXNet 1.9's CPU
kernels for a mean along rows, and for the backward pass of
broadcasting, make it a large share of AutoRec's training step.  Here
the mean is a matrix-vector product: the gradients are gluon's bit for
bit (tests/test_loss.py), the loss values agree up to rounding.  How
much faster: docs/speed.md.
"""
from mxnet import np
from mxnet.util import use_np


@use_np
class L2Loss:
    """``0.5 * (pred - label) ** 2``, averaged over all axes but the first:
    one value per example, as ``gluon.loss.L2Loss()`` (no weights)."""

    def __call__(self, pred, label):
        squared = np.square(pred - label.reshape(pred.shape))
        if pred.ndim == 1:  # one rating per example (MF)
            return 0.5 * squared
        squared = squared.reshape(pred.shape[0], -1)
        num = squared.shape[1]
        return np.dot(squared, np.full(num, 0.5 / num, ctx=pred.ctx))
