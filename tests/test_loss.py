"""The loss (d2lrec.lab.loss.L2Loss) against NumPy and Gluon's."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon

from d2lrec.lab.loss import L2Loss

# These tests run gluon's own layers and loss beside d2lrec's, as the
# book writes them: after npx.set_np().
pytestmark = pytest.mark.usefixtures('numpy_mode')


@pytest.mark.parametrize('shape', [(5, 943), (4, 3, 2), (7,)])
def test_l2loss_matches_numpy(shape):
    rng = np.random.RandomState(3)
    pred, label = (rng.normal(size=shape).astype(np.float32)
                   for _ in range(2))
    out = L2Loss()(mx.np.array(pred), mx.np.array(label))
    axes = tuple(range(1, len(shape)))
    ref = 0.5 * np.mean((pred.astype(np.float64) - label) ** 2, axis=axes)
    assert out.shape == shape[:1]
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('shape', [(256, 943), (3, 6), (9,)])
def test_l2loss_gradient_is_gluons_bit_for_bit(shape):
    """What makes d2lrec's runs equal to the book's: the same gradient."""
    rng = np.random.RandomState(4)
    label = mx.np.array(rng.randint(0, 6, shape).astype(np.float32))
    grads = []
    for loss in (gluon.loss.L2Loss(), L2Loss()):
        pred = mx.np.array(rng.normal(size=shape).astype(np.float32)
                           if not grads else grads[0][0])
        pred.attach_grad()
        with autograd.record():
            l = loss(pred, label)
        l.backward()
        grads.append((pred.asnumpy(), pred.grad.asnumpy()))
    assert (grads[0][1] == grads[1][1]).all()
    assert np.abs(grads[0][1]).max() > 0
