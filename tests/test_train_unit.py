"""Unit tests of the model, the evaluator, the devices, the training loop
and the command line, on tiny inputs and the CPU (D2L §16.3/§16.4)."""
import io
import json
import re
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon
from mxnet.gluon import nn
from mxnet.gluon.data import ArrayDataset, DataLoader

from conftest import ratings_matrix

from d2lrec import cli
from d2lrec.autorec import AutoRec, evaluator
from d2lrec.config import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, Config
from d2lrec.devices import try_all_gpus, try_gpu
from d2lrec.experiment import train_and_evaluate
from d2lrec.loss import L2Loss
from d2lrec.train import train_recsys_rating

NUM_HIDDEN, NUM_USERS, NUM_ITEMS = 7, 6, 9


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def autorec():
    """A tiny AutoRec without dropout, initialized on the CPU, and its
    weights as float64 NumPy arrays ``(W1, b1, W2, b2)``."""
    mx.random.seed(1)
    net = AutoRec(NUM_HIDDEN, NUM_USERS, dropout=0)
    net.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.5))
    net(mx.np.zeros((1, NUM_USERS)))  # finish the deferred initialization
    weights = [p.data().asnumpy().astype(np.float64) for p in (
        net.encoder.weight, net.encoder.bias, net.decoder.weight,
        net.decoder.bias)]
    return net, weights


def numpy_forward(X, weights):
    W1, b1, W2, b2 = weights
    return sigmoid(X @ W1.T + b1) @ W2.T + b2


def test_autorec_training_forward_is_masked(autorec):
    net, weights = autorec
    X = ratings_matrix(np.random.RandomState(0), (NUM_ITEMS, NUM_USERS))
    mask = np.sign(X)
    assert 0 < mask.sum() < mask.size
    pred = numpy_forward(X.astype(np.float64), weights)
    with autograd.record(), autograd.train_mode():
        out = net(mx.np.array(X))
        loss = gluon.loss.L2Loss()(out, mx.np.array(X))
    np.testing.assert_allclose(out.asnumpy(), pred * mask, rtol=1e-5,
                               atol=1e-6)
    assert (out.asnumpy()[mask == 0] == 0).all()
    ref_loss = 0.5 * np.mean((pred * mask - X) ** 2, axis=1)
    assert loss.shape == (NUM_ITEMS,)
    np.testing.assert_allclose(loss.asnumpy(), ref_loss, rtol=1e-5,
                               atol=1e-7)

    # Only the observed ratings send gradient back (the point of AutoRec).
    loss.backward()
    ref_grad = ((pred * mask - X) * mask / NUM_USERS).sum(axis=0)
    np.testing.assert_allclose(net.decoder.bias.grad().asnumpy(),
                               ref_grad, rtol=1e-5, atol=1e-7)


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


def test_autorec_prediction_is_not_masked(autorec):
    net, weights = autorec
    X = ratings_matrix(np.random.RandomState(1), (NUM_ITEMS, NUM_USERS))
    out = net(mx.np.array(X))
    np.testing.assert_allclose(out.asnumpy(), numpy_forward(X, weights),
                               rtol=1e-5, atol=1e-6)
    assert (out.asnumpy()[X == 0] != 0).all()


def test_evaluator_is_the_masked_rmse(autorec):
    net, weights = autorec
    rng = np.random.RandomState(2)
    train = ratings_matrix(rng, (NUM_ITEMS, NUM_USERS))
    test = ratings_matrix(rng, (NUM_ITEMS, NUM_USERS), density=0.3)
    mask = np.sign(test)
    assert mask.sum() > 0
    pred = numpy_forward(train.astype(np.float64), weights)
    expected = np.sqrt(np.sum(mask * (test - pred) ** 2) / np.sum(mask))
    # Batches of 4, 4 and 1 rows: the last, short batch must count too.
    rmse = evaluator(net, DataLoader(train, batch_size=4), mx.np.array(test),
                     [mx.cpu()])
    assert isinstance(rmse, float)
    np.testing.assert_allclose(rmse, expected, rtol=1e-5)


def test_cpu_fallback_without_gpus(monkeypatch):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    assert try_all_gpus() == [mx.cpu()]
    assert try_gpu() == mx.cpu()
    assert try_gpu(1) == mx.cpu()


def test_gpus_when_there_are_some(monkeypatch):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 2)
    assert try_all_gpus() == [mx.gpu(0), mx.gpu(1)]
    assert try_gpu() == mx.gpu(0)
    assert try_gpu(1) == mx.gpu(1)
    assert try_gpu(2) == mx.cpu()


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


