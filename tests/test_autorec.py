"""The models of D2L §16.4 and its exercises (d2lrec.autorec): AutoRec
and its masked training forward, the evaluator, and DeepAutoRec (any
depth, any activations, item- or user-based), against NumPy."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, np
from mxnet.gluon.data import DataLoader

from d2lrec.autorec import AutoRec, evaluator
from d2lrec.lab.config import ACTIVATIONS
from d2lrec.lab.models import DeepAutoRec
from support import ratings_matrix


NUM_HIDDEN, NUM_USERS, NUM_ITEMS = 7, 6, 9


NUMPY_ACT = {'sigmoid': lambda x: 1 / (1 + onp.exp(-x)), 'tanh': onp.tanh,
             'relu': lambda x: onp.maximum(x, 0), 'identity': lambda x: x}


NUMPY_DECODER = {'sigmoid': lambda x: 1 + 4 / (1 + onp.exp(-x)),
                 'tanh': lambda x: 3 + 2 * onp.tanh(x),
                 'relu': NUMPY_ACT['relu'], 'identity': NUMPY_ACT['identity']}


@pytest.fixture
def autorec():
    """A tiny AutoRec without dropout, initialized on the CPU, and its
    weights as float64 NumPy arrays ``(W1, b1, W2, b2)``."""
    mx.random.seed(1)
    net = AutoRec(NUM_HIDDEN, NUM_USERS, dropout=0)
    net.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.5))
    net(np.zeros((1, NUM_USERS)))  # finish the deferred initialization
    weights = [p.data().asnumpy().astype(onp.float64) for p in (
        net.encoder.weight, net.encoder.bias, net.decoder.weight,
        net.decoder.bias)]
    return net, weights


def autorec_forward(X, weights):
    """AutoRec's prediction by NumPy, from its `weights`."""
    W1, b1, W2, b2 = weights
    return NUMPY_ACT['sigmoid'](X @ W1.T + b1) @ W2.T + b2


@pytest.mark.usefixtures('numpy_mode')  # gluon's own L2Loss, as the book
def test_autorec_training_forward_is_masked(autorec):
    net, weights = autorec
    X = ratings_matrix(onp.random.RandomState(0), (NUM_ITEMS, NUM_USERS))
    mask = onp.sign(X)
    assert 0 < mask.sum() < mask.size
    pred = autorec_forward(X.astype(onp.float64), weights)
    with autograd.record(), autograd.train_mode():
        out = net(np.array(X))
        loss = gluon.loss.L2Loss()(out, np.array(X))
    onp.testing.assert_allclose(out.asnumpy(), pred * mask, rtol=1e-5,
                                atol=1e-6)
    assert (out.asnumpy()[mask == 0] == 0).all()
    ref_loss = 0.5 * onp.mean((pred * mask - X) ** 2, axis=1)
    assert loss.shape == (NUM_ITEMS,)
    onp.testing.assert_allclose(loss.asnumpy(), ref_loss, rtol=1e-5,
                                atol=1e-7)

    # Only the observed ratings send gradient back (the point of AutoRec).
    loss.backward()
    ref_grad = ((pred * mask - X) * mask / NUM_USERS).sum(axis=0)
    onp.testing.assert_allclose(net.decoder.bias.grad().asnumpy(),
                                ref_grad, rtol=1e-5, atol=1e-7)


def test_autorec_prediction_is_not_masked(autorec):
    net, weights = autorec
    X = ratings_matrix(onp.random.RandomState(1), (NUM_ITEMS, NUM_USERS))
    out = net(np.array(X))
    onp.testing.assert_allclose(out.asnumpy(), autorec_forward(X, weights),
                                rtol=1e-5, atol=1e-6)
    assert (out.asnumpy()[X == 0] != 0).all()


def test_evaluator_is_the_masked_rmse(autorec):
    net, weights = autorec
    rng = onp.random.RandomState(2)
    train = ratings_matrix(rng, (NUM_ITEMS, NUM_USERS))
    test = ratings_matrix(rng, (NUM_ITEMS, NUM_USERS), density=0.3)
    mask = onp.sign(test)
    assert mask.sum() > 0
    pred = autorec_forward(train.astype(onp.float64), weights)
    expected = onp.sqrt(onp.sum(mask * (test - pred) ** 2) / onp.sum(mask))
    # Batches of 4, 4 and 1 rows: the last, short batch must count too.
    rmse = evaluator(net, DataLoader(train, batch_size=4), np.array(test),
                     [mx.cpu()])
    assert isinstance(rmse, float)
    onp.testing.assert_allclose(rmse, expected, rtol=1e-5)


def dense_params(net):
    """(weight, bias) of each Dense layer, input to output, as NumPy."""
    layers = [layer for layer in net.encoder if hasattr(layer, 'weight')]
    return [(layer.weight.data().asnumpy(), layer.bias.data().asnumpy())
            for layer in layers + [net.decoder]]


def numpy_forward(net, X, encoder_act, decoder_act):
    *hidden, (W, b) = dense_params(net)
    for V, mu in hidden:
        X = NUMPY_ACT[encoder_act](X @ V.T + mu)
    return NUMPY_DECODER[decoder_act](X @ W.T + b)


@pytest.mark.parametrize('layers', [(7,), (7, 5), (7, 3, 7)])
@pytest.mark.parametrize('encoder_act,decoder_act', [
    ('sigmoid', 'identity'), ('tanh', 'sigmoid'), ('relu', 'tanh'),
    ('identity', 'relu')])
def test_deep_autorec_matches_numpy(layers, encoder_act, decoder_act):
    X = ratings_matrix(onp.random.RandomState(0), (4, 6))
    net = DeepAutoRec(layers, 6, encoder_act, decoder_act, dropout=0)
    net.initialize(init=mx.init.Normal(0.5))
    pred = net(np.array(X))  # also ends the deferred initialization
    expected = numpy_forward(net, X, encoder_act, decoder_act)
    assert pred.shape == (4, 6)
    onp.testing.assert_allclose(pred.asnumpy(), expected,
                                rtol=1e-5, atol=1e-5)
    with autograd.record(), autograd.train_mode():
        masked = net(np.array(X)).asnumpy()
    onp.testing.assert_allclose(masked, expected * (X != 0), rtol=1e-5,
                                atol=1e-5)
    assert (masked[X == 0] == 0).all()


def test_one_layer_deep_autorec_is_the_chapters_autorec():
    X = np.array(ratings_matrix(onp.random.RandomState(0), (5, 8)))
    outputs = []
    for net in (AutoRec(6, 8), DeepAutoRec((6,), 8)):
        mx.random.seed(3)
        net.initialize(init=mx.init.Normal(0.01))
        with autograd.record(), autograd.train_mode():  # with dropout
            mx.random.seed(4)
            outputs.append(net(X).asnumpy())
    onp.testing.assert_array_equal(outputs[0], outputs[1])


@pytest.mark.parametrize('kwargs', [dict(encoder_act='softmax'),
                                    dict(decoder_act='elu'),
                                    dict(hidden_layers=()),
                                    dict(hidden_layers=(5, 0))])
def test_deep_autorec_rejects_bad_configurations(kwargs):
    args = {'hidden_layers': (5,), 'num_outputs': 3, **kwargs}
    with pytest.raises(ValueError):
        DeepAutoRec(**args)
    assert set(ACTIVATIONS) == {'sigmoid', 'tanh', 'relu', 'identity'}
