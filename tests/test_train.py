"""The training loop of D2L §16.3/§16.4 (d2lrec.train): the mean loss
per example, what it reports, and training that diverges, on tiny inputs
and the CPU."""
import io
import re

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon
from mxnet.gluon import nn
from mxnet.gluon.data import ArrayDataset, DataLoader

from d2lrec.autorec import AutoRec, evaluator
from d2lrec.train import (DivergenceError, _check_diverged,
                          train_recsys_rating)
from support import ratings_matrix

# These tests run gluon's own layers and loss beside d2lrec's, as the
# book writes them: after npx.set_np().
pytestmark = pytest.mark.usefixtures('numpy_mode')


class RecordingEvaluator:
    """Returns 0.5, 0.625, ... and records its arguments."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        return 0.5 + 0.125 * (len(self.calls) - 1)


def frozen_dense(units, X, devices=(mx.cpu(),)):
    """A Dense net on `devices` with an SGD trainer of learning rate 0, so
    the loss per example is known; also its float64 ``(W, b)``."""
    mx.random.seed(3)
    net = nn.Dense(units)
    net.initialize(ctx=list(devices), init=mx.init.Normal(0.5))
    net(mx.np.array(X[:1]))
    trainer = gluon.Trainer(net.collect_params(), 'sgd',
                            {'learning_rate': 0.0})
    W, b = (p.data().asnumpy().astype(np.float64)
            for p in (net.weight, net.bias))
    return net, trainer, W, b


@pytest.mark.parametrize('devices', [[mx.cpu()], [mx.cpu(0), mx.cpu(1)]],
                         ids=['one-device', 'two-devices'])
def test_train_reports_the_mean_loss_per_example(capsys, devices):
    X = np.random.RandomState(4).uniform(size=(10, 5)).astype(np.float32)
    net, trainer, W, b = frozen_dense(5, X, devices)
    per_example = 0.5 * np.mean((X @ W.T + b - X) ** 2, axis=1)
    # Batches of 4, 4 and 2 rows (halves on two devices): the mean of the
    # batch means differs.
    batch_means = [per_example[s].mean() for s in
                   (slice(0, 4), slice(4, 8), slice(8, 10))]
    assert abs(np.mean(batch_means) - per_example.mean()) > 1e-3
    train_iter = DataLoader(X, batch_size=4, shuffle=False,
                            last_batch='keep')
    test_iter = DataLoader(X, batch_size=3)
    inter_mat = mx.np.array(X)
    evaluate, progress = RecordingEvaluator(), io.StringIO()
    history = train_recsys_rating(
        net, train_iter, test_iter, gluon.loss.L2Loss(), trainer, 3,
        devices, evaluate, plot=False, progress=progress,
        inter_mat=inter_mat)

    assert len(history) == 3
    assert [h['epoch'] for h in history] == [1, 2, 3]
    for h in history:
        assert h['examples'] == 10
        assert h['seconds'] > 0
        np.testing.assert_allclose(h['train_loss'], per_example.mean(),
                                   rtol=1e-5)
    assert [h['test_rmse'] for h in history] == [0.5, 0.625, 0.75]
    assert len(evaluate.calls) == 3
    for args in evaluate.calls:
        assert len(args) == 4
        assert args[0] is net and args[1] is test_iter
        assert args[2] is inter_mat and args[3] == devices

    lines = progress.getvalue().splitlines()
    assert len(lines) == 3
    for k, line in enumerate(lines, 1):
        assert re.fullmatch(rf'epoch {k}/3: train loss \d+\.\d{{4}}, test '
                            r'RMSE \d\.\d{4}, \d+\.\d examples/sec', line)
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == (f'train loss {per_example.mean():.3f}, '
                       f'test RMSE 0.750')
    assert per_example.mean() > 0.01  # so that it does not print 0.000
    assert re.fullmatch(rf'\d+\.\d examples/sec on {re.escape(str(devices))}',
                        out[-1])


def test_train_with_features_and_labels(monkeypatch, capsys):
    """Batches of (features, label); no inter_mat; default devices."""
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    rng = np.random.RandomState(5)
    X = rng.uniform(size=(7, 3)).astype(np.float32)
    y = rng.uniform(1, 5, size=7).astype(np.float32)
    net, trainer, W, b = frozen_dense(1, X)
    per_example = 0.5 * ((X @ W.T + b)[:, 0] - y) ** 2
    train_iter = DataLoader(ArrayDataset(X, y), batch_size=3)
    evaluate = RecordingEvaluator()
    history = train_recsys_rating(net, train_iter, 'test-iter',
                                  gluon.loss.L2Loss(), trainer, 2,
                                  evaluator=evaluate, plot=False)
    assert len(history) == 2
    assert [h['examples'] for h in history] == [7, 7]
    np.testing.assert_allclose(history[-1]['train_loss'],
                               per_example.mean(), rtol=1e-5)
    assert evaluate.calls == [(net, 'test-iter', [mx.cpu()])] * 2
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == (f'train loss {per_example.mean():.3f}, '
                       'test RMSE 0.625')
    assert out[-1].endswith(' examples/sec on [cpu(0)]')


def test_train_learns_with_a_real_learning_rate():
    """With a positive learning rate the parameters do change (so the
    learning-rate-0 tests above do not pass for a frozen loop)."""
    X = np.random.RandomState(6).uniform(size=(8, 4)).astype(np.float32)
    net, _, W, _ = frozen_dense(4, X)
    trainer = gluon.Trainer(net.collect_params(), 'sgd',
                            {'learning_rate': 0.5})
    history = train_recsys_rating(
        net, DataLoader(X, batch_size=4), None, gluon.loss.L2Loss(),
        trainer, 5, [mx.cpu()], lambda *args: 1.0, plot=False)
    assert not np.allclose(net.weight.data().asnumpy(), W)
    assert history[-1]['train_loss'] < history[0]['train_loss']


# Training that diverges (D2L §16.3/§16.4) --------------------------------

def tiny_autorec(optimizer, lr):
    mx.random.seed(0)
    X = ratings_matrix(np.random.RandomState(0), (20, 8))
    net = AutoRec(6, 8, dropout=0)
    net.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.01))
    trainer = gluon.Trainer(net.collect_params(), optimizer,
                            {'learning_rate': lr})
    return net, trainer, X


@pytest.mark.parametrize('optimizer, lr, shown, figure', [
    ('sgd', 1e12, 'lr=1e+12', r'the mean train loss is (nan|inf)'),
    ('adam', 1e20, 'lr=1e+20', r'the mean train loss is (nan|inf)'),
    # Adam's steps are at most about lr: a finite blow-up
    ('adam', 1e9, 'lr=1e+09', r'the test RMSE is \d\.\d+e\+09, more than '
                              r'4, the width of the rating scale 1-5\. '),
])
def test_absurd_learning_rate_raises_divergence(optimizer, lr, shown,
                                                figure, capsys):
    net, trainer, X = tiny_autorec(optimizer, lr)
    with pytest.raises(DivergenceError) as info:
        train_recsys_rating(
            net, DataLoader(X, batch_size=5), DataLoader(X, batch_size=5),
            gluon.loss.L2Loss(), trainer, 3, [mx.cpu()], evaluator,
            plot=False, inter_mat=mx.np.array(X))
    message = str(info.value)
    assert re.match(f'training diverged in epoch 1/3: {figure}', message)
    assert f'Likely cause: learning rate too high? got {shown}' in message
    assert isinstance(info.value, ArithmeticError)
    assert 'train loss' not in capsys.readouterr().out  # no summary


SCALE = ', more than 4, the width of the rating scale 1-5'


@pytest.mark.parametrize('bad, shown', [
    (float('nan'), 'nan'), (float('inf'), 'inf'), (float('-inf'), '-inf'),
    (4.001, '4.001' + SCALE), (7.3e11, '7.3e+11' + SCALE)])
def test_unusable_test_rmse_raises_divergence(bad, shown):
    """An RMSE of 4 (epoch 1) can come from predictions within 1-5; more
    cannot: the model is not usable, even when its RMSE is finite."""
    X = np.random.RandomState(4).uniform(size=(10, 5)).astype(np.float32)
    net, trainer, _, _ = frozen_dense(X.shape[1], X)
    rmses = iter([4.0, bad, 1.0])
    with pytest.raises(DivergenceError) as info:
        train_recsys_rating(net, DataLoader(X, batch_size=4), None,
                            gluon.loss.L2Loss(), trainer, 3, [mx.cpu()],
                            lambda *args: next(rmses), plot=False)
    assert str(info.value) == (
        f'training diverged in epoch 2/3: the test RMSE is {shown}. Likely '
        f'cause: learning rate too high? got lr=0; lower it (the '
        f"chapter's Adam uses 0.002), re-initialize the model and train "
        f'again.')


def test_an_epoch_without_test_rmse_is_judged_by_its_loss():
    """An epoch that was not evaluated (test RMSE None) is checked on its
    train loss alone."""
    _, trainer, _, _ = frozen_dense(2, np.zeros((1, 2), dtype=np.float32))
    assert _check_diverged(1, 3, 0.5, None, trainer) is None
    with pytest.raises(DivergenceError) as info:
        _check_diverged(2, 3, float('inf'), None, trainer)
    assert str(info.value).startswith('training diverged in epoch 2/3: '
                                      'the mean train loss is inf. Likely')


def test_overflowing_train_loss_raises_divergence():
    X = np.random.RandomState(4).uniform(size=(6, 3)).astype(np.float32)
    net, trainer, _, _ = frozen_dense(X.shape[1], X)

    def loss(pred, label):  # e**100 overflows float32: inf
        return mx.np.exp(100 + ((pred - label) ** 2).mean(axis=1))
    with pytest.raises(DivergenceError) as info:
        train_recsys_rating(net, DataLoader(X, batch_size=6), None, loss,
                            trainer, 2, [mx.cpu()], lambda *args: 1.0,
                            plot=False)
    # MXNet's (compensated) sum of inf is nan, hence "nan" here.
    assert str(info.value).startswith('training diverged in epoch 1/2: the '
                                      'mean train loss is nan. Likely ')


def test_finite_training_is_not_stopped():
    net, trainer, X = tiny_autorec('adam', 0.01)
    history = train_recsys_rating(
        net, DataLoader(X, batch_size=5), DataLoader(X, batch_size=5),
        gluon.loss.L2Loss(), trainer, 3, [mx.cpu()], evaluator,
        plot=False, inter_mat=mx.np.array(X))
    assert len(history) == 3