@pytest.mark.parametrize('args, option', [
    (['--hidden', '-1'], '--hidden'),
    (['--hidden', '2.5'], '--hidden'),
    (['--epochs', '0'], '--epochs'),
    (['--lr', '0'], '--lr'),
    (['--wd', '-1e-5'], '--wd'),
    (['--batch-size', 'x'], '--batch-size'),
    (['--test-ratio', '1.5'], '--test-ratio'),
    (['--test-ratio', '0'], '--test-ratio'),
    (['--dropout', '1'], '--dropout'),
    (['--dropout', '-0.1'], '--dropout'),
    (['--split', 'foo'], '--split'),
])
def test_cli_rejects_bad_values(capsys, args, option):
    with pytest.raises(SystemExit) as info:
        cli.main(['train', *args])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ''
    assert err.startswith('usage: python -m d2lrec train')
    assert f'error: argument {option}' in err


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith('usage: python -m d2lrec')


def test_cli_defaults_are_the_chapters():
    args = cli.make_parser().parse_args(['train'])
    assert cli.config_of(args, args.split_mode) == Config()
    config = Config()
    assert (config.model, config.hidden_layers, config.encoder_act,
            config.decoder_act, config.num_factors) == (
        'autorec', (500,), 'sigmoid', 'identity', 30)
    assert (config.lr, config.wd, config.dropout, config.lr_schedule) == (
        0.002, 1e-5, 0.05, None)
    assert (config.split_mode, config.test_ratio, config.seed) == (
        'random', 0.1, 0)
    assert (config.clip, config.unseen_rating) == (False, None)
    # None means the model's default: the chapter's for AutoRec.
    assert (config.num_epochs, config.batch_size) == (None, None)
    assert (DEFAULT_EPOCHS['autorec'], DEFAULT_BATCH_SIZE['autorec']) == (
        25, 256)
    assert (args.hidden, args.data_dir, args.json) == (None, None, False)
    assert train_and_evaluate.__defaults__[0] == Config()


def test_cli_accepts_edge_values():
    args = cli.make_parser().parse_args(
        ['train', '--dropout', '0', '--wd', '0', '--test-ratio', '0.5',
         '--split', 'seq-aware', '--seed', '-3'])
    assert (args.dropout, args.wd, args.test_ratio) == (0, 0, 0.5)
    assert (args.split_mode, args.seed) == ('seq-aware', -3)


def run_cli(capsys, argv):
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_cli_trains_and_prints_json(synthetic_ml100k, monkeypatch, capsys):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    root, _ = synthetic_ml100k
    argv = ['train', '--epochs', '2', '--json', '--data-dir', str(root),
            '--hidden', '8', '--batch-size', '16']
    status, out, err = run_cli(capsys, argv)
    assert status == 0
    result = json.loads(out[-1])
    assert {'test_rmse', 'train_loss', 'epochs', 'seconds',
            'devices'} <= set(result)
    assert result['epochs'] == 2 and len(result['history']) == 2
    assert result['devices'] == ['cpu(0)']
    assert 0 < result['test_rmse'] < 10 and 0 < result['train_loss'] < 10
    assert result['seconds'] > 0
    assert out[-3].startswith('train loss ')
    assert [line.split(':')[0] for line in err.splitlines()] == [
        'epoch 1/2', 'epoch 2/2']

    # The same seed gives the same result.
    status, out2, _ = run_cli(capsys, argv)
    again = json.loads(out2[-1])
    assert status == 0
    assert again['test_rmse'] == result['test_rmse']
    assert again['train_loss'] == result['train_loss']


def test_cli_without_json_prints_no_json(synthetic_ml100k, capsys):
    root, _ = synthetic_ml100k
    status, out, _ = run_cli(capsys, ['train', '--epochs', '1', '--hidden',
                                      '4', '--batch-size', '32',
                                      '--data-dir', str(root)])
    assert status == 0
    assert len(out) == 2 and out[0].startswith('train loss ')


def test_cli_batch_larger_than_the_data(synthetic_ml100k, capsys):
    root, _ = synthetic_ml100k  # 40 items, the default batch size is 256
    with pytest.raises(SystemExit) as info:
        cli.main(['train', '--epochs', '1', '--hidden', '4',
                  '--data-dir', str(root)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert 'usage:' in err
    assert 'batch size 256 is larger than the 40 rows' in err


def test_cli_reports_missing_data(synthetic_ml100k, tmp_path, capsys):
    # synthetic_ml100k points the download at a refused port.
    missing = tmp_path / 'nothing-here'
    status, out, err = run_cli(capsys, ['train', '--epochs', '1',
                                        '--data-dir', str(missing)])
    assert status == 1
    assert out == []
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('d2lrec: error: could not download ')
    assert 'refused' in lines[0].lower()
    assert str(missing / 'ml-100k.zip') in lines[0]
    assert 'Traceback' not in err


def test_python_m_d2lrec_rejects_bad_values(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-m', 'd2lrec', 'train', '--epochs', '0'],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ''
    assert proc.stderr.startswith('usage: python -m d2lrec train')
    assert 'argument --epochs: must be > 0' in proc.stderr
