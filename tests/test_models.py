"""The exercise models against NumPy: DeepAutoRec (any depth, any
activations, item- or user-based) and §16.3's MF, plus their runner."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, np

from conftest import ratings_matrix

from d2lrec.autorec import AutoRec, DeepAutoRec
from d2lrec.config import ACTIVATIONS
from d2lrec.data import ArrayLoader
from d2lrec.experiment import train_and_evaluate
from d2lrec.mf import MF, rmse_evaluator, split_and_load_ml100k

NUMPY_ACT = {'sigmoid': lambda x: 1 / (1 + onp.exp(-x)), 'tanh': onp.tanh,
             'relu': lambda x: onp.maximum(x, 0), 'identity': lambda x: x}
NUMPY_DECODER = {'sigmoid': lambda x: 1 + 4 / (1 + onp.exp(-x)),
                 'tanh': lambda x: 3 + 2 * onp.tanh(x),
                 'relu': NUMPY_ACT['relu'], 'identity': NUMPY_ACT['identity']}


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


def test_mf_matches_numpy_and_rmse():
    net = MF(4, num_users=5, num_items=7)
    net.initialize(init=mx.init.Normal(0.5))
    P, Q = net.P.weight.data().asnumpy(), net.Q.weight.data().asnumpy()
    bu = net.user_bias.weight.data().asnumpy()[:, 0]
    bi = net.item_bias.weight.data().asnumpy()[:, 0]
    users, items = onp.array([0, 4, 2, 2]), onp.array([6, 0, 3, 3])
    expected = (P[users] * Q[items]).sum(1) + bu[users] + bi[items]
    pred = net(np.array(users), np.array(items))
    assert pred.shape == (4,)
    onp.testing.assert_allclose(pred.asnumpy(), expected, rtol=1e-5)
    scores = onp.array([5, 1, 3, 4], dtype='float32')
    test_iter = ArrayLoader((users, items, scores), batch_size=3)
    rmse = rmse_evaluator(net, test_iter, [mx.cpu()])
    assert rmse == pytest.approx(
        onp.sqrt(onp.mean((expected - scores) ** 2)), rel=1e-5)


def test_array_loader_rollover_and_keep():
    users = onp.arange(10)
    onp.random.seed(0)
    loader = ArrayLoader((users, users, users), batch_size=4, shuffle=True,
                         last_batch='rollover')
    first = [b[0].asnumpy() for b in loader]
    second = [b[0].asnumpy() for b in loader]
    assert [len(b) for b in first] == [4, 4]  # 2 left over
    assert [len(b) for b in second] == [4, 4, 4]  # 2 + 10 = 12
    seen = onp.concatenate(first + second)
    assert sorted(seen) == sorted(list(range(10)) * 2)
    assert len(set(seen[:8])) == 8
    keep = ArrayLoader((users, users, users.astype('float32')), batch_size=4)
    batches = list(keep)
    assert [len(b[0]) for b in batches] == [4, 4, 2] and len(keep) == 3
    assert batches[0][2].dtype == onp.float32
    onp.testing.assert_array_equal(batches[2][1].asnumpy(), [8, 9])


@pytest.mark.parametrize('last_batch', ['rollover', 'keep'])
def test_array_loader_gives_the_dataloaders_batches(last_batch):
    """Training on either is the same: same batches, same random draws."""
    rows = ratings_matrix(onp.random.RandomState(0), (23, 5))
    batches = {}
    for name, loader in (
            ('gluon', gluon.data.DataLoader(rows, batch_size=4, shuffle=True,
                                            last_batch=last_batch)),
            ('d2lrec', ArrayLoader((rows,), batch_size=4, shuffle=True,
                                   last_batch=last_batch))):
        onp.random.seed(3)
        batches[name] = [(len(loader), [b[0] if isinstance(b, list) else b
                                        for b in loader])
                         for _ in range(3)]  # epochs
        batches[name].append(onp.random.uniform())  # the generator's state
    gluon_batches, d2lrec_batches = batches['gluon'], batches['d2lrec']
    assert gluon_batches[-1] == d2lrec_batches[-1]
    for (length, ours), (their_length, theirs) in zip(d2lrec_batches[:-1],
                                                      gluon_batches[:-1]):
        assert length == their_length and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype == onp.float32
            onp.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_split_and_load_gives_triples(synthetic_ml100k):
    root, df = synthetic_ml100k
    num_users, num_items, train_iter, test_iter = split_and_load_ml100k(
        'random', test_ratio=0.2, batch_size=16, data_dir=root)
    assert (num_users, num_items) == (df.user_id.nunique(),
                                      df.item_id.nunique())
    test = [onp.concatenate([b[k].asnumpy() for b in test_iter])
            for k in range(3)]
    train = [onp.concatenate([b[k].asnumpy() for b in train_iter])
             for k in range(3)]
    assert len(test[0]) + len(train[0]) + len(df) % 16 >= len(df) - 16
    assert test[0].min() >= 0 and test[1].max() < num_items
    assert set(onp.unique(test[2])) <= {1, 2, 3, 4, 5}


@pytest.mark.parametrize('model', ['autorec', 'uautorec', 'mf'])
def test_every_model_trains_on_the_same_split(synthetic_ml100k, model):
    root, df = synthetic_ml100k
    kwargs = dict(model=model, hidden_layers=(8, 4, 8), num_factors=3,
                  num_epochs=2, batch_size=8, data_dir=root, plot=False)
    result = train_and_evaluate(**kwargs)
    assert result['model'] == model and result['epochs'] == 2
    assert onp.isfinite(result['test_rmse'])
    assert train_and_evaluate(**kwargs)['test_rmse'] == result['test_rmse']


def test_user_based_autorec_reconstructs_users(synthetic_ml100k, monkeypatch):
    root, df = synthetic_ml100k
    shapes = []
    original = DeepAutoRec.forward

    def recording_forward(self, input):
        shapes.append(input.shape)
        return original(self, input)

    monkeypatch.setattr(DeepAutoRec, 'forward', recording_forward)
    train_and_evaluate(model='uautorec', hidden_layers=(4,), num_epochs=1,
                       batch_size=8, data_dir=root, plot=False)
    num_users, num_items = df.user_id.nunique(), df.item_id.nunique()
    assert shapes[0] == (8, num_items)  # a batch of users' rows
    assert shapes[-1] == (num_users, num_items)  # evaluation: all users


def test_unknown_model_is_refused(synthetic_ml100k):
    with pytest.raises(ValueError, match='model must be one of'):
        train_and_evaluate(model='svd', data_dir=synthetic_ml100k[0])
